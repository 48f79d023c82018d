"""A team's own checks of a restored database: a name, one SQL query, and what its first
value must be (``value``) or lie within (``min`` / ``max``).

The file format of ``recovery-drill restore-test --checks FILE``::

    checks:
      - name: customers are there
        sql: SELECT count(*) FROM customer
        expect: {min: 59}
      - name: no negative invoice
        sql: SELECT count(*) FROM invoice WHERE total < 0
        expect: {value: 0}

Kept to what a scenario's ``checks:`` will also hold, so that the two are one model.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from harness.errors import Problem, ScenarioError
from harness.scenario.loader import read_yaml, validate
from harness.scenario.model import Model

Number = float | int


class CheckExpect(Model):
    """What the query's first value must be: exactly ``value``, or within ``min`` .. ``max``."""

    value: Number | str | bool | None = None
    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> CheckExpect:
        if self.value is None and self.min is None and self.max is None:
            raise ValueError("give value, or min and/or max")
        if self.value is not None and (self.min is not None or self.max is not None):
            raise ValueError("give either value or min/max, not both")
        return self

    def judge(self, actual: object) -> bool:
        """Whether ``actual`` (the query's first value) meets this expectation."""
        if self.value is not None:
            if isinstance(self.value, bool | str):
                return str(actual).lower() == str(self.value).lower()
            try:
                return float(str(actual)) == float(self.value)
            except ValueError:
                return False
        try:
            number = float(str(actual))
        except ValueError:
            return False
        return (self.min is None or number >= self.min) and (self.max is None or number <= self.max)

    def describe(self) -> str:
        if self.value is not None:
            return f"= {self.value}"
        parts = ([f">= {self.min:g}"] if self.min is not None else []) + (
            [f"<= {self.max:g}"] if self.max is not None else []
        )
        return " and ".join(parts)


class DataCheck(Model):
    """One check: a name, a query returning one value, and the expectation."""

    name: str = Field(min_length=1, max_length=200)
    sql: str = Field(min_length=1)
    expect: CheckExpect


class ChecksFile(Model):
    """A file of checks."""

    checks: list[DataCheck] = Field(min_length=1)


def load_checks(path: Path) -> list[DataCheck]:
    """The checks in ``path``; ScenarioError (FILE:LINE: path: message) listing every problem."""
    if not path.is_file():
        raise ScenarioError([Problem(str(path), 1, "", "no such checks file")])
    data, located = read_yaml(path)
    parsed = validate(ChecksFile, data, located) if isinstance(data, dict) else None
    if located.problems or parsed is None:
        raise ScenarioError(located.problems)
    return parsed.checks
