"""The area engine: physics sanity cases and consistency with the single-profile P.1812."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from coverage.errors import ModelRangeError
from coverage.radio import engine, models, p1812
from coverage.radio.diffraction import (
    POL_VERTICAL,
    bullington_from_nu,
    delta_bullington,
    knife_edge_j,
    spherical_earth_diffraction,
    wavelength_m,
)

RES = 30.0
HGT = Path(__file__).resolve().parents[2] / "shared" / "data" / "terrain" / "srtm3" / "N44W072.hgt"


def grid(n: int) -> Affine:
    """A north-up 30 m grid of n x n cells with its origin at (0, n * 30)."""
    return Affine(RES, 0.0, 0.0, 0.0, -RES, n * RES)


def centre_xy(n: int, row: float, col: float) -> tuple[float, float]:
    """Map coordinates of fractional cell (row, col) (row 0.0 = centre of the first row)."""
    return (col + 0.5) * RES, n * RES - (row + 0.5) * RES


def fbm(n: int, seed: int, relief: float) -> np.ndarray:
    """Fractional-Brownian terrain (m), relief from 100 m to 100 + relief."""
    rng = np.random.default_rng(seed)
    k = np.hypot(np.fft.fftfreq(n)[:, None], np.fft.fftfreq(n)[None, :])
    k[0, 0] = 1.0
    spec = (rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))) / k ** 1.6
    spec[0, 0] = 0.0
    z = np.real(np.fft.ifft2(spec))
    return ((z - z.min()) / (z.max() - z.min()) * relief + 100.0).astype(np.float32)


def lbfs(f_ghz: float, d_km: float, hts: float, hrs: float) -> float:
    return 92.4 + 20 * math.log10(f_ghz) + 10 * math.log10(d_km**2 + ((hts - hrs) / 1e3) ** 2)


def test_effective_radius() -> None:
    assert engine.effective_earth_radius_km(39.25) == pytest.approx(6371 * 4 / 3, rel=1e-12)
    with pytest.raises(ModelRangeError):
        engine.effective_earth_radius_km(157.0)


def test_window_nan_outside_radius_and_site_outside() -> None:
    n = 120
    z = np.full((n, n), 200.0, np.float32)
    x, y = centre_xy(n, 60, 60)
    w = engine.site_path_loss(z, grid(n), x, y, 30.0, 900.0, radius_m=1500.0)
    assert (w.row0, w.col0, w.shape) == (10, 10, (101, 101))
    rr, cc = np.mgrid[w.slices[0], w.slices[1]]
    inside = np.hypot(rr - 60, cc - 60) * RES <= 1500.0
    assert np.isfinite(w.loss_db[inside]).all()
    assert np.isnan(w.loss_db[~inside]).all()
    assert w.loss_db.dtype == np.float32
    with pytest.raises(ModelRangeError):
        engine.site_path_loss(z, grid(n), -5000.0, y, 30.0, 900.0, radius_m=1500.0)


def test_flat_earth_with_clear_fresnel_zone_is_free_space() -> None:
    n = 200
    z = np.full((n, n), 250.0, np.float32)
    x, y = centre_xy(n, 100, 100)
    f_mhz = 1800.0
    w = engine.site_path_loss(z, grid(n), x, y, 60.0, f_mhz, rx_height_agl_m=30.0,
                              radius_m=2500.0)
    rr, cc = np.mgrid[w.slices[0], w.slices[1]]
    dist = np.hypot(rr - 100, cc - 100) * RES / 1000.0
    ok = np.isfinite(w.loss_db) & (dist > 0.2)
    expected = models.free_space_loss(f_mhz, np.sqrt(dist[ok] ** 2 + 0.03**2))
    # the receiver sits at the owning sample, up to ~0.7 cell from the centre
    offset = np.abs(w.loss_db[ok] - expected)
    assert np.median(offset) < 0.1
    assert offset.max() < 20 * math.log10(1 + 0.75 * RES / 200.0) + 1e-3


def test_low_receiver_on_flat_earth_loses_more_with_distance() -> None:
    n = 400
    z = np.full((n, n), 100.0, np.float32)
    x, y = centre_xy(n, 200, 200)
    w = engine.site_path_loss(z, grid(n), x, y, 30.0, 900.0, radius_m=5900.0)
    along = w.loss_db[w.loss_db.shape[0] // 2 - 0, :]  # the row through the site, eastwards
    east = along[along.shape[0] // 2 + 5:]
    east = east[np.isfinite(east)]
    assert np.all(np.diff(east) > 0)  # loss grows monotonically with distance
    d_km = (np.arange(east.size) + 5) * RES / 1000.0
    excess = east - models.free_space_loss(900.0, d_km)
    assert excess[-1] > 10.0  # ground in the Fresnel zone / beyond the horizon


def test_knife_edge_ridge() -> None:
    n = 300
    f_ghz = 0.9
    z = np.full((n, n), 100.0, np.float32)
    ridge_row, site_row, col = 150, 250, 150
    z[ridge_row, :] = 180.0  # a wall 80 m high, one cell thick, across the whole grid
    x, y = centre_xy(n, site_row, col)
    htg = hrg = 10.0
    w = engine.site_path_loss(z, grid(n), x, y, htg, f_ghz * 1000, rx_height_agl_m=hrg,
                              radius_m=6000.0)
    ap = engine.effective_earth_radius_km(45.0)
    lam = wavelength_m(f_ghz)
    for rx_row in (120, 60):
        d = (site_row - rx_row) * RES / 1000.0
        d1 = (site_row - ridge_row) * RES / 1000.0
        d2 = d - d1
        # height of the edge above the Tx-Rx line, with the earth bulge 500 d1 d2 / ap
        h = 180.0 + 500.0 * d1 * d2 / ap - (110.0 * d2 + 110.0 * d1) / d
        nu = h * math.sqrt(0.002 * d / (lam * d1 * d2))
        loss = float(w.loss_db[rx_row - w.row0, col - w.col0])
        extra = loss - lbfs(f_ghz, d, 110.0, 110.0)
        assert knife_edge_j(nu) > 15.0
        assert extra == pytest.approx(bullington_from_nu(nu, d), abs=0.3)
    # a receiver well in front of the ridge sees (nearly) free space
    loss = float(w.loss_db[200 - w.row0, col - w.col0])
    assert loss - lbfs(f_ghz, 1.5, 110.0, 110.0) < 1.0


def test_behind_a_mountain_is_lossier_than_in_front() -> None:
    n = 400
    rr, cc = np.mgrid[0:n, 0:n]
    z = (200.0 + 600.0 * np.exp(-((rr - 150) ** 2 + (cc - 200) ** 2) / (2 * 15.0**2))
         ).astype(np.float32)
    x, y = centre_xy(n, 250, 200)
    w = engine.site_path_loss(z, grid(n), x, y, 30.0, 900.0, radius_m=6000.0)

    def at(row: int, col: int) -> float:
        return float(w.loss_db[row - w.row0, col - w.col0])

    front, behind = at(200, 200), at(60, 200)  # 1.5 km and 5.7 km from the site
    fs_front, fs_behind = (float(models.free_space_loss(900.0, d)) for d in (1.5, 5.7))
    assert behind - fs_behind > front - fs_front + 20.0
    side = at(250, 10)  # same distance, beside the mountain, not behind it
    assert behind > side + 15.0


def test_symmetric_terrain_gives_symmetric_losses() -> None:
    n = 241
    z = fbm(n, seed=3, relief=400.0)
    z = (z + z[:, ::-1]) / 2
    z = (z + z[::-1, :]) / 2
    x, y = centre_xy(n, 120, 120)
    w = engine.site_path_loss(z, grid(n), x, y, 25.0, 1800.0, radius_m=3500.0)
    loss = w.loss_db
    assert np.isfinite(loss).sum() > 30000
    np.testing.assert_allclose(loss, loss[:, ::-1], atol=1e-3, equal_nan=True)
    np.testing.assert_allclose(loss, loss[::-1, :], atol=1e-3, equal_nan=True)


def test_nan_over_nodata_and_profile_goes_on() -> None:
    n = 200
    z = fbm(n, seed=4, relief=200.0)
    z[80:90, 95:105] = np.nan
    x, y = centre_xy(n, 150, 100)
    w = engine.site_path_loss(z, grid(n), x, y, 30.0, 900.0, radius_m=4000.0)
    hole = w.loss_db[80 - w.row0:90 - w.row0, 95 - w.col0:105 - w.col0]
    assert np.isnan(hole).all()
    beyond = w.loss_db[40 - w.row0:70 - w.row0, 95 - w.col0:105 - w.col0]
    assert np.isfinite(beyond).all()


def test_closed_form_modes() -> None:
    n = 200
    z = np.full((n, n), 100.0, np.float32)
    x, y = centre_xy(n, 100, 100)
    fs = engine.site_path_loss(z, grid(n), x, y, 40.0, 900.0, radius_m=2900.0,
                               model="free_space")
    hata = engine.site_path_loss(z, grid(n), x, y, 40.0, 900.0, radius_m=2900.0, model="hata",
                                 hata_environment="open")
    loss_fs = float(fs.loss_db[100 - fs.row0, 150 - fs.col0])
    d3 = math.hypot(1.5, (40.0 - 1.5) / 1000.0)
    assert loss_fs == pytest.approx(float(models.free_space_loss(900.0, d3)), abs=1e-3)
    loss_hata = float(hata.loss_db[100 - hata.row0, 150 - hata.col0])
    assert loss_hata == pytest.approx(
        float(models.hata_loss(900.0, 1.5, 40.0, 1.5, "open")), abs=1e-3)


def consistency(elevation: np.ndarray, transform: Affine, x: float, y: float, htg: float,
                f_ghz: float, radius_m: float, cells: int, seed: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Engine minus (delta-Bullington + free space) and minus P.1812 Lb, at sampled cells."""
    w = engine.site_path_loss(elevation, transform, x, y, htg, f_ghz * 1000.0,
                              radius_m=radius_m)
    ap = engine.effective_earth_radius_km(45.0)
    found = np.argwhere(np.isfinite(w.loss_db))
    rng = np.random.default_rng(seed)
    err_db, err_lb = [], []
    for wr, wc in found[rng.choice(len(found), cells, replace=False)]:
        d, h = engine.cell_profile(elevation, transform, x, y, wr + w.row0, wc + w.col0,
                                   radius_m)
        if d.size < 5:
            continue
        ref = p1812.basic_transmission_loss(f_ghz, 50.0, d, h, None, None, htg, 1.5,
                                            POL_VERTICAL, 44.5, 44.5, -71.5, -71.5,
                                            delta_n=45.0)
        hts, hrs = h[0] + htg, h[-1] + 1.5
        ld = delta_bullington(d, h, hts, hrs, ref.hstd, ref.hsrd, ap, f_ghz, 0.0, POL_VERTICAL)
        got = float(w.loss_db[wr, wc])
        err_db.append(got - (lbfs(f_ghz, d[-1], hts, hrs) + ld))
        err_lb.append(got - ref.Lb)
    return np.abs(err_db), np.abs(err_lb)


@pytest.mark.parametrize(("seed", "relief", "htg", "f_ghz"),
                         [(1, 900.0, 30.0, 0.9), (2, 120.0, 15.0, 1.85)])
def test_consistency_with_single_profile_synthetic(seed: int, relief: float, htg: float,
                                                   f_ghz: float) -> None:
    n = 360
    z = fbm(n, seed, relief)
    x, y = centre_xy(n, 180.3, 179.6)
    err_db, err_lb = consistency(z, grid(n), x, y, htg, f_ghz, 5000.0, 220, seed)
    assert err_db.size >= 200
    for err in (err_db, err_lb):
        assert np.mean(err <= 1.0) >= 0.95
        assert np.median(err) < 0.01


@pytest.mark.shared
def test_consistency_with_single_profile_real_tile() -> None:
    if not HGT.is_file():
        pytest.skip("shared terrain tile not present")
    rasterio_warp = pytest.importorskip("rasterio.warp")
    from pyproj import Transformer
    from rasterio.crs import CRS

    raw = np.fromfile(HGT, dtype=">i2").reshape(1201, 1201)[300:900, 200:900]
    raw = raw.astype(np.float32)
    step = 1.0 / 1200.0
    src = Affine(step, 0, -72.0 + 200 * step - step / 2, 0, -step, 45.0 - 300 * step + step / 2)
    to_utm = Transformer.from_crs(4326, 32619, always_xy=True)
    x, y = to_utm.transform(-71.5, 44.5)
    n = 500
    dst_tr = Affine(RES, 0, math.floor(x / RES) * RES - n / 2 * RES, 0, -RES,
                    math.floor(y / RES) * RES + n / 2 * RES)
    dst = np.full((n, n), np.nan, np.float32)
    rasterio_warp.reproject(raw, dst, src_transform=src, src_crs=CRS.from_epsg(4326),
                            dst_transform=dst_tr, dst_crs=CRS.from_epsg(32619),
                            dst_nodata=np.nan, resampling=rasterio_warp.Resampling.bilinear)
    assert np.isfinite(dst).all()
    err_db, err_lb = consistency(dst, dst_tr, x, y, 30.0, 0.9, 7000.0, 220, 11)
    assert err_db.size >= 200
    for err in (err_db, err_lb):
        assert np.mean(err <= 1.0) >= 0.95
        assert err.max() < 1.0


def test_smooth_earth_clear_bound_only_where_ldsph_is_zero() -> None:
    """The engine skips Lbulls and Ldsph where its cheap bound says Ldsph is 0: on paths of
    every kind (heights 1.5 m to 3 km, 10 m to 120 km, 30 MHz to 6 GHz) the bound never
    fires where the recommendation's Ldsph is not exactly 0, and it does fire on most of
    the short, high paths of a site's area."""
    rng = np.random.default_rng(18)
    ap = engine.effective_earth_radius_km(45.0)
    fired = 0
    short = 0
    for _ in range(4000):
        dt = float(10.0 ** rng.uniform(-2.0, math.log10(120.0)))
        hte = float(10.0 ** rng.uniform(math.log10(1.5), math.log10(3000.0)))
        hre = float(10.0 ** rng.uniform(math.log10(1.5), math.log10(300.0)))
        f_ghz = float(10.0 ** rng.uniform(math.log10(0.03), math.log10(6.0)))
        lam = wavelength_m(f_ghz)
        clear = engine._smooth_earth_clear(dt, hte, hre, ap, lam)
        for pol in (0, 1):
            ldsph = spherical_earth_diffraction(dt, hte, hre, ap, f_ghz, 0.0, pol)
            assert not clear or ldsph == 0.0, (dt, hte, hre, f_ghz, pol, ldsph)
        if dt < 10.0 and hte > 20.0 and hre > 10.0:
            short += 1
            fired += clear
    assert fired >= 0.8 * short


def _los_numax_plain(w: np.ndarray, k: int, dt: float, hts: float, yr: float, lam: float,
                     alpha: float, beta: float, c0: float) -> float:
    """engine._los_numax as it was, point by point (no block bounds)."""
    kk = math.sqrt(0.002 * dt / lam)
    if kk * max(math.sqrt(alpha * beta), 2.0 * c0 / dt) >= 0.78:
        return -math.inf
    s = w[engine._D, 1]
    q1 = (0.78 / (alpha * kk)) ** 2
    q2 = (0.78 / (beta * kk)) ** 2
    ilo = max(1, int(dt / (1.0 + q2) / s))
    ihi = min(k - 1, int(dt * q1 / (1.0 + q1) / s) + 1)
    slope = (yr - hts) / dt
    kmin = math.sqrt(0.008 / (lam * dt)) * (1.0 - 1e-9)
    numax = -math.inf
    for i in range(ilo, ihi + 1):
        di = float(w[engine._D, i])
        ci = float(w[engine._G, i]) - hts - slope * di
        if ci < 0.0 and ci * kmin < max(numax, -0.78):
            continue
        numax = max(numax, ci * math.sqrt(0.002 * dt / (lam * di * (dt - di))))
    return numax


@pytest.mark.parametrize("seed", range(6))
def test_los_numax_block_bounds_give_the_point_scan(seed: int) -> None:
    """The line-of-sight scan skips whole blocks of samples by their largest height only
    when every point of the block would be skipped: the same numax, to the bit."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(40, 700))
    step = 0.03
    d = np.arange(n, dtype=np.float64) * step
    g = 200.0 + np.cumsum(rng.normal(0.0, 2.0, n)) - 500.0 / 8500.0 * d * d
    w = np.zeros((engine._WORK_ROWS, n), np.float64)
    w[engine._D], w[engine._G] = d, g
    for b in range(0, n, engine._BLOCK):
        w[engine._GB, b >> engine._BLOCK_BITS] = g[b:b + engine._BLOCK].max()
    lam = 0.333
    checked = 0
    for _ in range(300):
        k = int(rng.integers(3, n))
        dt = d[k]
        hts = float(g[1:k].max() + rng.uniform(-3.0, 40.0))
        yr = float(g[k] + rng.uniform(0.5, 40.0))
        slope = (yr - hts) / dt
        c = g[1:k] - hts - slope * d[1:k]   # clearance below the Tx-Rx line (negative: clear)
        alpha = max(float(rng.uniform(1e-4, 0.5)), 1e-6)
        beta = max(float(rng.uniform(1e-4, 0.5)), 1e-6)
        c0 = max(float(-c.max()), 0.0) * float(rng.uniform(0.0, 1.0))
        args = (w, k, float(dt), hts, yr, lam, alpha, beta, c0)
        got = engine._los_numax(*args)
        want = _los_numax_plain(*args)
        assert got == want or (math.isinf(got) and math.isinf(want))
        checked += want > -0.78
    assert checked > 5


@pytest.mark.parametrize(("seed", "relief"), [(3, 900.0), (4, 60.0)])
def test_one_sweep_at_several_frequencies_gives_each_frequency_to_the_bit(
        seed: int, relief: float) -> None:
    """The bands of a mast are swept together: each band's loss must be exactly the loss of
    a sweep at that frequency alone, over hills and over a nodata hole, in any order."""
    n = 260
    z = fbm(n, seed, relief)
    z[40:55, 150:170] = np.nan
    x, y = centre_xy(n, 130.4, 129.8)
    freqs = (2600.0, 700.0, 1800.0, 900.0)
    together = engine.site_path_loss_bands(z, grid(n), x, y, 25.0, freqs, radius_m=3600.0)
    assert len(together) == len(freqs)
    for f, win in zip(freqs, together, strict=True):
        alone = engine.site_path_loss(z, grid(n), x, y, 25.0, f, radius_m=3600.0)
        assert (win.row0, win.col0) == (alone.row0, alone.col0)
        np.testing.assert_array_equal(win.loss_db, alone.loss_db)
    # the bands differ (each got its own frequency), and higher frequencies lose more
    centre = [float(np.nanmean(w.loss_db)) for w in together]
    assert centre[1] < centre[3] < centre[2] < centre[0]
    # chosen cells: the same values as the windows, per band
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n, 500)
    cols = rng.integers(0, n, 500)
    at_cells, h0, _ = engine.path_loss_at_cells_bands(z, grid(n), x, y, 25.0, freqs, rows,
                                                      cols, radius_m=3600.0)
    assert h0 == together[0].site_ground_m
    for win, loss in zip(together, at_cells, strict=True):
        h, w = win.loss_db.shape
        inside = (rows >= win.row0) & (rows < win.row0 + h) & (cols >= win.col0) & (
            cols < win.col0 + w)
        expected = np.full(rows.shape, np.nan, np.float32)
        expected[inside] = win.loss_db[rows[inside] - win.row0, cols[inside] - win.col0]
        np.testing.assert_array_equal(loss, expected)
        assert np.isfinite(loss).sum() > 100


def test_bands_refuse_an_empty_or_out_of_range_frequency_list() -> None:
    z = np.full((50, 50), 100.0, np.float32)
    x, y = centre_xy(50, 25, 25)
    with pytest.raises(ValueError, match="at least one frequency"):
        engine.site_path_loss_bands(z, grid(50), x, y, 30.0, (), radius_m=600.0)
    with pytest.raises(ModelRangeError, match="7000"):
        engine.site_path_loss_bands(z, grid(50), x, y, 30.0, (900.0, 7000.0), radius_m=600.0)
