"""``coverage-planner site``: one candidate from a DEM alone (rasters, overlay, summary)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from conftest import DEM_NODATA, tiny_dem

from coverage.cli import app
from coverage.io.chinacoords import wgs84_to_gcj02
from coverage.io.writers import write_geotiff
from coverage.sitejob.job import COLORS

runner = CliRunner()
SITE = ["--lon", "116.15", "--lat", "30.85", "--height", "30", "--band", "CMCC/FDD900",
        "--radius", "2", "--resolution", "50"]
HGT = Path(__file__).resolve().parents[2] / "shared" / "data" / "terrain" / "srtm3" / (
    "N44W072.hgt")


def run_site(dem: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["site", "--dem", str(dem), "--out", str(out), *extra])
    return result.exit_code, result.output


def test_site_writes_cogs_overlay_and_summary(tiny_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = run_site(tiny_data / "terrain" / "dem.tif", out, *SITE,
                            "--data", str(tiny_data))
    assert code == 0, output
    assert sorted(p.name for p in out.iterdir()) == ["loss.tif", "rsrp.kml", "rsrp.png",
                                                      "rsrp.tif"]
    line = output.strip().splitlines()[-1]
    assert re.search(r"\d+\.\d km² of \d+\.\d km² within 2 km at RSRP >= -?\d+\.\d dBm, "
                     r"\d+ households", line), line
    with rasterio.open(out / "rsrp.tif") as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.crs.to_epsg() == 32650 and src.res == (50.0, 50.0)
        rsrp = src.read(1)
    with rasterio.open(out / "loss.tif") as src:
        loss = src.read(1)
    assert np.array_equal(np.isnan(rsrp), np.isnan(loss))
    centre = np.array(rsrp.shape) // 2
    assert np.nanmax(rsrp) == pytest.approx(np.nanmax(rsrp[centre[0] - 3:centre[0] + 4,
                                                           centre[1] - 3:centre[1] + 4]))
    assert np.isnan(rsrp[0, 0])  # outside the radius
    assert np.nanmin(loss) > 30.0
    assert out.joinpath("rsrp.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image  # the overlay: classes as a palette image, no data transparent

    with Image.open(out / "rsrp.png") as png:
        assert png.mode == "P" and png.info["transparency"] == 0
        classes = np.asarray(png)
        colours = png.getpalette()[3:3 * int(classes.max()) + 3]
    assert classes[0, 0] == 0 and (classes > 0).mean() > 0.5
    assert colours[:3] == [int(COLORS[0][k:k + 2], 16) for k in (1, 3, 5)]
    kml = out.joinpath("rsrp.kml").read_text(encoding="utf-8")
    assert "<href>rsrp.png</href>" in kml and "<LatLonBox>" in kml


def test_bad_options_one_message_each_exit_2_nothing_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = run_site(tmp_path / "missing.tif", out, "--lon", "east", "--lat", "30.8",
                            "--height", "0", "--band", "CMCC/FDD700")
    assert code == 2
    for option in ("--dem", "--lon", "--height", "--band"):
        assert f"'{option}'" in output
    assert "CMCC/FDD900" in output  # the fix lists the known bands
    assert "Traceback" not in output and not out.exists()


def test_site_outside_the_dem_exit_2(tiny_data: Path, tmp_path: Path) -> None:
    code, output = run_site(tiny_data / "terrain" / "dem.tif", tmp_path / "out",
                            "--lon", "117.5", "--lat", "30.85", "--frequency", "900")
    assert code == 2 and "does not cover the site" in output
    assert not (tmp_path / "out").exists()


def test_declared_datum_and_tiles_in_another_crs(tiny_data: Path, tmp_path: Path) -> None:
    dem, transform = tiny_dem()
    reference = run_site(tiny_data / "terrain" / "dem.tif", tmp_path / "a", *SITE)
    # the same place given in GCJ-02, the DEM as two tiles (mosaicked: no seam)
    tiles = tmp_path / "tiles"
    write_geotiff(tiles / "west.tif", dem[:, :100], transform, "EPSG:4326", DEM_NODATA,
                  cog=False)
    east_tf = transform @ transform.translation(100, 0)
    write_geotiff(tiles / "east.tif", dem[:, 100:], east_tf, "EPSG:4326", DEM_NODATA, cog=False)
    glon, glat = wgs84_to_gcj02(116.15, 30.85)
    args = list(SITE)
    args[1], args[3] = f"{float(glon):.9f}", f"{float(glat):.9f}"
    shifted = run_site(tiles, tmp_path / "b", *args, "--datum", "gcj02")
    assert reference[0] == shifted[0] == 0, shifted[1]
    with rasterio.open(tmp_path / "a" / "rsrp.tif") as a, \
            rasterio.open(tmp_path / "b" / "rsrp.tif") as b:
        assert a.transform == b.transform
        ra, rb = a.read(1), b.read(1)
    both = np.isfinite(ra) & np.isfinite(rb)
    assert both.sum() > 0.95 * np.isfinite(ra).sum()
    assert np.nanmedian(np.abs(ra[both] - rb[both])) < 0.01


def test_overlay_classes_match_the_maps() -> None:
    from coverage.maps.raster import RSRP_COLORS, RSRP_STEPS_DBM
    from coverage.sitejob.job import COLORS, STEPS_DBM

    assert (STEPS_DBM, COLORS) == (RSRP_STEPS_DBM, RSRP_COLORS)


@pytest.mark.skipif(not HGT.is_file(), reason="shared SRTM tile N44W072 not present")
def test_srtm_tile_10_km_at_90_m(tmp_path: Path) -> None:
    code, output = run_site(HGT, tmp_path / "out", "--lon", "-71.5", "--lat", "44.5",
                            "--frequency", "900", "--radius", "10", "--resolution", "90")
    assert code == 0, output
    with rasterio.open(tmp_path / "out" / "rsrp.tif") as src:
        assert src.crs.to_epsg() == 32619
        assert np.isfinite(src.read(1)).sum() > 0.7 * np.pi * (10_000 / 90) ** 2


def test_site_rsrp_and_threshold_are_the_county_run_s() -> None:
    from test_predict import SITES, make_study

    from coverage.assess import effective_threshold
    from coverage.predict import site_loss, window_rsrp
    from coverage.radio.antenna import PatternParams
    from coverage.radio.linkbudget import site_radio
    from coverage.sitejob.job import site_rsrp, threshold_dbm

    study = make_study(SITES[:1])
    cfg = study.config
    band = cfg.band("CMCC", "FDD900")
    x, y = (float(v) for v in study.grid.xy(40, 40))
    window, _ = site_loss(study.grid, x, y, height_m=30.0, f_mhz=band.frequency_mhz,
                          model=cfg.model, rx_height_m=1.5)
    radio = site_radio(band, omni=False, tilt_deg=4.0)
    pattern = PatternParams(band.h_beamwidth_deg, band.v_beamwidth_deg, band.front_to_back_db,
                            band.side_lobe_v_db)
    county, _ = window_rsrp(study.grid, window, x, y, height_m=30.0, azimuths=(30.0, 150.0),
                            radio=radio, pattern=pattern,
                            rx_height_m=cfg.rule.receiver_height_m,
                            body_loss_db=cfg.rule.body_loss_db, delta_n=cfg.model.delta_n)
    one = site_rsrp(study.grid, window, x, y, 30.0, (30.0, 150.0), radio, pattern, cfg)
    assert np.array_equal(county, one, equal_nan=True)
    for reliability in (None, 0.9, 0.75):
        c = cfg.model_copy(update={"rule": cfg.rule.model_copy(
            update={"location_reliability": reliability})})
        assert threshold_dbm(c) == pytest.approx(effective_threshold(c), abs=1e-9)
