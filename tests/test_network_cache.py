"""The whole network's composed prediction cached as one entry (warm runs read it once)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import shapely

from coverage import predict
from coverage.io import cache
from coverage.predict import network_cache
from coverage.predict.network_cache import added_sites_only, cached_network
from coverage.signal import CoverageResult, merge_coverage
from tests.test_predict import SITES, make_study


def _same(a: CoverageResult, b: CoverageResult) -> None:
    assert a.operators == b.operators
    for op in a.operators:
        ra, rb = a.by_operator[op], b.by_operator[op]
        assert ra.rsrp.dtype == rb.rsrp.dtype == np.float32
        assert ra.best_site.dtype == rb.best_site.dtype == np.int32
        assert ra.rsrp.tobytes() == rb.rsrp.tobytes()
        assert ra.best_site.tobytes() == rb.best_site.tobytes()
    assert a.any_rsrp.tobytes() == b.any_rsrp.tobytes()
    assert a.any_operator.tobytes() == b.any_operator.tobytes()
    assert a.warnings == b.warnings


def _run(study, folder: Path, calls: list[int]) -> CoverageResult:
    def work() -> CoverageResult:
        calls.append(1)
        return predict.predict_coverage(study, cache_dir=folder / "sites")
    return cached_network(study, ("on_air",), folder / "network", work)


def test_a_warm_run_reads_one_entry_and_gets_the_same_bytes(tmp_path: Path) -> None:
    study = make_study(SITES)
    calls: list[int] = []
    cold = _run(study, tmp_path, calls)
    assert len(calls) == 1 and len(list((tmp_path / "network").glob("*.npz"))) == 1
    warm = _run(study, tmp_path, calls)
    assert len(calls) == 1                                # nothing predicted again
    _same(cold, warm)
    assert (warm.computed_sites, warm.cached_sites) == (0, cold.computed_sites)


def test_any_change_of_a_site_or_setting_misses(tmp_path: Path) -> None:
    study = make_study(SITES)
    calls: list[int] = []
    _run(study, tmp_path, calls)
    moved = [dict(s) for s in SITES]
    moved[2]["power_dbm"] = 43.0      # does not enter the loss, but enters the rasters
    _run(make_study(moved), tmp_path, calls)
    assert len(calls) == 2
    body = study.config.model_copy(
        update={"rule": study.config.rule.model_copy(update={"body_loss_db": 5.0})})
    _run(dataclasses.replace(study, config=body), tmp_path, calls)
    assert len(calls) == 3


def test_an_edit_of_the_code_misses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    study = make_study(SITES)
    calls: list[int] = []
    _run(study, tmp_path, calls)
    monkeypatch.setattr(network_cache, "source_digest", lambda *parts: "other code")
    _run(study, tmp_path, calls)
    assert len(calls) == 2


def test_a_corrupt_entry_is_predicted_again_and_rewritten(tmp_path: Path) -> None:
    study = make_study(SITES)
    calls: list[int] = []
    cold = _run(study, tmp_path, calls)
    (entry,) = (tmp_path / "network").glob("*.npz")
    entry.write_bytes(entry.read_bytes()[:-100])
    again = _run(study, tmp_path, calls)
    assert len(calls) == 2
    _same(cold, again)
    assert cache.read_entry(tmp_path / "network", entry.stem).status == "hit"


def test_a_result_with_an_unpredictable_site_is_not_stored(tmp_path: Path) -> None:
    study = make_study([*SITES, dict(SITES[0], site_id="X")])
    study.sites.loc[len(SITES), "geometry"] = shapely.Point(0.0, 0.0)   # off the DEM
    calls: list[int] = []
    first = _run(study, tmp_path, calls)
    assert any("cannot be predicted" in p.message for p in first.warnings)
    second = _run(study, tmp_path, calls)
    assert len(calls) == 2 and not list((tmp_path / "network").glob("*.npz"))
    _same(first, second)


def test_predicting_the_added_sites_only_and_merging_equals_predicting_all() -> None:
    study = make_study(SITES)
    pending = [dict(s, status="planned") for s in SITES[:2]]
    extended = make_study([*SITES, *pending])
    before = predict.predict_coverage(study, statuses=None)
    everything = predict.predict_coverage(extended, statuses=None)
    added = predict.predict_coverage(added_sites_only(extended, len(study.sites)),
                                     statuses=("planned",))
    assert added.cached_sites + added.computed_sites == len(pending)
    _same(merge_coverage(before, added), everything)


def test_the_code_in_the_keys_exists_and_its_digest_follows_its_bytes(tmp_path: Path) -> None:
    from coverage.io import source_digest as sd
    from coverage.predict import candidate_bundle

    package = Path(sd.__file__).resolve().parents[1]
    for part in (*network_cache.CODE, *candidate_bundle.CODE):
        assert (package / part).exists(), part
    assert sd.source_digest("signal.py") == sd.source_digest("signal.py")
    assert sd.source_digest("signal.py") != sd.source_digest("grid.py")


def test_the_folder_keeps_the_most_recently_used_networks(tmp_path: Path) -> None:
    calls: list[int] = []
    studies = []
    for power in (43.0, 44.0, 45.0, 46.0):
        edited = [dict(s) for s in SITES]
        edited[2]["power_dbm"] = power
        studies.append(make_study(edited))
    assert network_cache.KEEP_ENTRIES == 3     # on air, committed, the plan's sites
    for study in studies[:3]:
        _run(study, tmp_path, calls)
    _run(studies[0], tmp_path, calls)          # a hit: now the most recently used
    assert len(calls) == 3
    _run(studies[3], tmp_path, calls)          # a fourth network: the least used one goes
    assert len(list((tmp_path / "network").glob("*.npz"))) == network_cache.KEEP_ENTRIES
    _run(studies[0], tmp_path, calls)
    _run(studies[2], tmp_path, calls)
    assert len(calls) == 4                     # still there
    _run(studies[1], tmp_path, calls)
    assert len(calls) == 5                     # removed, so predicted again


def test_an_entry_written_in_the_background_is_there_after_finish(tmp_path: Path,
                                                                 monkeypatch) -> None:
    study = make_study(SITES)
    calls: list[int] = []

    def work() -> CoverageResult:
        calls.append(1)
        return predict.predict_coverage(study, cache_dir=tmp_path / "sites")

    cold = cached_network(study, ("on_air",), tmp_path / "network", work, background=True)
    network_cache.finish_writes()
    assert len(list((tmp_path / "network").glob("*.npz"))) == 1
    warm = cached_network(study, ("on_air",), tmp_path / "network", work, background=True)
    assert len(calls) == 1
    _same(cold, warm)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(network_cache, "write_entry", broken)
    cached_network(study, ("on_air",), tmp_path / "other", work, background=True)
    with pytest.raises(OSError, match="disk full"):
        network_cache.finish_writes()
    network_cache.finish_writes()                          # reported once


def test_noise_planes_are_stored_raw_and_read_back_exactly(tmp_path: Path) -> None:
    """The low bytes of RSRP rasters are stored without deflating (they do not compress),
    a raster that is mostly NaN is deflated, and both read back bit for bit."""
    import zipfile

    rng = np.random.default_rng(5)
    noisy = (-120.0 + 60.0 * rng.random((600, 800))).astype(np.float32)
    sparse = np.full((600, 800), np.nan, np.float32)
    sparse[100:120, 50:90] = noisy[:20, :40]
    arrays = {}
    for k, raster in enumerate((noisy, sparse)):
        planes = network_cache._shuffle(raster)
        arrays[f"rsrp_{k}"], arrays[f"rsrp_hi_{k}"] = planes[:2], planes[2:]
    raw = network_cache._incompressible(arrays)
    assert raw == ["rsrp_0"]
    key = "b" * 64
    path = cache.write_entry(tmp_path, key, arrays, compress=True, raw=raw)
    with zipfile.ZipFile(path) as zf:
        stored = {i.filename for i in zf.infolist() if i.compress_type == zipfile.ZIP_STORED}
    assert stored == {"rsrp_0.npy"}
    found = cache.read_entry(tmp_path, key)
    assert found.status == "hit" and found.arrays is not None
    for k, raster in enumerate((noisy, sparse)):
        back = network_cache._unshuffle(found.arrays[f"rsrp_{k}"], found.arrays[f"rsrp_hi_{k}"])
        assert back.dtype == np.float32
        assert np.array_equal(back.view(np.uint32), raster.view(np.uint32))
