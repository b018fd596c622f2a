"""mypy stays clean on ``coverage/`` ([tool.mypy] in pyproject.toml), and it can fail.

A cold run takes a few minutes (pandas-stubs and numpy are large), hence ``slow``; a warm
``.mypy_cache`` brings it to seconds.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _mypy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=1800)


@pytest.mark.slow
def test_mypy_is_clean_on_the_package():
    done = _mypy()                       # files = ["coverage"] from pyproject.toml
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-2000:]
    assert "Success: no issues found" in done.stdout


@pytest.mark.slow
def test_mypy_reports_a_pandas_scalar_used_as_text(tmp_path):
    """The same configuration flags the error kind this suite keeps out: a pandas scalar
    (``Series.iat``) passed where ``str`` is required."""
    bad = tmp_path / "bad.py"
    bad.write_text("import pandas as pd\n\n\n"
                   "def first(s: pd.Series) -> str:\n"
                   "    return ', '.join([s.iat[0]])\n")
    done = _mypy(str(bad))               # the project's configuration and cache
    assert done.returncode == 1, done.stdout
    assert "bad.py:5: error" in done.stdout
