"""Map labels: the one label table lives in :mod:`coverage.labels` (kept here for imports)."""

from coverage.labels import LABELS, labels, operator_name

__all__ = ["LABELS", "labels", "operator_name"]
