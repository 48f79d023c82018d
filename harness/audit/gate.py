"""The migration safety gate (seed 001) as a CI step before a migration runs.

It passes only when all of these hold, and names what would satisfy each one that does not:

    restore_tested_backup  the history holds a backup of this database, restore-tested with its
                           data verified, taken less than ``max_backup_age_s`` ago
    pitr                   point-in-time recovery is possible (the audit's PITR checks pass)
    checklist.<item>       each mandatory item of the checklist is done, with evidence
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from harness.audit.audit import collect_and_judge, connect
from harness.audit.checklist import Checklist, judge_checklist
from harness.audit.model import Finding, Severity
from harness.audit.proof import RestoreProof, restore_proofs
from harness.audit.target import Target
from harness.report.history import History

PITR_CHECKS = ("pitr", "archiver", "backups")


@dataclass(frozen=True)
class GateItem:
    name: str
    passed: bool
    detail: str  # what was found; for a failing item, what would satisfy it


@dataclass(frozen=True)
class GateResult:
    target: str
    engine: str
    database: str
    decided_at: str
    max_backup_age_s: float
    items: tuple[GateItem, ...]
    migration: str = ""

    @property
    def passed(self) -> bool:
        return all(i.passed for i in self.items)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        return data


def human_age(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def judge_backup(
    proofs: list[RestoreProof], *, database: str, max_age_s: float, now: dt.datetime
) -> GateItem:
    """The youngest restore-tested, data-verified backup must be younger than ``max_age_s``."""
    name = "restore_tested_backup"
    good = [p for p in proofs if p.data_verified and p.backup_ended_at is not None]
    if not good:
        unverified = [p for p in proofs if not p.data_verified]
        seen = (
            f"{len(unverified)} restore tests, none with the data verified"
            if unverified
            else "the history holds no restore test of it"
        )
        return GateItem(
            name,
            False,
            f"{seen}; needs: recovery-drill restore-test of a backup of {database} "
            f"taken less than {human_age(max_age_s)} ago",
        )
    youngest = min(good, key=lambda p: p.backup_age_s(now) or 0.0)
    age = youngest.backup_age_s(now) or 0.0
    found = f"{youngest.backup_name} (run {youngest.run_id}) taken {human_age(age)} ago"
    if age > max_age_s:
        return GateItem(
            name,
            False,
            f"{found}, older than {human_age(max_age_s)}; needs: a fresh backup, "
            "restore-tested (recovery-drill restore-test)",
        )
    return GateItem(name, True, f"{found}, restore-tested, data verified")


def judge_pitr(pitr: list[Finding]) -> GateItem:
    """PITR passes when the audit's PITR checks ran and none is critical or a warning."""
    bad = [f for f in pitr if f.severity in (Severity.CRITICAL, Severity.WARNING)]
    if not pitr:
        return GateItem("pitr", False, "no point-in-time recovery capability was found")
    if bad:
        fixes = [f.fix for f in bad if f.fix]
        needs = f"; needs: {'; '.join(fixes)}" if fixes else ""
        return GateItem("pitr", False, "; ".join(f.title for f in bad) + needs)
    return GateItem("pitr", True, "; ".join(f.title for f in pitr if f.severity is Severity.OK))


def run_gate(
    target: Target,
    *,
    history: History | None,
    checklist: Checklist | None,
    max_backup_age_s: float,
) -> GateResult:
    """Decide the gate for the database at ``target`` (exit 3 when it cannot be reached)."""
    now = dt.datetime.now(dt.UTC)
    conn = connect(target)
    try:
        engine, _, database, findings, _ = collect_and_judge(target, conn)
    finally:
        conn.close()
    proofs = restore_proofs(history, database=database, family=target.family) if history else []
    items = [judge_backup(proofs, database=database, max_age_s=max_backup_age_s, now=now)]
    items.append(judge_pitr([f for f in findings if f.check in PITR_CHECKS]))
    if checklist is None:
        items.append(GateItem("checklist", False, "no checklist given; needs: --checklist FILE"))
    else:
        items += [
            GateItem(f"checklist.{r.name}", r.passed, r.detail) for r in judge_checklist(checklist)
        ]
    return GateResult(
        target=target.shown,
        engine=engine,
        database=database,
        decided_at=now.isoformat(timespec="seconds"),
        max_backup_age_s=max_backup_age_s,
        items=tuple(items),
        migration=checklist.migration if checklist else "",
    )


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_age(text: str) -> float:
    """``90s``, ``30m``, ``24h``, ``7d``, ``2w`` or plain seconds; ValueError says the format."""
    raw = text.strip().lower()
    unit = raw[-1:] if raw[-1:] in _UNITS else "s"
    number = raw[:-1] if raw[-1:] in _UNITS else raw
    try:
        value = float(number) * _UNITS[unit]
    except ValueError:
        raise ValueError(f"{text!r} is not an age: use e.g. 90s, 30m, 24h, 7d, 2w") from None
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{text!r}: the age must be positive and finite")
    return value
