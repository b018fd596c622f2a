"""Invented Chinese names of the demo county: county, towns, villages, groups, grid owners.

No real place or company is meant.
"""

from __future__ import annotations

import numpy as np

COUNTY_NAME = "示范县"
TOWNS = ("天河镇", "响水镇", "店岭镇", "石门镇", "白沙镇", "枫林镇", "龙潭镇",
         "铁溪镇", "青枫乡", "莲塘乡", "黄柏乡", "来凤乡", "毛竹乡", "汤池乡")
"""The county's towns (乡镇); the first is the county seat."""
GRID_OWNERS = ("县供电公司", "县供电公司", "县供电公司", "皖源电力安装有限公司",
               "天河电力工程有限公司")
"""Owners of rural grid works, drawn uniformly (the county utility three times in five)."""

_FIRST = ("石黄白青龙凤马牛花金银团茶桃杨松枫竹桂梅兰柳槐杉岩云"
          "平新和联光明高大双太红永兴安长古清月星泉鹤鹰狮象虎")
_SECOND = "岭冲畈坪湾岗溪坳塘桥河山林庄园源川岩峰关口店坂坦铺寨洼沟垄"
_PLACES = ("上湾", "下湾", "大屋", "老屋", "新屋", "中屋", "枫树", "竹园", "河边", "岭头", "冲口",
           "冲里", "石门", "塘坎", "茶园", "松树", "高岭", "庙前", "桥头", "岩下", "坳里", "杨树",
           "畈上", "坪上", "垄口", "山脚", "井边", "楼下", "祠堂", "大湾", "小湾", "前山", "后山",
           "西冲", "东冲", "檀树", "栗树", "桑园", "洼里", "岗上")


def seat_village_name(town: str) -> str:
    """Name of the village holding a town's seat (the town's name stem + 村)."""
    return town[:2] + "村"


def village_names(rng: np.random.Generator, n: int, reserved: set[str]) -> list[str]:
    """``n`` distinct two-character village names + 村, none of them in ``reserved``."""
    names: list[str] = []
    seen = set(reserved)
    while len(names) < n:
        name = _FIRST[rng.integers(len(_FIRST))] + _SECOND[rng.integers(len(_SECOND))] + "村"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def group_names(rng: np.random.Generator, village: str, n: int) -> list[str]:
    """Names of a village's ``n`` groups (n <= 40): numbered (某村第1组) or after local places
    (上湾组)."""
    if rng.random() < 0.55:
        return [f"{village}第{k + 1}组" for k in range(n)]
    return [_PLACES[i] + "组" for i in rng.permutation(len(_PLACES))[:n]]
