"""requirements.lock (what `make demo` and `make test` install) agrees with pyproject.toml.

A lock that drifts from the declared ranges installs something nobody declared; a
dependency added to pyproject.toml without `make lock` would be missing on a fresh machine.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYTHONS = ("3.11", "3.12", "3.13")
"""The Python versions the lock must serve (3.11 and 3.12 at least)."""


def _pins() -> list[tuple[str, str, Marker | None, list[str]]]:
    """(name, version, marker, hashes) of every entry of the lock."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pins = []
    for block in re.split(r"\n(?=\S)", text):
        first = block.split("\n", 1)[0].strip()
        if not first or first.startswith("#"):
            continue
        spec = first.rstrip("\\").strip()
        name_version, _, marker = spec.partition(";")
        name, _, version = name_version.strip().partition("==")
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)
        pins.append((canonicalize_name(name), version,
                     Marker(marker.strip()) if marker.strip() else None, hashes))
    return pins


def _env(python: str) -> dict[str, str]:
    return {"python_version": python, "python_full_version": f"{python}.0",
            "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
            "platform_machine": "x86_64", "implementation_name": "cpython",
            "platform_python_implementation": "CPython", "extra": ""}


def _pinned_for(python: str) -> dict[str, str]:
    env = _env(python)
    return {name: version for name, version, marker, _ in _pins()
            if marker is None or marker.evaluate(env)}


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in ("test", "dask"):
        reqs += [Requirement(r) for r in project["optional-dependencies"][extra]]
    build = (ROOT / "requirements-build.in").read_text(encoding="utf-8").splitlines()
    reqs += [Requirement(r) for r in build if r.strip() and not r.startswith("#")]
    return reqs


def test_every_pin_has_a_hash():
    pins = _pins()
    assert len(pins) > 50
    assert all(hashes for _, _, _, hashes in pins), "every pin needs --hash (make lock)"
    assert all(re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version) for _, version, _, _ in pins)


@pytest.mark.parametrize("python", PYTHONS)
def test_every_declared_dependency_is_pinned_within_its_range(python):
    pinned = _pinned_for(python)
    problems = []
    for req in _declared():
        if req.marker is not None and not req.marker.evaluate(_env(python)):
            continue
        name = canonicalize_name(req.name)
        if name not in pinned:
            problems.append(f"{req.name} is declared but not in requirements.lock")
        elif not req.specifier.contains(pinned[name], prereleases=True):
            problems.append(f"{req.name}=={pinned[name]} is outside {req.specifier}")
    assert not problems, f"run `make lock`: {problems}"


def test_coverage_py_is_never_installed():
    # The package's import name is `coverage`, which is also coverage.py's.
    names = {name for name, _, _, _ in _pins()}
    assert "coverage" not in names and "pytest-cov" not in names


def test_lock_was_compiled_from_the_current_declarations():
    import importlib.util

    spec = importlib.util.spec_from_file_location("lock_inputs", ROOT / "tools/lock_inputs.py")
    assert spec is not None and spec.loader is not None
    lock_inputs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lock_inputs)
    lines = (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
    recorded = [line for line in lines if line.startswith(lock_inputs.PREFIX)]
    assert recorded == [lock_inputs.PREFIX + lock_inputs.fingerprint()], \
        "pyproject.toml's dependencies or requirements-build.in changed: run `make lock`"
