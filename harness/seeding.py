"""Seeding: load the scenario's dataset into the primary and take its reference fingerprints.

The rows are computed on the server (harness.dataset.select_sql), one table per worker
connection in parallel where the engine gives a plan (``seed_plan``). The
reference truth is then one server-side fingerprint pass over what was loaded, again in
parallel per table: nothing is regenerated in Python. That the server's rows are the rows of
harness.dataset (same seed, same fingerprints on every engine) is what the engines' tests
check against the Python definition; here every table must hold exactly its row count.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from harness.dataset import DatasetSpec, Fingerprint, table_names
from harness.engines.base import Engine
from harness.errors import InfrastructureError
from harness.scenario.model import Dataset

T = TypeVar("T")
R = TypeVar("R")
Connect = Callable[[], Any]


@dataclass(frozen=True)
class Seeded:
    """The seeded tables' reference fingerprints and the source's size on disk."""

    reference: dict[str, Fingerprint]
    source_bytes: int


def workers_for(tables: int, cpus: int | None = None) -> int:
    """Parallel workers: one per unit of work up to one per CPU (the server does the work)."""
    return max(1, min(tables, cpus if cpus is not None else (os.cpu_count() or 1)))


def seed(engine: Engine, conn: Any, dataset: Dataset, *, connect: Connect | None = None) -> Seeded:
    """Prepare the database, load the dataset, and take every table's reference fingerprint.

    With ``connect`` (a new connection to the same server) tables load and fingerprint in
    parallel; without it, one by one on ``conn``.
    """
    tables = table_names(dataset.tables)
    engine.prepare(conn)
    load(engine, conn, dataset.spec(), connect=connect)
    reference = fingerprints(engine, conn, tables, connect=connect)
    wrong = {t: f.rows for t, f in reference.items() if f.rows != dataset.rows_per_table}
    if sorted(reference) != sorted(tables) or wrong:
        raise InfrastructureError(
            f"seeding left the wrong row counts (expected {dataset.rows_per_table} per table): "
            f"{wrong or sorted(set(tables) - set(reference))}"
        )
    return Seeded(reference, engine.source_bytes(conn, tables))


def load(engine: Engine, conn: Any, spec: DatasetSpec, *, connect: Connect | None = None) -> None:
    """Create and load every seeded table: the engine's plan in parallel given ``connect``
    (each table cut into id ranges so that every worker has work), else ``engine.seed``."""
    cpus = workers_for(2**31)
    plan = engine.seed_plan(spec, parts=parts_for(spec.tables, cpus))
    if connect is None or plan is None or cpus < 2:
        engine.seed(conn, spec)
        return
    for stage in plan.stages():
        per_table(conn, connect, engine.run_sql, stage)


def parts_for(tables: int, workers: int) -> int:
    """Id ranges per table so that the load's units spread evenly over the workers: whole
    tables when they divide evenly, else every table cut in ``workers`` ranges."""
    return 1 if tables % workers == 0 else workers


def fingerprints(
    engine: Engine, conn: Any, tables: list[str], *, connect: Connect | None = None
) -> dict[str, Fingerprint]:
    """Every table's fingerprint, one server-side pass each, in parallel given ``connect``."""
    if connect is None or workers_for(len(tables)) < 2:
        return engine.fingerprints(conn, tables)
    parts = per_table(conn, connect, lambda c, t: engine.fingerprints(c, [t]), tables)
    return {t: fp for part in parts for t, fp in part.items()}


def per_table(
    conn: Any, connect: Connect, fn: Callable[[Any, T], R], items: Iterable[T]
) -> list[R]:
    """``fn(connection, item)`` over the items, results in order, on ``workers_for`` threads:
    ``conn`` and new connections from ``connect``, each used by one thread at a time and the
    new ones closed at the end. The first error is raised once every started call has ended."""
    todo = list(items)
    workers = workers_for(len(todo))
    conns = [conn]
    try:
        conns += [connect() for _ in range(workers - 1)]
        free = list(conns)
        lock = threading.Lock()

        def one(item: T) -> R:
            with lock:
                c = free.pop()
            try:
                return fn(c, item)
            finally:
                with lock:
                    free.append(c)

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="per-table") as pool:
            return list(pool.map(one, todo))
    finally:
        for extra in conns[1:]:
            with contextlib.suppress(Exception):  # a spare's close must not mask an error
                extra.close()
