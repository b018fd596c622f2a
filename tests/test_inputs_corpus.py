"""Files as county offices hand them over: each variant is accepted (and read correctly)
or refused with the message a user needs.

Every variant is built by code from a small county cut out of the demo county
(``tests/inputs_corpus_county.py``): Excel ledgers with title rows and Chinese headers,
GBK CSVs, full-width values, bands written by frequency, GCJ-02/BD-09/DMS coordinates,
Excel-damaged IDs, works lists as workbooks, drive tests with "no service", terrain tiles,
GBK Shapefiles without .cpg. An accepted variant validates with no error and its values
arrive converted; a refused one exits with code 2 through the CLI, names the file and
writes nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import rasterio
from inputs_corpus_county import build_small_county
from rasterio.windows import Window

from coverage.config import Config
from coverage.io import readers
from coverage.io.chinacoords import wgs84_to_bd09, wgs84_to_gcj02
from coverage.schema import LAYERS_BY_KEY
from coverage.study import validate_data_dir

pytestmark = pytest.mark.filterwarnings(
    "ignore:Column names longer than 10:UserWarning",
    "ignore:Normalized/laundered field name:RuntimeWarning",
    "ignore:.*One or several characters couldn't be converted.*:RuntimeWarning",
)

SITES_ZH = {"site_id": "站点编号", "operator": "运营商", "lon": "经度", "lat": "纬度",
            "height_m": "挂高(米)", "band": "频段", "tower_id": "铁塔编号",
            "azimuths_deg": "方位角", "tilt_deg": "下倾角", "power_dbm": "发射功率",
            "gain_dbi": "天线增益", "status": "状态", "on_air_date": "开通日期",
            "backhaul": "传输方式"}
OPERATOR_ZH = {"CMCC": "中国移动", "CT": "中国电信", "CU": "中国联通"}
STATUS_ZH = {"on_air": "在网", "building": "在建", "planned": "规划"}
WORK_SHEETS = {"grid": "电网工程", "mobile": "通信工程", "transformers": "台区",
               "hazards": "隐患"}


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    return build_small_county(tmp_path_factory.mktemp("county") / "data")


# ----------------------------------------------------------------------------------------
# Helpers that build the variants


def sites(data: Path) -> pd.DataFrame:
    return pd.read_csv(data / "sites/sites.csv", dtype=str, keep_default_na=False)


def write_xlsx(path: Path, sheets: dict[str, pd.DataFrame], title: str | None = None,
               numbers: bool = True) -> None:
    """Write sheets as an office would: optional title row, values typed as Excel would."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        ws = book.create_sheet(name)
        if title:
            ws.append([title])
            ws.append([])
        ws.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            ws.append([_excel_value(v, numbers) for v in row])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def _excel_value(v: object, numbers: bool) -> object:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v == "":
        return None
    if numbers and isinstance(v, str):
        try:
            f = float(v)
        except ValueError:
            return v
        return int(f) if f == int(f) and "." not in v else f
    return v


def write_xls(path: Path, frame: pd.DataFrame, sheet: str = "Sheet1",
              title: str | None = None) -> None:
    """An Excel 97-2003 workbook (.xls), as older office machines still save."""
    import datetime as dt

    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet(sheet)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    r = 0
    if title:
        ws.write(0, 0, title)
        r = 2
    for j, name in enumerate(frame.columns):
        ws.write(r, j, name)
    for i, row in enumerate(frame.itertuples(index=False), start=r + 1):
        for j, v in enumerate(row):
            v = _excel_value(v, True)
            if isinstance(v, str) and len(v) == 10 and v[4] == "-" and v[7] == "-":
                ws.write(i, j, dt.datetime.strptime(v, "%Y-%m-%d"), date_style)
            elif v is not None:
                ws.write(i, j, v)
    book.save(str(path))


def sites_to_xlsx(data: Path, *, chinese: bool = False, title: str | None = None,
                  sheets: tuple[str, ...] = ("Sheet1",), keep_csv: bool = False,
                  edit: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> None:
    frame = sites(data)
    if edit is not None:
        frame = edit(frame)
    if chinese:
        frame = frame.assign(operator=frame["operator"].map(OPERATOR_ZH),
                             status=frame["status"].map(lambda s: STATUS_ZH.get(s, s)))
        frame = frame.rename(columns=SITES_ZH)
    book = {}
    for name in sheets:
        book[name] = frame if name != "说明" else pd.DataFrame({"说明": ["本表为基站台账"]})
    write_xlsx(data / "sites/sites.xlsx", book, title=title)
    if not keep_csv:
        (data / "sites/sites.csv").unlink()


def edit_sites(data: Path, edit: Callable[[pd.DataFrame], pd.DataFrame],
               encoding: str = "utf-8") -> None:
    frame = edit(sites(data))
    (data / "sites/sites.csv").write_bytes(frame.to_csv(index=False).encode(encoding))


def set_first(frame: pd.DataFrame, where: tuple[str, str], column: str, value: str
              ) -> pd.DataFrame:
    i = int(np.flatnonzero(frame[where[0]].to_numpy() == where[1])[0])
    frame = frame.copy()
    frame.loc[frame.index[i], column] = value
    return frame


def first_site(data: Path, operator: str, band: str) -> str:
    frame = sites(data)
    return frame.loc[(frame["operator"] == operator) & (frame["band"] == band),
                     "site_id"].iloc[0]


def set_band(data: Path, operator: str, band: str, written: str) -> None:
    sid = first_site(data, operator, band)
    edit_sites(data, lambda f: set_first(f, ("site_id", sid), "band", written))


def shift_sites(data: Path, to: Callable, lon_name: str, lat_name: str,
                fmt: Callable[[float], str] = lambda v: f"{v:.7f}") -> None:
    frame = sites(data)
    lon, lat = to(frame["lon"].astype(float).to_numpy(), frame["lat"].astype(float).to_numpy())
    frame = frame.drop(columns=["lon", "lat"])
    frame.insert(2, lon_name, [fmt(v) for v in lon])
    frame.insert(3, lat_name, [fmt(v) for v in lat])
    frame.to_csv(data / "sites/sites.csv", index=False)


def dms(value: float, pos: str, neg: str, style: str = "symbols") -> str:
    hemi = pos if value >= 0 else neg
    v = abs(value)
    d = int(v)
    m = int((v - d) * 60)
    s = (v - d - m / 60) * 3600
    if style == "chinese":
        return f"{d}度{m}分{s:.3f}秒"
    return f"{d}°{m}'{s:.3f}\"{hemi}"


def works_to_workbook(data: Path, names: dict[str, str], title: str | None = None,
                      separate: bool = False) -> None:
    frames = {}
    for layer, sheet in names.items():
        frame = pyogrio.read_dataframe(data / "works/works.gpkg", layer=layer)
        frames[sheet if not separate else layer] = pd.DataFrame(frame.drop(columns="geometry"))
    (data / "works/works.gpkg").unlink()
    if separate:
        for layer, frame in frames.items():
            write_xlsx(data / f"works/{layer}.xlsx", {"Sheet1": frame.astype(object)},
                       title=title, numbers=False)
    else:
        write_xlsx(data / "works/works.xlsx",
                   {k: v.astype(object) for k, v in frames.items()}, title=title,
                   numbers=False)


def edit_measurements(data: Path, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    path = data / "measurements/measurements.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(frame).to_csv(path, index=False)


def no_service_rows(flag_col: str, flag: str, n: int = 3
                    ) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame[flag_col] = ""
        idx = frame.index[-n:]
        frame.loc[idx, "rsrp_dbm"] = ""
        frame.loc[idx, "sinr_db"] = ""
        frame.loc[idx, flag_col] = flag
        return frame
    return edit


def tile_dem(data: Path, names: tuple[str, ...] = ("a.tif", "b.tif", "c.tif", "d.tif"),
             crs: tuple[str | None, ...] | None = None) -> None:
    path = data / "terrain/dem.tif"
    with rasterio.open(path) as src:
        h, w = src.height, src.width
        windows = [Window(0, 0, w // 2, h // 2), Window(w // 2, 0, w - w // 2, h // 2),
                   Window(0, h // 2, w // 2, h - h // 2),
                   Window(w // 2, h // 2, w - w // 2, h - h // 2)]
        for k, (name, win) in enumerate(zip(names, windows, strict=True)):
            prof = dict(src.profile, width=int(win.width), height=int(win.height),
                        transform=src.window_transform(win))
            if crs is not None and crs[k] is not None:
                prof["crs"] = crs[k]
            with rasterio.open(data / "terrain" / name, "w", **prof) as dst:
                dst.write(src.read(1, window=win), 1)
    path.unlink()


def void_under_households(data: Path) -> None:
    """Blank a 5 x 5 cell block of the DEM around the first household cluster."""
    hh = pyogrio.read_dataframe(data / "villages/villages.gpkg", layer="households")
    pt = hh.geometry.iloc[0]
    path = data / "terrain/dem.tif"
    with rasterio.open(path, "r+") as ds:
        r, c = ds.index(pt.x, pt.y)
        block = ds.read(1)
        block[r - 2:r + 3, c - 2:c + 3] = ds.nodata
        ds.write(block, 1)


def dem_as_hgt(data: Path) -> None:
    """The DEM as an SRTM 1-arc-second tile (N30E116.hgt: 3601 x 3601, voids elsewhere)."""
    from affine import Affine
    from rasterio.io import MemoryFile
    from rasterio.shutil import copy as rio_copy

    path = data / "terrain/dem.tif"
    size = 3601
    step = 1.0 / (size - 1)
    tile = np.full((size, size), -32768, dtype=np.int16)
    with rasterio.open(path) as src:
        band = src.read(1)
        col0 = round((src.transform.c - (116.0 - step / 2)) / step)
        row0 = round(((31.0 + step / 2) - src.transform.f) / step)
        r0, c0 = max(row0, 0), max(col0, 0)
        part = band[r0 - row0:, c0 - col0:][: size - r0, : size - c0]
        tile[r0:r0 + part.shape[0], c0:c0 + part.shape[1]] = part
    transform = Affine(step, 0, 116.0 - step / 2, 0, -step, 31.0 + step / 2)
    with MemoryFile() as mem:
        with mem.open(driver="GTiff", width=size, height=size, count=1, dtype="int16",
                      crs="EPSG:4326", transform=transform, nodata=-32768) as ds:
            ds.write(tile, 1)
        with mem.open() as ds:
            rio_copy(ds, data / "terrain/N30E116.hgt", driver="SRTMHGT")
    path.unlink()


def villages_as_shapefile(data: Path, encoding: str, names: list[str] | None = None) -> None:
    gpkg = data / "villages/villages.gpkg"
    vil = pyogrio.read_dataframe(gpkg, layer="villages")
    if names is not None:
        vil["town"] = names[: len(vil)] + [names[0]] * max(0, len(vil) - len(names))
    keep = {k: pyogrio.read_dataframe(gpkg, layer=k) for k in ("groups", "points",
                                                               "households")}
    gpkg.unlink()
    for k, frame in keep.items():
        pyogrio.write_dataframe(frame, gpkg, layer=k, driver="GPKG")
    shp = data / "villages/villages.shp"
    pyogrio.write_dataframe(vil, shp, encoding=encoding)
    for cpg in (shp.with_suffix(".cpg"), shp.with_suffix(".CPG")):
        if cpg.exists():
            cpg.unlink()


def config_with(**inputs: dict) -> Config:
    return Config.model_validate({"inputs": inputs})


# ----------------------------------------------------------------------------------------
# Checks on accepted variants


def read_sites(data: Path, config: Config) -> gpd.GeoDataFrame:
    from coverage.errors import ProblemLog

    log = ProblemLog()
    spec = LAYERS_BY_KEY["sites"]
    src = readers.locate_layer(data, spec, log)
    frame = readers.read_layer(src, spec, log, config)
    assert not log.errors, log.errors
    return frame


def positions_match(tol_m: float) -> Callable[[Path, Path, Config], None]:
    def check(data: Path, original: Path, config: Config) -> None:
        got = read_sites(data, config)
        want = sites(original)
        lon = np.array([g.x for g in got.geometry])
        lat = np.array([g.y for g in got.geometry])
        dx = (lon - want["lon"].astype(float).to_numpy()) * 111320 * np.cos(np.radians(31))
        dy = (lat - want["lat"].astype(float).to_numpy()) * 110540
        assert np.hypot(dx, dy).max() < tol_m
    return check


def site_values(column: str, expected: dict[int, object]) -> Callable:
    def check(data: Path, original: Path, config: Config) -> None:
        from coverage.errors import ProblemLog
        from coverage.io import validate as v

        got = read_sites(data, config)
        spec = LAYERS_BY_KEY["sites"]
        log = ProblemLog()
        got = v.normalise_columns(got, spec, "x", log, has_geometry=False)
        got = v.convert_values(got, spec, "x", log, config, quiet=frozenset({"lon", "lat"}))
        if column == "band":
            v.check_bands(got, "x", log, config)
        for row, value in expected.items():
            assert got[column].iloc[row] == value, (column, got[column].iloc[row], value)
    return check


def band_is(operator: str, band: str, written: str) -> Callable:
    def check(data: Path, original: Path, config: Config) -> None:
        frame = sites(original)
        row = int(np.flatnonzero(((frame["operator"] == operator)
                                  & (frame["band"] == band)).to_numpy())[0])
        site_values("band", {row: band})(data, original, config)
    return check


def read_key(data: Path, key: str, config: Config) -> pd.DataFrame:
    from coverage.errors import ProblemLog

    log = ProblemLog()
    spec = LAYERS_BY_KEY[key]
    src = readers.locate_layer(data, spec, log)
    assert src is not None, log.problems
    frame = readers.read_layer(src, spec, log, config)
    assert frame is not None and not log.errors, log.errors
    return frame


def works_counts(layers: tuple[str, ...] = ("grid", "mobile", "transformers", "hazards")
                 ) -> Callable:
    """Every works layer is read with all its rows (none silently skipped)."""
    def check(data: Path, original: Path, config: Config) -> None:
        for key in layers:
            want = len(pyogrio.read_dataframe(original / "works/works.gpkg", layer=key))
            assert len(read_key(data, key, config)) == want, key
    return check


def no_service_count(n: int) -> Callable:
    def check(data: Path, original: Path, config: Config) -> None:
        from coverage.errors import ProblemLog
        from coverage.io import validate as v

        frame = read_key(data, "measurements", config)
        frame, _ = v.normalise_measurements(frame, "m", ProblemLog(), config)
        assert int(frame["no_service"].sum()) >= n
        assert (frame.loc[frame["no_service"], "rsrp_dbm"].astype(float) == -140).all()
    return check


def town_names_intact(data: Path, original: Path, config: Config) -> None:
    got = set(read_key(data, "villages", config)["town"])
    want = set(gpd.read_file(original / "villages/villages.gpkg", layer="villages")["town"])
    assert got == want, got


# ----------------------------------------------------------------------------------------
# The corpus


@dataclass
class Variant:
    name: str
    build: Callable[[Path], None]
    accept: bool
    message: tuple[str, ...] = ()
    check: Callable[[Path, Path, Config], None] | None = None
    config: Config = field(default_factory=Config)
    note: str | None = None


def _two_cu_1800(config: Config) -> Config:
    raw = config.model_dump()
    raw["operators"]["CU"]["bands"]["LTE1800B"] = dict(raw["operators"]["CU"]["bands"]["FDD1800"],
                                                       frequency_mhz=1860.0)
    return Config.model_validate(raw)


VARIANTS: list[Variant] = [
    # --- Excel and CSV as tables ------------------------------------------------------
    Variant("sites_xlsx", lambda d: sites_to_xlsx(d), True, check=positions_match(0.01)),
    Variant("sites_xlsx_title_chinese", lambda d: sites_to_xlsx(
        d, chinese=True, title="示范县基站台账（2020年6月）"), True,
        check=site_values("operator", {0: "CMCC"}), note="列 '挂高(米)' 读作 height_m"),
    Variant("sites_xlsx_named_sheet", lambda d: sites_to_xlsx(
        d, chinese=True, sheets=("说明", "基站")), True, check=positions_match(0.01)),
    Variant("sites_xlsx_two_unnamed_sheets", lambda d: sites_to_xlsx(
        d, sheets=("Sheet1", "Sheet2")), False, ("sites/sites.xlsx", "多个工作表",
                                                 "[inputs.sites] sheet")),
    Variant("sites_xlsx_sheet_from_config", lambda d: sites_to_xlsx(
        d, sheets=("Sheet1", "Sheet2")), True, config=config_with(sites={"sheet": "Sheet2"}),
        check=positions_match(0.01)),
    Variant("sites_xlsx_config_sheet_missing", lambda d: sites_to_xlsx(d), False,
            ("sites/sites.xlsx", "没有名为 '基站表'"),
            config=config_with(sites={"sheet": "基站表"})),
    Variant("sites_xlsx_excel_row_and_header", lambda d: sites_to_xlsx(
        d, chinese=True, title="台账", sheets=("说明", "基站"),
        edit=lambda f: set_first(f, ("site_id", f["site_id"].iloc[2]), "status", "停用")),
        False, ("sites/sites.xlsx[工作表 基站], row 6, column '状态（status）'",
                "unknown status", "'停用'")),
    Variant("sites_xls_title_chinese", lambda d: (write_xls(
        d / "sites/sites.xls", sites(d).rename(columns=SITES_ZH), "基站", title="基站台账"),
        (d / "sites/sites.csv").unlink()), True, check=positions_match(0.01),
        note="列 '站点编号' 读作 site_id"),
    Variant("sites_xls_bad_height", lambda d: (write_xls(
        d / "sites/sites.xls", set_first(sites(d), ("site_id", sites(d)["site_id"].iloc[0]),
                                         "height_m", "约30米").rename(columns=SITES_ZH)),
        (d / "sites/sites.csv").unlink()), False,
        ("sites/sites.xls, row 2, column '挂高(米)（height_m）'", "not a number")),
    Variant("sites_xlsx_and_csv", lambda d: sites_to_xlsx(d, keep_csv=True), False,
            ("sites/sites.csv", "sites/sites.xlsx", "只保留其中一个")),
    Variant("sites_xlsx_dates_and_numbers", lambda d: sites_to_xlsx(d, edit=lambda f: f.assign(
        on_air_date=pd.to_datetime(f["on_air_date"], errors="coerce").dt.to_pydatetime()
        .astype(object))), True, check=site_values("on_air_date", {})),
    Variant("sites_csv_gbk_chinese", lambda d: edit_sites(d, lambda f: f.rename(
        columns=SITES_ZH).assign(运营商=f["operator"].map(OPERATOR_ZH)), encoding="gbk"), True,
        check=site_values("operator", {0: "CMCC"}), note="GBK"),
    Variant("sites_csv_utf8_bom", lambda d: edit_sites(d, lambda f: f.rename(columns=SITES_ZH),
                                                       encoding="utf-8-sig"), True,
            check=positions_match(0.01)),
    Variant("sites_csv_trailing_empty_rows", lambda d: (d / "sites/sites.csv").write_text(
        (d / "sites/sites.csv").read_text(encoding="utf-8") + ",,,,,,,,,,,,,\n" * 5,
        encoding="utf-8"), True, check=positions_match(0.01)),
    Variant("sites_fullwidth", lambda d: edit_sites(d, lambda f: f.assign(
        operator=f["operator"].str.replace("CMCC", "ＣＭＣＣ"),
        height_m=f["height_m"].str.replace("0", "０").str.replace(".", "．"))), True,
        check=site_values("operator", {0: "CMCC"})),
    Variant("sites_azimuth_dunhao", lambda d: edit_sites(d, lambda f: f.assign(
        azimuths_deg=f["azimuths_deg"].str.replace(";", "、"))), True,
        check=site_values("azimuths_deg", {})),
    Variant("sites_status_chinese", lambda d: edit_sites(d, lambda f: f.assign(
        status=f["status"].map(lambda s: STATUS_ZH.get(s, s)))), True,
        check=site_values("status", {0: "on_air"})),
    Variant("sites_status_unknown", lambda d: edit_sites(d, lambda f: f.assign(
        status=["停用", *list(f["status"].iloc[1:])])), False,
        ("sites/sites.csv", "unknown status")),
    # --- bands ------------------------------------------------------------------------
    Variant("band_900", lambda d: set_band(d, "CMCC", "FDD900", "900"), True,
            check=band_is("CMCC", "FDD900", "900")),
    Variant("band_900M", lambda d: set_band(d, "CMCC", "FDD900", "900M"), True,
            check=band_is("CMCC", "FDD900", "900M")),
    Variant("band_LTE900", lambda d: set_band(d, "CMCC", "FDD900", "LTE900"), True,
            check=band_is("CMCC", "FDD900", "LTE900")),
    Variant("band_B8", lambda d: set_band(d, "CMCC", "FDD900", "B8"), True,
            check=band_is("CMCC", "FDD900", "B8")),
    Variant("band_F", lambda d: set_band(d, "CMCC", "TDD1900", "F频段"), True,
            check=band_is("CMCC", "TDD1900", "F频段")),
    Variant("band_cu_1_8G", lambda d: set_band(d, "CU", "FDD1800", "1.8G"), True,
            check=band_is("CU", "FDD1800", "1.8G")),
    Variant("band_cu_B3", lambda d: set_band(d, "CU", "FDD1800", "B3"), True,
            check=band_is("CU", "FDD1800", "B3")),
    Variant("band_ct_800M", lambda d: set_band(d, "CT", "FDD800", "800M"), True,
            check=band_is("CT", "FDD800", "800M")),
    Variant("band_cmcc_1800_absent", lambda d: set_band(d, "CMCC", "FDD900", "FDD1800"), False,
            ("sites/sites.csv", "unknown band for operator CMCC", "该运营商没有这个频段")),
    Variant("band_cu_1800_ambiguous", lambda d: set_band(d, "CU", "FDD1800", "1800M"), False,
            ("sites/sites.csv", "对应多个已配置频段"), config=_two_cu_1800(Config())),
    # --- coordinates ------------------------------------------------------------------
    Variant("coords_gaode_columns", lambda d: shift_sites(d, wgs84_to_gcj02, "高德经度",
                                                          "高德纬度"), True,
            check=positions_match(0.5), note="GCJ-02"),
    Variant("coords_bd_columns", lambda d: shift_sites(d, wgs84_to_bd09, "bd_lng", "bd_lat"),
            True, check=positions_match(0.5), note="BD-09"),
    Variant("coords_declared_gcj02", lambda d: shift_sites(d, wgs84_to_gcj02, "lon", "lat"),
            True, check=positions_match(0.5), config=config_with(sites={"coords": "gcj02"})),
    Variant("coords_declared_bd09", lambda d: shift_sites(d, wgs84_to_bd09, "经度", "纬度"),
            True, check=positions_match(0.5), config=config_with(sites={"coords": "bd09"})),
    Variant("coords_declared_conflict", lambda d: shift_sites(d, wgs84_to_gcj02, "高德经度",
                                                              "高德纬度"), False,
            ("sites/sites.csv", "列名表明是 GCJ-02"), config=config_with(sites={"coords": "bd09"})),
    Variant("coords_gaode_lon_only", lambda d: edit_sites(d, lambda f: f.rename(
        columns={"lon": "高德经度"})), False, ("sites/sites.csv", "缺少对应的纬度列")),
    Variant("coords_dms_symbols", lambda d: shift_sites(
        d, lambda x, y: (x, y), "lon", "lat", lambda v: dms(v, "E", "W")), True,
        check=positions_match(0.5)),
    Variant("coords_dms_chinese", lambda d: shift_sites(
        d, lambda x, y: (x, y), "经度", "纬度", lambda v: dms(v, "E", "W", "chinese")), True,
        check=positions_match(0.5)),
    Variant("coords_dms_bad_minutes", lambda d: edit_sites(d, lambda f: f.assign(
        lon=["116°75'10\"", *list(f["lon"].iloc[1:])])), False, ("sites/sites.csv",
                                                                 "not a number")),
    # --- Excel damage -----------------------------------------------------------------
    Variant("ids_scientific", lambda d: edit_sites(d, lambda f: f.assign(
        site_id=["3.40829E+15", "3.40829E+15", *list(f["site_id"].iloc[2:])])), False,
        ("sites/sites.csv", "科学计数法", "文本")),
    Variant("ids_scientific_saved_as_numbers", lambda d: sites_to_xlsx(d, edit=lambda f: f.assign(
        site_id=["3408290000000000", "3408290000000000", *list(f["site_id"].iloc[2:])])),
        False, ("sites/sites.xlsx", "科学计数法", "文本")),
    # --- works lists ------------------------------------------------------------------
    Variant("works_one_workbook", lambda d: works_to_workbook(d, WORK_SHEETS,
                                                              title="2020年村级工程台账"),
            True, check=works_counts()),
    Variant("works_workbook_extra_sheet", lambda d: works_to_workbook(
        d, {**WORK_SHEETS, "grid": "电网工程", "transformers": "台区"} | {"hazards": "汇总"}),
        True, note="工作表 '汇总' 没有被读取"),
    Variant("works_separate_workbooks", lambda d: works_to_workbook(d, WORK_SHEETS,
                                                                    separate=True), True,
            check=works_counts()),
    Variant("works_workbook_unknown_name", lambda d: (works_to_workbook(d, WORK_SHEETS),
                                                      (d / "works/works.xlsx").rename(
                                                          d / "works/工程台账.xlsx")), False,
            ("works/工程台账.xlsx", "没有被读取")),
    Variant("works_chinese_headers", lambda d: _works_chinese(d), True,
            check=works_counts(("transformers",))),
    # --- measurements -----------------------------------------------------------------
    Variant("measurements_no_service_zh", lambda d: edit_measurements(
        d, no_service_rows("网络状态", "无服务")), True, note="无服务",
        check=no_service_count(3)),
    Variant("measurements_no_service_en", lambda d: edit_measurements(
        d, no_service_rows("Service", "NO SERVICE")), True, note="无服务",
        check=no_service_count(3)),
    Variant("measurements_blank_rsrp_no_flag", lambda d: edit_measurements(
        d, no_service_rows("备注", "")), False, ("measurements/measurements.csv",
                                               "empty value in required column")),
    # --- terrain ----------------------------------------------------------------------
    Variant("terrain_any_name", lambda d: (d / "terrain/dem.tif").rename(
        d / "terrain/ASTGTMV003_N30E116_dem.tif"), True, note="按唯一的 GeoTIFF 读取"),
    Variant("terrain_tiles", lambda d: tile_dem(d), True, note="地形由 4 幅分幅拼接"),
    Variant("terrain_srtm_hgt", dem_as_hgt, True, note="地形由 1 幅分幅拼接（N30E116.hgt）"),
    Variant("terrain_tiles_mixed_crs", lambda d: tile_dem(
        d, crs=(None, "EPSG:4490", None, None)), False, ("terrain", "坐标参考系不一致")),
    Variant("terrain_only_zip", lambda d: (shutil.make_archive(
        str(d / "terrain/srtm"), "zip", d / "terrain"), (d / "terrain/dem.tif").unlink()),
        False, ("terrain/dem.tif", "srtm.zip")),
    Variant("terrain_void_under_households", void_under_households, False,
            ("villages/villages.gpkg:households", "地形数据缺失", "fill_voids")),
    Variant("terrain_void_filled", void_under_households, True, note="地形已插值填补",
            config=Config.model_validate({"model": {"fill_voids": True}})),
    # --- Shapefiles without .cpg ------------------------------------------------------
    Variant("shapefile_gbk_no_cpg", lambda d: villages_as_shapefile(d, "GBK"), True,
            check=town_names_intact, note="按 GBK 编码读取"),
    Variant("shapefile_utf8_no_cpg", lambda d: villages_as_shapefile(d, "UTF-8"), True,
            check=town_names_intact),
]


def _works_chinese(data: Path) -> None:
    frame = pyogrio.read_dataframe(data / "works/works.gpkg", layer="transformers")
    frame = pd.DataFrame(frame.drop(columns="geometry")).rename(columns={
        "transformer_id": "台区编号", "village_id": "行政村编码", "kva": "容量(kVA)",
        "households": "供电户数"})
    write_xlsx(data / "works/transformers.xlsx", {"台区": frame.astype(object)},
               title="台区清单", numbers=False)
    keep = {k: pyogrio.read_dataframe(data / "works/works.gpkg", layer=k)
            for k in ("grid", "mobile", "hazards")}
    (data / "works/works.gpkg").unlink()
    for k, f in keep.items():
        pyogrio.write_dataframe(f, data / "works/works.gpkg", layer=k, driver="GPKG")


def test_corpus_is_large_enough():
    assert len(VARIANTS) >= 40
    assert len({v.name for v in VARIANTS}) == len(VARIANTS)


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.accept],
                         ids=[v.name for v in VARIANTS if v.accept])
def test_accepted(county, tmp_path, variant):
    data = shutil.copytree(county, tmp_path / "data")
    variant.build(data)
    problems = validate_data_dir(data, variant.config)
    errors = [p for p in problems if p.is_error]
    assert not errors, "\n".join(map(str, errors))
    if variant.note is not None:
        assert any(variant.note in p.message for p in problems), "\n".join(map(str, problems))
    if variant.check is not None:
        variant.check(data, county, variant.config)


@pytest.mark.parametrize("variant", [v for v in VARIANTS if not v.accept],
                         ids=[v.name for v in VARIANTS if not v.accept])
def test_refused(county, tmp_path, variant):
    from click.testing import CliRunner

    from coverage.cli import app

    data = shutil.copytree(county, tmp_path / "data")
    variant.build(data)
    problems = validate_data_dir(data, variant.config)
    shown = "\n".join(str(p) for p in problems if p.is_error)
    for text in variant.message:
        assert text in shown, shown
    config = tmp_path / "coverage.toml"
    _write_config(config, variant.config)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", "--data", str(data), "--config", str(config),
                                      "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert not out.exists() or not any(out.iterdir())


def _write_config(path: Path, config: Config) -> None:
    lines = ["[model]\nfill_voids = true"] if config.model.fill_voids else []
    for layer, settings in config.inputs.items():
        lines.append(f"[inputs.{layer}]")
        for key, value in settings.model_dump(exclude_none=True).items():
            lines.append(f'{key} = "{value}"')
    default = Config()
    if config.operators != default.operators:
        for op, prof in config.operators.items():
            for band, bp in prof.bands.items():
                lines.append(f"[operators.{op}.bands.{band}]")
                lines.append(f"frequency_mhz = {bp.frequency_mhz}")
                lines.append(f"bandwidth_mhz = {bp.bandwidth_mhz}")
                lines.append(f'duplex = "{bp.duplex}"')
            lines.append(f"[operators.{op}]" if False else "")
    path.write_text(_operators_header(config, default) + "\n".join(lines) + "\n",
                    encoding="utf-8")


def _operators_header(config: Config, default: Config) -> str:
    if config.operators == default.operators:
        return ""
    out = []
    for op, prof in config.operators.items():
        out.append(f'[operators.{op}]\nname_zh = "{prof.name_zh}"\nname_en = "{prof.name_en}"\n'
                   f'color = "{prof.color}"\n')
    return "\n".join(out)


def test_filled_template_is_accepted(county, tmp_path):
    """`template` workbooks, filled with the county's sites and works, validate as they are."""
    from click.testing import CliRunner

    from coverage.cli import app

    tpl = tmp_path / "tpl"
    result = CliRunner().invoke(app, ["template", "--out", str(tpl)])
    assert result.exit_code == 0, result.output
    data = shutil.copytree(county, tmp_path / "data")
    book = openpyxl.load_workbook(tpl / "sites/sites.xlsx")
    ws = book.worksheets[0]
    assert ws.freeze_panes == "A3"
    assert "说明" in book.sheetnames
    assert ws.data_validations.dataValidation, "no drop-down lists"
    headers = [c.value for c in ws[2]]
    zh = {v: k for k, v in SITES_ZH.items()}
    zh["功率(dbm)"] = "power_dbm"
    zh["增益(dbi)"] = "gain_dbi"
    frame = sites(data)
    for row in frame.itertuples(index=False):
        values = row._asdict()
        ws.append([_excel_value(values.get(zh.get(h, h), ""), True) for h in headers])
    book.save(tpl / "sites/sites.xlsx")
    (data / "sites/sites.csv").unlink()
    shutil.copy(tpl / "sites/sites.xlsx", data / "sites/sites.xlsx")
    problems = validate_data_dir(data, Config())
    errors = [p for p in problems if p.is_error]
    assert not errors, "\n".join(map(str, errors))
    assert any("示例" in p.message for p in problems)
    got = read_sites(data, Config())
    assert len(got) == len(frame)


def _fill(path: Path, layer_key: str, frame: pd.DataFrame) -> None:
    """Type the rows of ``frame`` (schema columns) under a template's Chinese headers."""
    from coverage.io.template import header_of

    layer = LAYERS_BY_KEY[layer_key]
    book = openpyxl.load_workbook(path)
    ws = book.worksheets[0]
    names = [c.name for c in layer.columns] + ["lon", "lat"]
    by_header = {header_of(layer, n): n for n in names}
    headers = [c.value for c in ws[2]]
    for row in frame.to_dict("records"):
        ws.append([_excel_value(row.get(by_header.get(h, h)), True) for h in headers])
    book.save(path)


def test_filled_works_templates_are_accepted(county, tmp_path):
    """The four works templates, filled with the county's works, replace works.gpkg."""
    from click.testing import CliRunner

    from coverage.cli import app
    from coverage.io.template import write_templates

    tpl = tmp_path / "tpl"
    write_templates(tpl, Config())
    data = shutil.copytree(county, tmp_path / "data")
    counts = {}
    for key in ("grid", "mobile", "transformers", "hazards"):
        frame = pyogrio.read_dataframe(data / "works/works.gpkg", layer=key)
        frame = pd.DataFrame(frame.drop(columns="geometry"))
        if "fixed" in frame:
            frame["fixed"] = frame["fixed"].map({True: "是", False: "否"})
        counts[key] = len(frame)
        _fill(tpl / f"works/{key}.xlsx", key, frame.astype(object).where(frame.notna(), None))
    (data / "works/works.gpkg").unlink()
    for key in counts:
        shutil.copy(tpl / f"works/{key}.xlsx", data / f"works/{key}.xlsx")
    result = CliRunner().invoke(app, ["validate", str(data)])
    assert result.exit_code == 0, result.output
    assert " 0 error(s)" in result.output
    for key, n in counts.items():
        assert len(read_key(data, key, Config())) == n, key
