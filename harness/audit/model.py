"""Findings of an audit or a gate, and the report that holds them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a finding is; ``critical`` makes ``audit`` exit 1."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"
    OK = "ok"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class Finding:
    """One check's result: what was seen (``detail``) and what would satisfy it (``fix``)."""

    check: str
    severity: Severity
    title: str
    detail: str = ""
    fix: str = ""


@dataclass(frozen=True)
class TableInfo:
    """A user table as the audit saw it (largest first): size and the age of its statistics."""

    schema: str
    name: str
    size_bytes: int | None
    rows_estimate: int | None
    stats_age_days: float | None  # None: never analysed (or not visible to this account)


@dataclass(frozen=True)
class AuditReport:
    """One audit of one database."""

    target: str  # the URL with its password masked
    engine: str  # postgres, mariadb, mysql, sqlserver
    server_version: str
    database: str
    started_at: str
    duration_s: float
    findings: tuple[Finding, ...]
    tables: tuple[TableInfo, ...] = field(default=())

    @property
    def critical(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.CRITICAL]

    @property
    def passed(self) -> bool:
        return not self.critical

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        data["counts"] = {s.value: sum(f.severity is s for f in self.findings) for s in Severity}
        return data


def sorted_findings(findings: list[Finding]) -> tuple[Finding, ...]:
    """Most severe first; the order of the checks kept within a severity."""
    return tuple(sorted(findings, key=lambda f: f.severity.rank))
