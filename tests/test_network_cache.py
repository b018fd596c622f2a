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
from coverage.signal import CoverageResult, OperatorCoverage, merge_coverage
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


def _coverages(shape: tuple[int, int], seed: int = 5) -> list[OperatorCoverage]:
    """Rasters of every kind an entry meets: noisy RSRP, mostly NaN, only NaN (with the
    site indices of a large network, of none, and negative -1 for no site)."""
    rng = np.random.default_rng(seed)
    noisy = (-120.0 + 60.0 * rng.random(shape)).astype(np.float32)
    sparse = np.full(shape, np.nan, np.float32)
    sparse[10:20, 5:30] = noisy[:10, :25]
    sparse[0, 0] = -0.0
    nan_only = np.full(shape, np.nan, np.float32)
    sites = rng.integers(-1, 400, shape).astype(np.int32)
    few = np.where(np.isnan(sparse), -1, 7).astype(np.int32)
    return [OperatorCoverage("A", noisy, sites), OperatorCoverage("B", sparse, few),
            OperatorCoverage("C", nan_only, np.full(shape, -1, np.int32))]


def _stored(arrays: dict[str, np.ndarray], tmp_path: Path, key: str
            ) -> dict[str, np.ndarray]:
    cache.write_entry(tmp_path, key, arrays)
    found = cache.read_entry(tmp_path, key)
    assert found.status == "hit" and found.arrays is not None
    return found.arrays


def _assert_exact(back: dict[str, OperatorCoverage], coverages: list[OperatorCoverage]
                  ) -> None:
    assert list(back) == [c.operator for c in coverages]
    for cov in coverages:
        got = back[cov.operator]
        assert got.rsrp.dtype == np.float32 and got.best_site.dtype == np.int32
        assert got.rsrp.tobytes() == cov.rsrp.tobytes()     # bit for bit (NaN, -0.0 too)
        assert got.best_site.tobytes() == cov.best_site.tobytes()


def test_an_entry_round_trips_bit_for_bit(tmp_path: Path) -> None:
    """Format v3: the noise planes are stored as they are, everything else deflated once
    (the file itself is not compressed again), and it all reads back exactly."""
    import zipfile

    shape = (600, 800)  # the low planes of a raster this large are judged (not smaller)
    coverages = _coverages(shape)
    arrays = network_cache._encode([network_cache._planes(c) for c in coverages], shape)
    assert "rsrp_0" in arrays and "rsrp_z_1" in arrays and "rsrp_z_2" in arrays
    assert [int(arrays[f"site_width_{k}"]) for k in range(3)] == [2, 2, 2]
    key = "b" * 64
    back = network_cache._decode(_stored(arrays, tmp_path, key), ("A", "B", "C"), shape)
    _assert_exact(back, coverages)
    with zipfile.ZipFile(tmp_path / f"{key}.npz") as zf:
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
    raw = sum(c.rsrp.nbytes + c.best_site.nbytes // 2 for c in coverages)
    assert (tmp_path / f"{key}.npz").stat().st_size < 0.6 * raw
    with pytest.raises(ValueError, match="shape"):
        network_cache._decode(arrays, ("A", "B", "C"), (800, 600))


def test_site_indices_beyond_int16_and_empty_operators_round_trip(tmp_path: Path) -> None:
    shape = (40, 50)
    coverages = _coverages(shape)
    many = np.arange(shape[0] * shape[1], dtype=np.int32).reshape(shape) * 20 - 1
    assert many.max() > np.iinfo(np.int16).max
    coverages[0] = OperatorCoverage("A", coverages[0].rsrp, many)
    arrays = network_cache._encode([network_cache._planes(c) for c in coverages], shape)
    assert int(arrays["site_width_0"]) == 4 and int(arrays["site_width_1"]) == 2
    _assert_exact(network_cache._decode(_stored(arrays, tmp_path, "c" * 64),
                                        ("A", "B", "C"), shape), coverages)
    none = network_cache._encode([], shape)
    assert network_cache._decode(_stored(none, tmp_path, "d" * 64), (), shape) == {}
    empty = [OperatorCoverage("A", np.zeros((0, 5), np.float32), np.zeros((0, 5), np.int32))]
    stored = network_cache._encode([network_cache._planes(c) for c in empty], (0, 5))
    _assert_exact(network_cache._decode(stored, ("A",), (0, 5)), empty)


def test_an_entry_holds_the_rasters_as_they_were_when_predicted(tmp_path: Path) -> None:
    """The entry is written in the background, from copies made before the prediction
    returns: changing the result's rasters afterwards does not change the entry."""
    study = make_study(SITES)
    calls: list[int] = []

    def work() -> CoverageResult:
        calls.append(1)
        return predict.predict_coverage(study, cache_dir=tmp_path / "sites")

    cold = cached_network(study, ("on_air",), tmp_path / "network", work, background=True)
    kept = {op: cov.rsrp.copy() for op, cov in cold.by_operator.items()}
    for cov in cold.by_operator.values():
        cov.rsrp[...] = -1.0
    network_cache.finish_writes()
    warm = cached_network(study, ("on_air",), tmp_path / "network", work)
    assert len(calls) == 1
    for op, rsrp in kept.items():
        assert warm.by_operator[op].rsrp.tobytes() == rsrp.tobytes()


def test_an_entry_that_does_not_decode_is_predicted_again(tmp_path: Path,
                                                          monkeypatch) -> None:
    """An entry whose checksum holds but whose planes do not decode (a writer's bug) is a
    miss: the network is predicted again and the entry rewritten."""
    study = make_study(SITES)
    calls: list[int] = []
    cold = _run(study, tmp_path, calls)
    (entry,) = (tmp_path / "network").glob("*.npz")
    found = cache.read_entry(tmp_path / "network", entry.stem)
    assert found.arrays is not None
    broken = dict(found.arrays, rsrp_hi_z_0=found.arrays["rsrp_hi_z_0"][:-50])
    cache.write_entry(tmp_path / "network", entry.stem, broken)
    again = _run(study, tmp_path, calls)
    assert len(calls) == 2
    _same(cold, again)
    warm = _run(study, tmp_path, calls)           # rewritten: a hit again
    assert len(calls) == 2
    _same(cold, warm)
