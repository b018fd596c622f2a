"""The stored precision of path loss (0.05 dB) and the compact cache entries."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from test_predict import SITES, make_study

from coverage import predict
from coverage.io import cache
from coverage.predict import loss_codec
from coverage.radio import engine


def smooth_window(seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r, c = np.mgrid[0:120, 0:140]
    loss = 60.0 + 25.0 * np.log10(1.0 + np.hypot(r - 60, c - 70)) + rng.normal(0, 3, r.shape)
    loss = loss.astype(np.float32)
    loss[np.hypot(r - 60, c - 70) > 60] = np.nan  # outside the radius
    return loss


def test_quantise_is_within_half_a_step_and_keeps_nodata() -> None:
    loss = smooth_window()
    q = loss_codec.quantise(loss)
    assert q.dtype == np.float32
    assert np.array_equal(np.isnan(q), np.isnan(loss))
    assert np.nanmax(np.abs(q - loss)) <= loss_codec.STEP_DB / 2 + 1e-4
    # idempotent: a quantised loss is stored and read back unchanged
    assert np.array_equal(loss_codec.quantise(q), q, equal_nan=True)


def test_pack_round_trip_is_exact_including_wrapping_differences() -> None:
    loss = smooth_window()
    loss[5, 10] = 3000.0  # a jump larger than int16 between neighbours
    loss[5, 11] = 0.05
    packed = loss_codec.pack(loss)
    assert packed.dtype == np.uint8 and packed.shape == (2, *loss.shape)
    assert np.array_equal(loss_codec.unpack(packed), loss_codec.quantise(loss), equal_nan=True)


def test_pack_round_trip_is_exact_for_any_steps_and_shape() -> None:
    rng = np.random.default_rng(7)
    for shape in ((0, 4), (1, 1), (1, 9), (9, 1), (37, 53)):
        loss = rng.uniform(0.0, 3300.0, shape).astype(np.float32)  # clipped to 0.05 ... 3276.75
        loss[rng.random(shape) < 0.3] = np.nan
        if loss.size:
            loss.flat[0] = 3276.75  # the largest step next to anything
        assert np.array_equal(loss_codec.unpack(loss_codec.pack(loss)),
                              loss_codec.quantise(loss), equal_nan=True)


def test_smooth_loss_packs_to_small_residuals() -> None:
    r, c = np.mgrid[0:120, 0:140]
    loss = (60.0 + 25.0 * np.log10(1.0 + np.hypot(r - 60.3, c - 70.3))).astype(np.float32)
    packed = loss_codec.pack(loss)
    # the zigzag-mapped residuals of a smooth field (of either sign) have a high byte of 0
    # nearly everywhere, and most low bytes are small
    assert np.mean(packed[1] == 0) > 0.99
    assert np.mean(packed[0] <= 8) > 0.9


def test_compressed_entry_is_several_times_smaller_and_verified(tmp_path: Path) -> None:
    loss = smooth_window()
    key_raw, key_small = cache.make_key({"w": "raw"}), cache.make_key({"w": "small"})
    raw = cache.write_entry(tmp_path, key_raw, {"loss_db": loss})
    small = cache.write_entry(tmp_path, key_small, {"loss_steps": loss_codec.pack(loss)},
                              compress=True)
    assert raw.stat().st_size > 2.5 * small.stat().st_size
    with zipfile.ZipFile(small) as zf:
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist())
    hit = cache.read_entry(tmp_path, key_small)
    assert hit.status == "hit" and hit.arrays is not None
    assert np.array_equal(loss_codec.unpack(hit.arrays["loss_steps"]),
                          loss_codec.quantise(loss), equal_nan=True)


def test_compress_round_trip_equals_the_quantised_loss() -> None:
    loss = smooth_window()
    loss[5, 10] = 3000.0
    stored, quantised = loss_codec.compress(loss)
    assert stored.dtype == np.uint8 and stored.ndim == 1
    assert np.array_equal(quantised, loss_codec.quantise(loss), equal_nan=True)
    assert np.array_equal(loss_codec.decompress(stored, loss.shape), quantised, equal_nan=True)
    # the same bytes as deflating the planes of pack(): the codec's layout, compressed once
    assert zlib.decompress(stored.tobytes()) == loss_codec.pack(loss).tobytes()
    assert len(stored) < 0.25 * loss.nbytes
    for shape in ((0, 4), (1, 1), (3, 0)):
        empty_or_one = np.full(shape, 70.0, np.float32)
        assert loss_codec.decompress(loss_codec.compress(empty_or_one)[0], shape).shape == shape


def test_decompress_refuses_bytes_of_another_window() -> None:
    stored, _ = loss_codec.compress(smooth_window())
    with pytest.raises(ValueError, match="planes"):
        loss_codec.decompress(stored, (10, 10))
    with pytest.raises(ValueError, match="inflate"):
        loss_codec.decompress(stored[: len(stored) // 2], (120, 140))


def test_site_entry_holds_the_loss_deflated_once(tmp_path: Path) -> None:
    study = make_study(SITES[:1])
    band = study.config.band("CMCC", "FDD900")
    x, y = study.grid.xy(40, 40)
    window, _ = predict.site_loss(study.grid, x, y, height_m=30.0, f_mhz=band.frequency_mhz,
                                  model=study.config.model, rx_height_m=1.5,
                                  cache_dir=tmp_path)
    (entry,) = tmp_path.glob("*.npz")
    with zipfile.ZipFile(entry) as zf:  # the codec deflated the loss: the file stores it
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
    key = entry.stem
    hit = cache.read_entry(tmp_path, key)
    assert hit.status == "hit" and hit.arrays is not None
    assert np.array_equal(loss_codec.decompress(hit.arrays["loss_deflated"],
                                                window.loss_db.shape),
                          window.loss_db, equal_nan=True)


def test_cold_and_warm_site_loss_are_identical_and_quantised(tmp_path: Path) -> None:
    study = make_study(SITES[:1])
    band = study.config.band("CMCC", "FDD900")
    x, y = study.grid.xy(40, 40)
    params = {"height_m": 30.0, "f_mhz": band.frequency_mhz, "model": study.config.model,
              "rx_height_m": 1.5, "cache_dir": tmp_path}
    cold, from_cache = predict.site_loss(study.grid, x, y, **params)
    warm, from_cache_2 = predict.site_loss(study.grid, x, y, **params)
    assert (from_cache, from_cache_2) == (False, True)
    assert np.array_equal(cold.loss_db, warm.loss_db, equal_nan=True)
    exact = engine.site_path_loss(study.grid.elevation, study.grid.transform,
                                  *study.grid.xy(40, 40), 30.0, band.frequency_mhz,
                                  rx_height_agl_m=1.5,
                                  radius_m=study.config.model.radius_km * 1000.0,
                                  delta_n=study.config.model.delta_n)
    assert np.array_equal(cold.loss_db, loss_codec.quantise(exact.loss_db), equal_nan=True)


def test_an_entry_of_the_old_format_is_never_read(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    study = make_study(SITES[:1])
    band = study.config.band("CMCC", "FDD900")
    xy = study.grid.xy(40, 40)
    key = predict.loss_cache_key(study.grid, *xy, 30.0, band.frequency_mhz,
                                 study.config.model, 1.5)
    monkeypatch.setattr(loss_codec, "FORMAT", "float32-v0")
    old_key = predict.loss_cache_key(study.grid, *xy, 30.0, band.frequency_mhz,
                                     study.config.model, 1.5)
    assert old_key != key  # the format is part of the key: old entries are simply not found


def test_float64_loss_for_the_rsrp_kernel_is_the_float32_loss_widened(tmp_path: Path) -> None:
    loss = smooth_window()
    steps = loss_codec.to_steps(loss)
    wide = loss_codec.from_steps(steps, np.float64)
    assert wide.dtype == np.float64
    assert np.array_equal(wide, loss_codec.from_steps(steps).astype(np.float64), equal_nan=True)
    stored, wide_2 = loss_codec.compress(loss, np.float64)
    assert np.array_equal(wide_2, wide, equal_nan=True)
    assert np.array_equal(loss_codec.decompress(stored, loss.shape, np.float64), wide,
                          equal_nan=True)
    # a site's RSRP (float64 loss inside) equals the RSRP of its public float32 loss window,
    # computed, read from the cache or uncached
    study = make_study(SITES[1:2])
    cfg, grid = study.config, study.grid
    job = predict.make_site_job(cfg, study.sites.iloc[0], 0)
    assert isinstance(job, predict.SiteJob)
    window, _ = predict.site_loss(grid, job.x, job.y, height_m=job.height_m, f_mhz=job.f_mhz,
                                  model=cfg.model, rx_height_m=1.5)
    assert window.loss_db.dtype == np.float32
    rsrp, sector = predict.window_rsrp(
        grid, window, job.x, job.y, height_m=job.height_m, azimuths=job.azimuths,
        radio=job.radio, pattern=job.pattern, rx_height_m=1.5, body_loss_db=0.0,
        delta_n=cfg.model.delta_n)
    for cache_dir in (None, tmp_path, tmp_path):
        cov = predict.predict_site(grid, cfg, job, cache_dir)
        assert np.array_equal(cov.rsrp_dbm, rsrp, equal_nan=True)
        assert np.array_equal(cov.sector, sector)
    assert cov.from_cache


def awkward_window(shape: tuple[int, int], seed: int = 11) -> np.ndarray:
    """Loss with everything the codec must treat as numpy does: NaN, +-inf, negative and
    huge values, and exact ties (loss / step exactly k + 0.5 in float64)."""
    rng = np.random.default_rng(seed)
    loss = rng.normal(120.0, 40.0, shape).astype(np.float32)
    kind = rng.integers(0, 8, shape)
    loss[kind == 1] = np.nan
    loss[kind == 2] = np.inf
    loss[kind == 3] = -np.inf
    loss[kind == 4] = -100.0 * rng.random(int((kind == 4).sum()))
    loss[kind == 5] = 10.0 ** rng.uniform(3.0, 30.0, int((kind == 5).sum()))
    candidates = (np.arange(140_000) * 0.025).astype(np.float32)
    ties = candidates[(candidates.astype(np.float64) / loss_codec.STEP_DB) % 1.0 == 0.5]
    assert ties.size > 10_000  # 0.125, 0.375, ... (the codec rounds them half to even)
    loss[kind == 6] = rng.choice(ties, int((kind == 6).sum()))
    loss[kind == 7] = rng.choice([0.0, -0.0, 0.02, 3276.75, 3276.8, 5000.0],
                                 int((kind == 7).sum()))
    return loss


@pytest.mark.parametrize("shape", [(257, 311), (1, 9), (40, 1), (0, 6), (6, 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_codec_equals_the_numpy_reference(shape: tuple[int, int], dtype) -> None:
    """The compiled encode (steps, planes, quantised loss in one pass) and decode give the
    numpy reference functions' bytes, so the stored entries (format v4) are unchanged."""
    for loss in (awkward_window(shape), smooth_window()[: shape[0], : shape[1]]):
        steps = loss_codec.to_steps(loss)
        reference = loss_codec.from_steps(steps, dtype)
        stored, quantised = loss_codec.compress(loss, dtype)
        assert quantised.dtype == reference.dtype == dtype
        assert quantised.tobytes() == reference.tobytes()
        planes = loss_codec.pack_steps(steps)
        assert zlib.decompress(stored.tobytes()) == planes.tobytes()
        deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, zlib.MAX_WBITS,
                                   zlib.DEF_MEM_LEVEL, loss_codec.STRATEGY)
        assert stored.tobytes() == deflate.compress(planes.tobytes()) + deflate.flush()
        back = loss_codec.decompress(stored, loss.shape, dtype)
        assert back.dtype == dtype and back.tobytes() == reference.tobytes()
        assert loss_codec.unpack(planes, dtype).tobytes() == reference.tobytes()


def test_compress_of_other_layouts_takes_the_reference_path() -> None:
    """A float64, strided or read-only window gives the same bytes as a float32 one."""
    loss = awkward_window((60, 80))
    expected = loss_codec.compress(loss)
    wide = loss.astype(np.float64)  # float32 values widened: the same steps
    strided = np.zeros((60, 160), np.float32)
    strided[:, ::2] = loss
    frozen = loss.copy()
    frozen.flags.writeable = False
    for other in (wide, strided[:, ::2], frozen):
        stored, quantised = loss_codec.compress(other)
        assert stored.tobytes() == expected[0].tobytes()
        assert quantised.tobytes() == expected[1].tobytes()
