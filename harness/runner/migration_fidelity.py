"""A migration's fidelity check, with the team's-own-database catalogue code: every table's
row count and digest and every schema object (tables, columns, constraints, indexes, views,
functions, triggers, sequences with their values, enums and domains; MariaDB: events and
AUTO_INCREMENT counters) of the old server, taken just before the cutover with writes frozen
(or just before it stops, for pg_upgrade and an in-place upgrade), against the new server
once the copy is made.

The comparison (harness.measurement.catalogue) says missing, changed or extra per table and
object; the traps of logical replication are named: "sequence values are not replicated by
logical replication", "DDL is not replicated". Its account goes into the journal
(``migration_fidelity``) like a team database's differences (``team_data``).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import TYPE_CHECKING

from harness import record
from harness.engines.postgres import migration as pgm
from harness.measurement.catalogue import Comparison, Difference, Status, compare
from harness.runner.state import MigrationFidelity, Stage
from harness.server.byo import take_truth
from harness.server.node import Node
from harness.truth import Truth

if TYPE_CHECKING:
    from harness.runner.migration import MigrationRun

SEQUENCE_TRAP = "sequence values are not replicated by logical replication"
DDL_TRAP = "DDL is not replicated"
# Shown in the step's detail; the journal's migration_fidelity lists them all.
DETAIL_LIMIT = 12
VIEW_KINDS = ("view", "materialized view")


def truth_of(stage: Stage, node: Node) -> Truth:
    """Every table's digest and the schema catalogue of ``node``'s drill database."""
    conn = stage.connect(node)
    try:
        return take_truth(stage.engine, conn, stage.engine.credentials.database)
    finally:
        conn.close()


def explain(method: str, comparison: Comparison) -> Comparison:
    """The comparison with the method's known traps named in the reasons."""
    if method != "logical_replication":
        return comparison
    named: list[Difference] = []
    for d in comparison.differences:
        if d.kind == "sequence" and d.status is Status.CHANGED:
            d = dataclasses.replace(d, reason=f"{d.reason} ({SEQUENCE_TRAP})")
        elif d.status is Status.MISSING and d.kind in ("table", "table data"):
            d = dataclasses.replace(d, reason=f"{d.reason} ({DDL_TRAP})")
        named.append(d)
    return Comparison(named, comparison.compared)


def behind_sequences(fidelity: MigrationFidelity) -> dict[str, int]:
    """The sequences whose value on the new server differs from the old one's (a number)."""
    assert fidelity.comparison is not None
    source = {e.name: e.definition for e in fidelity.old_truth.objects if e.kind == "sequence"}
    out: dict[str, int] = {}
    for d in fidelity.comparison.differences:
        if d.kind == "sequence" and d.status is Status.CHANGED and source[d.name].isdigit():
            out[d.name] = int(source[d.name])
    return out


def detail(comparison: Comparison) -> str:
    """The step's detail: the summary and the first differences."""
    reasons = [d.reason for d in comparison.differences[:DETAIL_LIMIT]]
    more = len(comparison.differences) - DETAIL_LIMIT
    if more > 0:
        reasons.append(f"{more} more (see migration_fidelity in the journal)")
    return "; ".join([comparison.summary(), *reasons])


def check(stage: Stage, run: MigrationRun, fidelity: MigrationFidelity) -> Comparison:
    """Take the new server's truth and compare it with the old one's."""
    assert run.new is not None
    new = truth_of(stage, run.new)
    new = reprinted(stage, run.new, fidelity.old_truth, new)
    fidelity.new_truth = new
    fidelity.comparison = explain(run.spec.method, compare(fidelity.old_truth, new))
    return fidelity.comparison


def reprinted(stage: Stage, node: Node, old: Truth, new: Truth) -> Truth:
    """PostgreSQL: a view whose printed query differs is judged by the new server printing
    the old text too (each major version prints queries its own way); the same query printed
    the same way counts as the same view. Other engines: ``new`` as it is."""
    if stage.engine.name != "postgres":
        return new
    now = {e.key: e for e in new.objects}
    views = [
        e
        for e in old.objects
        if e.kind in VIEW_KINDS and e.key in now and now[e.key].definition != e.definition
    ]
    if not views:
        return new
    same: set[str] = set()
    conn = stage.connect(node)
    try:
        for entry in views:
            try:
                if pgm.reprint_view(conn, entry.definition) == now[entry.key].definition:
                    same.add(entry.key)
            except stage.engine.driver_errors():
                continue  # the old query does not even parse here: a real difference
    finally:
        conn.close()
    objects = [
        dataclasses.replace(e, definition=old.object_map()[e.key].definition)
        if e.key in same
        else e
        for e in new.objects
    ]
    return dataclasses.replace(new, objects=objects)


def fidelity_record(fidelity: MigrationFidelity | None) -> record.MigrationFidelity | None:
    """The journal's account of the migration's fidelity check (None without a migration)."""
    if fidelity is None:
        return None
    old, comparison = fidelity.old_truth, fidelity.comparison
    return record.MigrationFidelity(
        old_truth_s=old.took_s,
        new_truth_s=fidelity.new_truth.took_s if fidelity.new_truth else None,
        tables=len(old.tables),
        objects=len(old.objects),
        objects_by_kind=dict(sorted(Counter(e.kind for e in old.objects).items())),
        verified=fidelity.verified,
        summary=comparison.summary() if comparison else "",
        differences=tuple(
            record.TeamDifference(kind=d.kind, name=d.name, status=str(d.status), reason=d.reason)
            for d in (comparison.differences if comparison else [])
        ),
        repaired=tuple(fidelity.repaired),
    )
