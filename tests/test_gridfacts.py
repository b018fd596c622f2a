"""The grid facts of the grid map's village popup, on hand-built registers and works."""

import datetime as dt

import numpy as np
import pandas as pd
from toy import toy_study

from coverage.config import Config
from coverage.maps.gridfacts import grid_facts
from coverage.maps.labels import labels


def _study(language: str = "zh"):
    cfg = Config(language=language, readiness={"as_of": dt.date(2020, 8, 1),
                                               "inspection_date": dt.date(2020, 10, 31)})
    transformers = pd.DataFrame({
        "transformer_id": ["TR1", "TR2", "TR3", "TR4"], "village_id": ["V1", "V1", "V2", "V2"],
        "kva": [200.0, 100.0, 50.0, 30.0], "households": [100, 50, 40, np.nan]})
    works = pd.DataFrame({
        "work_id": ["GW1", "GW2", "GW3", "GW4"], "village_id": ["V1", "V2", "V1", "V2"],
        "category": ["线路改造", "台区改造", "台区改造", "低压线路改造"],
        "status": ["in_progress", "done", "in_progress", "planned"],
        "due": [dt.date(2020, 7, 1), dt.date(2020, 6, 30), dt.date(2020, 9, 1),
                dt.date(2020, 12, 1)],
        "done": [None, dt.date(2020, 6, 1), None, None],
        "kva_after": [np.nan, 100.0, 400.0, np.nan],
        "transformer_id": [None, "TR3", None, None]})
    hazards = pd.DataFrame({"hazard_id": ["H1", "H2", "H3"], "village_id": ["V1", "V2", "V1"],
                            "found": [dt.date(2020, 3, 1)] * 3, "fixed": [True, True, False]})
    return toy_study(cfg, transformers=transformers, grid_works=works, hazards=hazards)


def test_grid_facts_per_village() -> None:
    lab = labels("zh")
    facts = grid_facts(_study(), lab)
    v1, v2 = facts["V1"], facts["V2"]
    # V1: 300 kVA for 150 households; the open upgrade GW3 is not applied yet
    assert v1[lab["kva_village"]] == "2.00 kVA/户"
    # V2: the done upgrade GW2 takes TR3 to 100 kVA; TR4 has no household count
    assert v2[lab["kva_village"]] == "3.25 kVA/户"
    # V1: GW1 overdue on the as-of day, GW3 open and on time; V2: GW4 due after the inspection
    assert v1[lab["open_works"]] == "2（逾期 1）"
    assert v2[lab["open_works"]] == "1（验收后完工 1）"
    assert v1[lab["open_hazards"]] == "1 / 2" and v2[lab["open_hazards"]] == "0 / 1"
    assert list(v1) == [lab["kva_village"], lab["open_works"], lab["open_hazards"]]


def test_grid_facts_below_the_threshold_and_without_a_register() -> None:
    study = _study("en")
    tr = study.transformers
    study = study.__class__(**{**study.__dict__, "transformers": tr[tr["village_id"] == "V2"]
                               .assign(kva=[30.0, 30.0])})
    lab = labels("en")
    facts = grid_facts(study, lab)
    assert lab["kva_village"] not in facts["V1"]
    # the done upgrade to 100 kVA still applies: 130 / 40
    assert facts["V2"][lab["kva_village"]] == "3.25 kVA/household"
    study = study.__class__(**{**study.__dict__, "grid_works": study.grid_works.iloc[[0]]})
    facts = grid_facts(study, lab)
    assert facts["V2"][lab["kva_village"]] == "1.50 kVA/household (< 2)"
    assert facts["V2"][lab["open_works"]] == "0"
