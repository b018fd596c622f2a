"""The planning result memoised in the run's cache (coverage.plan.memo)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from coverage.assess import assess
from coverage.io.cache import entry_path
from coverage.io.digest import content_digest
from coverage.plan import make_plan
from coverage.plan.memo import memoised_plan, plan_key
from coverage.signal import SignalGrids
from tests.test_plan_claim import toy_rsrp
from tests.toy import toy_signal, toy_study


def _key(study, sig):
    return plan_key(study, sig, assess(study, sig), "local")


def test_content_digest_reads_content_not_identity():
    a, b = toy_study(households=True), toy_study(households=True)
    assert a is not b and content_digest(a) == content_digest(b)
    moved = b.sites.copy()
    moved.loc[moved.index[0], "height_m"] = float(moved["height_m"].iloc[0]) + 1.0
    assert content_digest(dataclasses.replace(b, sites=moved)) != content_digest(a)
    other = toy_study(households=True,
                      config=a.config.model_copy(update={"county_name": "another"}))
    assert content_digest(other) != content_digest(a)


def test_content_digest_refuses_objects_without_content():
    with pytest.raises(TypeError):
        content_digest({"x": object()})


def test_plan_key_follows_every_input():
    study, sig = toy_study(households=True), toy_signal()
    key = _key(study, sig)
    assert _key(toy_study(households=True), toy_signal()) == key
    weaker = {op: r.copy() for op, r in sig.rsrp.items()}
    weaker["CMCC"][0, 0] -= 1.0
    assert _key(study, SignalGrids(rsrp=weaker, best_site=sig.best_site)) != key
    cheaper = study.config.model_copy(update={"planning": study.config.planning.model_copy(
        update={"new_tower_cost_wan": 50.0})})
    assert _key(dataclasses.replace(study, config=cheaper), sig) != key
    assert plan_key(study, sig, assess(study, sig), "ClusterCandidateRadio") != key


def test_memoised_plan_hit_equals_the_plan_and_skips_planning(tmp_path):
    study, sig = toy_study(households=True), toy_signal()
    calls = []

    def make():
        calls.append(1)
        return make_plan(study, sig, assess(study, sig), toy_rsrp(study))

    first = memoised_plan(tmp_path, lambda: _key(study, sig), make)
    again = memoised_plan(tmp_path, lambda: _key(study, sig), make)
    assert len(calls) == 1
    assert again.claims.claims.equals(first.claims.claims)
    assert again.selection.status == first.selection.status
    pd.testing.assert_frame_equal(pd.DataFrame(again.candidates.drop(columns="geometry")),
                                  pd.DataFrame(first.candidates.drop(columns="geometry")))
    assert list(again.candidates.geometry.to_wkb()) == list(first.candidates.geometry.to_wkb())


def test_memoised_plan_recomputes_a_corrupt_entry_and_a_changed_input(tmp_path):
    key = "a" * 64
    assert memoised_plan(tmp_path, lambda: key, lambda: {"n": 1}) == {"n": 1}
    path = entry_path(tmp_path, key)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert memoised_plan(tmp_path, lambda: key, lambda: {"n": 2}) == {"n": 2}
    assert memoised_plan(tmp_path, lambda: key, lambda: {"n": 3}) == {"n": 2}
    assert memoised_plan(tmp_path, lambda: "b" * 64, lambda: {"n": 4}) == {"n": 4}


def test_memoised_plan_without_a_digestible_key_just_plans(tmp_path):
    def bad_key() -> str:
        raise TypeError("no content")

    assert memoised_plan(tmp_path, bad_key, lambda: np.int64(5)) == 5
    assert not any(tmp_path.iterdir())
    assert memoised_plan(None, lambda: "c" * 64, lambda: 6) == 6
