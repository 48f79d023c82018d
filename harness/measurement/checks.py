"""A team's own checks (``checks:`` in a scenario): SQL queries run on the source before the
incident and on the recovered database, judged against their expectation.

A query's result is kept as text (each row's values joined by ``|``, rows by newlines), so
``same`` compares whole results; ``equals``, ``min`` and ``max`` look at the first value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from harness.scenario.model import DataCheck

MAX_RESULT_CHARS = 2000


@dataclass(frozen=True)
class CheckRun:
    """One query's result as text, or the error it raised."""

    result: str | None
    first: str | None
    error: str = ""


@dataclass(frozen=True)
class CheckResult:
    """A check judged: its result on the source and on the recovered database."""

    name: str
    expectation: str
    source: str | None
    recovered: str | None
    passed: bool
    reason: str


def _text(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    return str(value)


def run_query(conn: Any, sql: str, errors: tuple[type[BaseException], ...]) -> CheckRun:
    """Run ``sql`` on a DB-API connection; a driver error is the check's result, not a crash."""
    try:
        cur = conn.cursor()
        try:
            cur.execute(sql)
            rows = cur.fetchall() if cur.description else []
        finally:
            cur.close()
    except errors as exc:
        return CheckRun(None, None, error=str(exc).strip().splitlines()[0][:300])
    text = "\n".join("|".join(_text(v) for v in row) for row in rows)
    first = _text(rows[0][0]) if rows and rows[0] else None
    return CheckRun(text[:MAX_RESULT_CHARS], first)


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _equal(first: str | None, wanted: str | int | float) -> bool:
    if first is None:
        return False
    if isinstance(wanted, int | float) and not isinstance(wanted, bool):
        value = _number(first)
        return value is not None and value == float(wanted)
    return first == str(wanted)


def _judge_value(check: DataCheck, run: CheckRun) -> str | None:
    """Why ``run`` misses the check's value expectation; None when it meets it."""
    if check.equals is not None:
        return None if _equal(run.first, check.equals) else f"{run.first}, expected {check.equals}"
    value = _number(run.first)
    if value is None:
        return f"{run.first} is not a number"
    if check.min is not None and value < check.min:
        return f"{run.first}, expected at least {check.min:g}"
    if check.max is not None and value > check.max:
        return f"{run.first}, expected at most {check.max:g}"
    return None


def judge_check(check: DataCheck, source: CheckRun, recovered: CheckRun | None) -> CheckResult:
    """The check's verdict from its run on the source and on the recovered database (None:
    nothing was recovered to run it on)."""

    def result(passed: bool, reason: str) -> CheckResult:
        return CheckResult(
            check.name,
            check.expectation,
            source.result,
            recovered.result if recovered else None,
            passed,
            reason,
        )

    if source.error:
        return result(False, f"failed on the source: {source.error}")
    if recovered is None:
        return result(False, "not run: nothing was recovered")
    if recovered.error:
        return result(False, f"failed on the recovered database: {recovered.error}")
    if check.expectation == "same":
        if recovered.result == source.result:
            return result(True, "same result as the source")
        now, before = _short(recovered.result), _short(source.result)
        return result(False, f"recovered {now}, source {before}")
    missed = _judge_value(check, recovered)
    if missed is not None:
        return result(False, f"recovered {missed}")
    return result(True, f"recovered {recovered.first} ({check.expectation})")


def _short(text: str | None, limit: int = 80) -> str:
    text = "(no rows)" if not text else text.replace("\n", "; ")
    return text if len(text) <= limit else text[: limit - 3] + "..."
