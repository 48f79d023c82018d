"""Fidelity of a team's database after recovery: its source truth (harness.truth, taken
before the timeline) against the recovered one, per table and per schema object.

Each difference is missing (in the source, not recovered), changed or extra (recovered, not
in the source), with a short reason a DBA reads at once ("sequence public.invoice_id_seq at
412, source 413"). Pure functions: the engines compute the truths in SQL.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from harness.truth import CatalogueEntry, TableTruth, Truth


class Status(StrEnum):
    MISSING = "missing"
    CHANGED = "changed"
    EXTRA = "extra"


@dataclass(frozen=True)
class Difference:
    """One table or object that does not match its source."""

    kind: str
    name: str
    status: Status
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "status": str(self.status),
                "reason": self.reason}  # fmt: skip


@dataclass(frozen=True)
class Comparison:
    """Every difference, and how many tables and objects of each kind were compared."""

    differences: list[Difference]
    compared: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.differences

    def summary(self) -> str:
        """One line: "11 tables, 94 objects match" or the counts of each status."""
        tables = self.compared.get("table data", 0)
        objects = sum(n for k, n in self.compared.items() if k != "table data")
        head = f"{tables} tables, {objects} objects compared"
        if self.ok:
            return f"{head}: all match"
        counts = Counter(d.status for d in self.differences)
        parts = ", ".join(f"{counts[s]} {s}" for s in Status if counts[s])
        return f"{head}: {parts}"


def _table_reason(name: str, source: TableTruth, now: TableTruth | None) -> str | None:
    if now is None:
        return f"table {name} missing (source {source.rows} rows)"
    if now.rows != source.rows:
        return f"table {name} has {now.rows} rows, source {source.rows}"
    if now.digest != source.digest:
        return f"table {name}: {now.rows} rows as in the source, content differs"
    return None


def _object_reason(source: CatalogueEntry, now: CatalogueEntry) -> str | None:
    if source.definition == now.definition:
        return None
    if source.kind == "sequence":
        return f"sequence {source.name} at {now.definition}, source {source.definition}"
    if source.kind in ("column", "enum", "domain", "event", "auto_increment"):
        return f"{source.kind} {source.name} is {now.definition!r}, source {source.definition!r}"
    return f"{source.kind} {source.name} definition differs"


def _under(name: str, tables: set[str]) -> bool:
    """True for an object of a table in ``tables`` (its name is ``table.object``)."""
    return any(name.startswith(t + ".") for t in tables)


def compare(
    source: Truth, recovered: Truth, *, ignore_tables: frozenset[str] = frozenset()
) -> Comparison:
    """Per table (row count, content) and per schema object: missing, changed, extra.

    The objects of a table that is missing altogether are not listed one by one (the table
    says it). ``ignore_tables`` are not judged on their content (e.g. a table the writer
    inserts into: its content is judged by the caller on the source's rows only).
    """
    differences: list[Difference] = []
    compared: Counter[str] = Counter()
    for name, truth in sorted(source.tables.items()):
        if name in ignore_tables:
            continue
        compared["table data"] += 1
        reason = _table_reason(name, truth, recovered.tables.get(name))
        if reason is not None:
            status = Status.MISSING if name not in recovered.tables else Status.CHANGED
            differences.append(Difference("table data", name, status, reason))
    for name in sorted(set(recovered.tables) - set(source.tables) - ignore_tables):
        differences.append(
            Difference("table data", name, Status.EXTRA, f"table {name} not in the source")
        )
    gone = {n for n in source.tables if n not in recovered.tables}
    before, after = source.object_map(), recovered.object_map()
    for key, entry in sorted(before.items()):
        compared[entry.kind] += 1
        now = after.get(key)
        if now is None:
            if not (entry.kind != "table" and _under(entry.name, gone)):
                differences.append(
                    Difference(
                        entry.kind, entry.name, Status.MISSING, f"{entry.kind} {entry.name} missing"
                    )
                )
            continue
        reason = _object_reason(entry, now)
        if reason is not None:
            differences.append(Difference(entry.kind, entry.name, Status.CHANGED, reason))
    for key in sorted(set(after) - set(before)):
        entry = after[key]
        differences.append(
            Difference(
                entry.kind, entry.name, Status.EXTRA, f"{entry.kind} {entry.name} not in the source"
            )
        )
    return Comparison(differences, dict(compared))
