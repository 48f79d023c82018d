"""The writer's custom transaction in the team's own tables (``workload.transaction``).

Each write runs the scenario's statements in one transaction, the sequence number and the
client's time bound as parameters; it is acknowledged only when COMMIT returns. Its
sequence number lands in ``table.seq_column``, so a lost write is a lost business row: lost
writes are read back from that column, and the table (with the other tables the transaction
writes) is still judged against the source truth on the rows the writer did not write.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from harness.engines.byo import ByoSupport
from harness.measurement.catalogue import Comparison, Difference, Status, compare
from harness.measurement.workload import WriteFn
from harness.scenario.model import Transaction
from harness.scenario.transaction import bind
from harness.truth import Truth


def transaction_write(statements: list[str]) -> WriteFn:
    """One write: BEGIN, the statements with ``:seq`` / ``:ts`` bound, COMMIT (on the
    writer's autocommit connection; a failure leaves the transaction to the closed
    connection, which the writer drops)."""
    bound = [bind(s) for s in statements]

    def write(conn: Any, seq: int, client_ts: dt.datetime) -> None:
        params = {"seq": seq, "ts": client_ts}
        with contextlib.closing(conn.cursor()) as cur:
            cur.execute("BEGIN")
            for statement in bound:
                cur.execute(statement, params)
            cur.execute("COMMIT")

    return write


def writer_rows(byo: ByoSupport, tx: Transaction) -> dict[str, str]:
    """Per table the transaction writes (as the truth names it): the SQL condition selecting
    the writer's rows."""
    rows = {byo.table_key(tx.table): f"{tx.seq_column} IS NOT NULL"}
    rows.update({byo.table_key(t): where for t, where in tx.also_writes.items()})
    return rows


def without_writer_rows(byo: ByoSupport, conn: Any, truth: Truth, tx: Transaction) -> Truth:
    """``truth`` with each table the transaction writes digested over the rows the writer
    did not write (the rest of the table is judged as any other)."""
    tables = dict(truth.tables)
    for table, where in writer_rows(byo, tx).items():
        if table in tables:
            tables[table] = byo.digest_table(conn, table, where=f"NOT ({where})")
    return Truth(truth.database, tables, truth.objects, truth.took_s)


def _value(definition: str) -> int | None:
    try:
        return int(definition)
    except ValueError:
        return None


def compare_with_writer(source: Truth, recovered: Truth, counters: set[str]) -> Comparison:
    """``compare``, except that the counters the writer moves (``counters``: catalogue keys)
    may have gone forward; one behind its source (or missing) is still a difference."""
    kept = [e for e in recovered.objects if e.key not in counters]
    base = compare(
        Truth(source.database, source.tables, [e for e in source.objects if e.key not in counters]),
        Truth(recovered.database, recovered.tables, kept),
    )
    after = recovered.object_map()
    extra: list[Difference] = []
    compared = dict(base.compared)
    for entry in source.objects:
        if entry.key not in counters:
            continue
        compared[entry.kind] = compared.get(entry.kind, 0) + 1
        now = after.get(entry.key)
        if now is None:
            extra.append(Difference(entry.kind, entry.name, Status.MISSING,
                                    f"{entry.kind} {entry.name} missing"))  # fmt: skip
            continue
        before_n, now_n = _value(entry.definition), _value(now.definition)
        if before_n is None and entry.definition != now.definition and now_n is None:
            extra.append(Difference(entry.kind, entry.name, Status.CHANGED,
                                    f"{entry.kind} {entry.name} is {now.definition!r}, "
                                    f"source {entry.definition!r}"))  # fmt: skip
        elif before_n is not None and (now_n is None or now_n < before_n):
            extra.append(Difference(entry.kind, entry.name, Status.CHANGED,
                                    f"{entry.kind} {entry.name} at {now.definition}, behind "
                                    f"the source's {entry.definition} (the writer only moves "
                                    "it forward)"))  # fmt: skip
    return Comparison(base.differences + extra, compared)
