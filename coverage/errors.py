"""One exception root for every error a user can cause or see.

Every error carries a message that says what to do. Input problems are collected
into :class:`Problem` records first, so that a user sees all of them at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious) in an input.

    Parameters
    ----------
    file : str
        File (and layer, as ``file:layer``) the problem is in, relative to the data folder.
    message : str
        What is wrong, in plain words.
    fix : str
        What the user should do about it.
    row : int or None
        1-based data row (header excluded) or feature number; None for file-level problems.
    column : str or None
        Column (field) name, when the problem is in one column.
    value : str or None
        The offending value as text.
    severity : str
        ``"error"`` (stops the run) or ``"warning"`` (reported, run goes on).
    """

    file: str
    message: str
    fix: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        val = f" (value: {self.value!r})" if self.value is not None else ""
        return f"{self.severity.upper()}: {where}: {self.message}{val}. Fix: {self.fix}"

    @property
    def is_error(self) -> bool:
        """True when this problem stops the run."""
        return self.severity == "error"


class CoverageError(Exception):
    """Root of every error raised on purpose by coverage-planner."""

    exit_code: int = 1


class InputDataError(CoverageError, ValueError):
    """One or more problems in the user's input data (exit code 2)."""

    exit_code = 2

    def __init__(self, problems: Iterable[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem(file="<input>", message=problems, fix="correct the input")]
        self.problems: list[Problem] = list(problems)
        errors = [p for p in self.problems if p.is_error]
        head = f"{len(errors)} problem(s) in the input data"
        super().__init__(head + ":\n" + "\n".join(str(p) for p in errors))


class ConfigError(CoverageError, ValueError):
    """The configuration file is missing, malformed or inconsistent (exit code 2)."""

    exit_code = 2


class ModelRangeError(CoverageError, ValueError):
    """A propagation model was asked for outside its validity range (exit code 2)."""

    exit_code = 2


class SolverError(CoverageError):
    """An optimisation problem has no solution (e.g. infeasible quotas) (exit code 2)."""

    exit_code = 2


@dataclass
class ProblemLog:
    """Collects problems while validating, so all are reported at once."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, file: str, message: str, fix: str, *, row: int | None = None,
            column: str | None = None, value: object = None, severity: str = "error") -> None:
        """Record one problem."""
        self.problems.append(
            Problem(file=file, message=message, fix=fix, row=row, column=column,
                    value=None if value is None else str(value), severity=severity)
        )

    def extend(self, problems: Iterable[Problem]) -> None:
        """Record several problems."""
        self.problems.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        """Problems that stop the run."""
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        """Problems that are reported but do not stop the run."""
        return [p for p in self.problems if not p.is_error]

    def raise_if_errors(self) -> None:
        """Raise :class:`InputDataError` with every problem when any is an error."""
        if self.errors:
            raise InputDataError(self.problems)
