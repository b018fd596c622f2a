"""The fingerprint of what ``make lock`` resolves, recorded as the lock's last line.

``requirements.lock`` is compiled from the dependency declarations of ``pyproject.toml``
(``requires-python``, ``dependencies``, the ``test`` and ``dask`` extras) and from
``requirements-build.in``. ``make lock`` appends the SHA-256 of those declarations to the
lock; ``tests/test_lock.py`` recomputes it, so a declaration changed without ``make lock``
fails the tests with what to run. Other edits of ``pyproject.toml`` (tool settings) do not
change the fingerprint.

Run: ``python tools/lock_inputs.py`` prints the line ``make lock`` appends.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "# lock inputs sha256: "
"""Start of the lock's fingerprint line."""


def fingerprint(root: Path = ROOT) -> str:
    """SHA-256 (hex) of the dependency declarations the lock is compiled from."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    build = (root / "requirements-build.in").read_text(encoding="utf-8").splitlines()
    declared = {
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies", []),
        "extras": {name: extras.get(name, []) for name in ("test", "dask")},
        "build": [line.strip() for line in build
                  if line.strip() and not line.lstrip().startswith("#")],
    }
    text = json.dumps(declared, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


if __name__ == "__main__":
    print(PREFIX + fingerprint())
