"""Every candidate option's loss at the household cells, cached as one entry per cell set.

A planning run asks :class:`coverage.predict.candidates.CandidateRadio` for every option at
the same cells (those of the household samples some operator could still gain) after
*preparing* them, so the radio keeps one *bundle* per prepared set of cells (one per planning
run): the options in the order asked (position, height, frequency), the cells, and per
option its loss steps (:mod:`coverage.predict.loss_codec`) and ground height. Its key holds
everything those depend on: the options and cells, the model settings and receiver height,
the grid with the SHA-256 of its whole elevation raster (hashed once per radio, not per
option), the loss format, the engine version, the numpy and numba versions and the digest
of the source of the code that computes the losses
(:func:`coverage.io.source_digest.source_digest`). The entry is checksummed like every cache
entry and written once every option of it is known; a warm planning step reads it back in
one file. A missing, stale or corrupt bundle means its options are computed again (the
options of a prepared cell set get no entry of their own: hundreds of small files, each
keyed on a hash of the option's DEM window, cost more to write and key than the losses).
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from coverage.config import Config
from coverage.grid import WorkingGrid
from coverage.io.cache import array_digest, make_key, read_entry, write_entry
from coverage.io.source_digest import source_digest
from coverage.predict import loss_codec
from coverage.radio import engine

BUNDLE_FORMAT = "candidate-bundle-v1"
"""Identifies the stored layout; part of the key."""

CODE = ("radio", "predict/__init__.py", "predict/candidates.py", "predict/candidate_bundle.py",
        "predict/sites.py", "predict/loss_codec.py", "grid.py", "config.py", "io/cache.py",
        "io/source_digest.py")
"""Sources (relative to the package) whose digest enters the key."""

Option = tuple[float, float, float, float]
"""(x, y, antenna height, frequency): what an option's loss at given cells depends on."""


@dataclass
class Bundle:
    """The options of one planning run and the losses known so far.

    Attributes
    ----------
    key : str
        The bundle's cache key.
    cells : ndarray of int64, shape (2, n)
        Rows and columns asked for.
    options : list of Option
        Distinct options in the order first asked.
    known : dict of Option to (ndarray of uint16, float)
        Loss steps at the cells and ground height (m) of each option known so far.
    stored : bool
        Whether the entry is on disk (read from it, or written).
    """

    key: str
    cells: np.ndarray
    options: list[Option]
    known: dict[Option, tuple[np.ndarray, float]] = field(default_factory=dict)
    stored: bool = False

    def __post_init__(self) -> None:
        self.wanted = frozenset(self.options)

    def covers(self, rows: np.ndarray, cols: np.ndarray) -> bool:
        """Whether ``rows``/``cols`` are the bundle's cells."""
        return (rows.shape == self.cells[0].shape
                and np.array_equal(rows, self.cells[0]) and np.array_equal(cols, self.cells[1]))


def bundle_key(grid: WorkingGrid, elevation: np.ndarray, config: Config,
               options: list[Option], cells: np.ndarray, *,
               elevation_digest: str | None = None) -> str:
    """SHA-256 key of the losses of ``options`` at ``cells`` (see the module notes).

    ``elevation_digest`` is :func:`~coverage.io.cache.array_digest` of ``elevation`` when
    the caller has it already (the key is the same either way).
    """
    if elevation_digest is None:
        elevation_digest = array_digest(elevation)
    return make_key({
        "format": BUNDLE_FORMAT,
        "loss_format": loss_codec.FORMAT,
        "engine": engine.ENGINE_VERSION,
        "numpy": np.__version__,
        "numba": _numba_version(),
        "code": source_digest(*CODE),
        "model": config.model.model_dump(mode="json"),
        "rx_height_m": config.rule.receiver_height_m,
        "grid": [list(grid.transform)[:6], list(grid.shape), str(grid.crs),
                 elevation_digest],
        "cells": array_digest(cells),
        "options": [list(o) for o in options],
    })


def open_bundle(cache_dir: Path, grid: WorkingGrid, elevation: np.ndarray, config: Config,
                options: list[Option], rows: np.ndarray, cols: np.ndarray, *,
                elevation_digest: str | None = None) -> Bundle:
    """The bundle of ``options`` at the cells, filled from the cache when it is there
    (``elevation_digest``: as :func:`bundle_key`)."""
    distinct = list(dict.fromkeys(options))
    cells = np.stack([np.asarray(rows, np.int64), np.asarray(cols, np.int64)])
    bundle = Bundle(bundle_key(grid, elevation, config, distinct, cells,
                               elevation_digest=elevation_digest), cells, distinct)
    found = read_entry(cache_dir, bundle.key)
    if found.status == "hit" and found.arrays is not None:
        steps, ground = found.arrays["loss_steps"], found.arrays["ground_m"]
        if steps.shape == (len(distinct), cells.shape[1]) and ground.shape == (len(distinct),):
            bundle.known = {o: (steps[i], float(ground[i])) for i, o in enumerate(distinct)}
            bundle.stored = True
    return bundle


def record(bundle: Bundle, cache_dir: Path, option: Option, steps: np.ndarray,
           ground: float) -> None:
    """Remember one option's loss; write the bundle once every option is known."""
    if bundle.stored or option not in bundle.wanted:
        return
    bundle.known[option] = (np.asarray(steps, np.uint16), float(ground))
    if len(bundle.known) == len(bundle.options):
        write_entry(cache_dir, bundle.key, {
            "loss_steps": np.stack([bundle.known[o][0] for o in bundle.options]).reshape(
                len(bundle.options), bundle.cells.shape[1]),
            "ground_m": np.array([bundle.known[o][1] for o in bundle.options], np.float64),
        }, compress=True)
        bundle.stored = True


def _numba_version() -> str:
    """The installed numba's version (the kernels' compiler), without importing it."""
    try:
        return importlib.metadata.version("numba")
    except importlib.metadata.PackageNotFoundError:
        return "none"
