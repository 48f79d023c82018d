"""The writer's own transaction (``workload.transaction``): its ``:seq`` / ``:ts``
placeholders and what a scenario using it must say.

A placeholder is bound by the driver as a parameter, never formatted into the SQL: ``bind``
turns ``:seq`` into the drivers' ``%(seq)s`` (psycopg and PyMySQL both take it) and doubles
every literal ``%``. A ``::`` cast (PostgreSQL) is not a placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from harness.scenario.model import EngineSql, Scenario

Loc = tuple[str | int, ...]

PLACEHOLDER = re.compile(r"(?<![:\w]):(seq|ts)\b")


def placeholders(statement: str) -> set[str]:
    """The placeholders (``seq``, ``ts``) a statement uses."""
    return set(PLACEHOLDER.findall(statement))


def bind(statement: str) -> str:
    """The statement with its placeholders as driver parameters (``%(seq)s``)."""
    return PLACEHOLDER.sub(r"%(\1)s", statement.replace("%", "%%"))


def _statement_lists(sql: EngineSql) -> Iterator[tuple[Loc, list[str]]]:
    if isinstance(sql, dict):
        for engine, statements in sql.items():
            yield (engine,), statements
    else:
        yield (), sql


def transaction_checks(s: Scenario) -> Iterator[tuple[Loc, str]]:
    """The transaction writes into a team's own database, and binds the sequence number."""
    tx = s.workload.transaction
    if tx is None:
        return
    here: Loc = ("workload", "transaction")
    if s.dataset.file is None:
        yield here, "a transaction writes into the team's own tables: give dataset.file"
    for loc, statements in _statement_lists(tx.sql):
        if not any("seq" in placeholders(st) for st in statements):
            yield (
                (*here, "sql", *loc),
                f"no statement binds the sequence number (:seq) into {tx.table}.{tx.seq_column}",
            )
    if tx.table in tx.also_writes:
        yield (*here, "also_writes", tx.table), "the transaction's own table is not also_writes"
    kinds = {getattr(f, "fault", "") for f in s.timeline}
    if "delete_writes" in kinds:
        yield ("timeline",), "delete_writes deletes drill_writes rows; not with a transaction"
    if s.migration is not None:
        yield here, "a migration drill's writer uses its own table; not with a transaction"
