"""The layers contract in pyproject.toml holds, and it can fail.

import-linter (grimp) reads every import statement, including imports inside functions and
under ``TYPE_CHECKING``, so a lazy import cannot hide a reverse arrow.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"

# Runs import-linter on a copy of the package: the copy is put first on sys.path, and the
# editable install's finder is removed so that `coverage` resolves to the copy.
_RUN_ON_COPY = textwrap.dedent("""
    import sys
    sys.meta_path = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path.insert(0, sys.argv[1])
    import coverage
    assert coverage.__file__.startswith(sys.argv[1]), coverage.__file__
    from importlinter.cli import lint_imports
    sys.exit(lint_imports(config_filename=sys.argv[2], no_cache=True, no_logo=True,
                          limit_to_contracts=tuple(sys.argv[3:])))
""")


def _lint_copy(tmp_path: Path, edit: tuple[str, str], *contracts: str
               ) -> subprocess.CompletedProcess:
    """import-linter on a copy of the package with ``edit`` = (module file, code) appended."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "coverage", src / "coverage",
                    ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    target = src / "coverage" / edit[0]
    target.write_text(target.read_text(encoding="utf-8") + edit[1], encoding="utf-8")
    config = tmp_path / "pyproject.toml"
    shutil.copy(PYPROJECT, config)
    return subprocess.run([sys.executable, "-c", _RUN_ON_COPY, str(src), str(config),
                           *contracts], capture_output=True, text=True, check=False,
                          cwd=tmp_path)


def test_every_contract_is_kept():
    assert lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True) == 0


def test_unchanged_copy_passes(tmp_path):
    """The harness itself: the copy without an edit keeps the contract."""
    run = _lint_copy(tmp_path, ("signal.py", "\n"), "layers")
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_lazy_reverse_import_breaks_the_layers(tmp_path):
    """signal (low) importing pipeline (high) inside a function is reported."""
    code = "\n\ndef _reverse():\n    from coverage.pipeline import STEPS\n\n    return STEPS\n"
    run = _lint_copy(tmp_path, ("signal.py", code), "layers")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "BROKEN" in run.stdout
    assert "coverage.signal -> coverage.pipeline" in run.stdout


def test_predict_may_not_import_scale(tmp_path):
    """The circle predict → scale → predict cannot come back."""
    code = "\n\ndef _cluster():\n    from coverage.scale.runners import predict_on_cluster\n\n" \
           "    return predict_on_cluster\n"
    run = _lint_copy(tmp_path, ("predict/network.py", code), "layers")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "coverage.predict.network -> coverage.scale.runners" in run.stdout


def test_folium_outside_maps_is_reported(tmp_path):
    run = _lint_copy(tmp_path, ("output/figures.py", "\nimport folium  # noqa\n"),
                     "folium-only-in-maps")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "coverage.output.figures -> folium" in run.stdout
