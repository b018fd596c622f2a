"""coverage-planner: rural mobile-coverage gaps, site planning and acceptance readiness.

The import name is ``coverage`` (distribution ``coverage-planner``).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("coverage-planner")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
