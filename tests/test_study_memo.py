"""The validated study kept between runs: read back while every input is unchanged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from coverage.config import Config
from coverage.io.digest import content_digest
from coverage.io.result_memo import memoised_result
from coverage.io.study_memo import study_key
from coverage.study import load_study

TODAY = dt.date(2020, 9, 30)


def test_second_load_reads_the_stored_study(tiny_data: Path, tmp_path: Path) -> None:
    cfg = Config()
    calls: list[int] = []

    def load() -> object:
        calls.append(1)
        return load_study(tiny_data, cfg, today=TODAY)

    cache = tmp_path / "cache"
    first = memoised_result(cache, lambda: study_key(tiny_data, cfg, TODAY), load)
    again = memoised_result(cache, lambda: study_key(tiny_data, cfg, TODAY), load)
    assert len(calls) == 1
    assert content_digest(again) == content_digest(first)
    assert again.warnings == first.warnings


def test_key_covers_file_bytes_config_and_date(tiny_data: Path) -> None:
    cfg = Config()
    key = study_key(tiny_data, cfg, TODAY)
    assert study_key(tiny_data, cfg, TODAY) == key
    assert study_key(tiny_data, cfg, TODAY + dt.timedelta(days=1)) != key
    assert study_key(tiny_data, cfg.model_copy(update={"county_name": "other"}), TODAY) != key
    table = next(p for p in sorted(tiny_data.rglob("*")) if p.is_file())
    table.write_bytes(table.read_bytes() + b"\n")
    assert study_key(tiny_data, cfg, TODAY) != key
    (tiny_data / "notes.txt").write_text("a new file counts too")
    assert study_key(tiny_data, cfg, TODAY) != key


def test_folder_with_a_vrt_is_not_memoised(tiny_data: Path) -> None:
    (tiny_data / "terrain" / "mosaic.vrt").write_text("<VRTDataset/>")
    with pytest.raises(TypeError):
        study_key(tiny_data, Config(), TODAY)


def test_a_declined_result_is_not_stored(tmp_path: Path) -> None:
    key = "a" * 64
    out = memoised_result(tmp_path, lambda: key, lambda: np.arange(3), store=lambda r: False)
    assert out.tolist() == [0, 1, 2]
    assert not list(tmp_path.glob("*.npz"))
    memoised_result(tmp_path, lambda: key, lambda: np.arange(3))
    assert len(list(tmp_path.glob("*.npz"))) == 1


def test_a_result_that_does_not_pickle_is_returned_not_stored(tmp_path: Path) -> None:
    calls = []

    def make() -> object:
        calls.append(1)
        return lambda: None   # a lambda cannot be pickled

    first = memoised_result(tmp_path / "memo", lambda: "b" * 64, make)
    second = memoised_result(tmp_path / "memo", lambda: "b" * 64, make)
    assert callable(first) and callable(second)
    assert len(calls) == 2
    assert not list((tmp_path / "memo").glob("*.npz"))
