"""Seeding throughput: the harness's loader against `pgbench -i` writing about the same bytes.

Both load into the same fresh server through the same published port on 127.0.0.1 (the path
every harness connection takes), alternating which goes first, each after a CHECKPOINT so
neither pays for the other's dirty pages. Throughput is the on-disk size afterwards
(pg_total_relation_size: heap, indexes, TOAST) over the wall time of the load.

The harness figure is ``harness.seeding.load``: rows computed on the server from
generate_series and fed to ``COPY ... FREEZE`` by a second backend (harness.engines.postgres.seed),
one table per connection in parallel, the primary key built after the load, ANALYZE. The
previous path, ``INSERT ... SELECT`` of the same rows in id ranges, runs alongside in the same
rotation (``harness_insert``) so the two are compared in one run. ``pgbench -i`` generates rows
client-side in C, COPYs them, VACUUMs and builds its primary keys afterwards. A drill's seed
phase also takes its reference truth (one server-side fingerprint pass per table, in parallel):
timed separately, right after each harness load, so each path's first read is measured.

On MariaDB the yardstick is ``LOAD DATA INFILE`` of the very same rows, typed by hand in the
server container (the file already on the server's disk: no network, no client), one table
after another, against the harness's INSERT ... SELECT from a sequence table.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.common import dataset_for, median, pgbench_path, run, stopwatch
from bench.lab import BenchLab, bench_lab
from harness.dataset import DatasetSpec, table_names
from harness.engines.base import Endpoint
from harness.errors import InfrastructureError
from harness.seeding import fingerprints, load
from harness.server.node import Node

log = logging.getLogger(__name__)

# pgbench -i writes about this much per scale unit on PostgreSQL 15 (measured: -s 4 = 62.9 MB).
PGBENCH_MB_PER_SCALE = 15.7
PGBENCH_TABLES = ["pgbench_accounts", "pgbench_branches", "pgbench_tellers", "pgbench_history"]


@dataclass(frozen=True)
class Load:
    """One timed load."""

    tool: str
    size_bytes: int
    duration_s: float

    @property
    def mb_per_s(self) -> float:
        return self.size_bytes / 1e6 / self.duration_s


@dataclass(frozen=True)
class SeedingResult:
    """Both tools' loads, and the harness's verification of its own load."""

    target_mb: int
    tables: int
    rows_per_table: int
    pgbench_scale: int
    harness: list[Load]
    pgbench: list[Load]
    verify_s: float
    # The previous path (INSERT ... SELECT in id ranges) and its verification, same rotation.
    harness_insert: list[Load] = field(default_factory=list)
    verify_insert_s: float | None = None

    def loads(self, tool: str) -> list[Load]:
        """The loads of "harness", "harness_insert" or "pgbench"."""
        return {"harness": self.harness, "harness_insert": self.harness_insert}.get(
            tool, self.pgbench
        )

    def median_mb_per_s(self, tool: str) -> float:
        return median([x.mb_per_s for x in self.loads(tool)])

    def median_mb(self, tool: str) -> float:
        return median([x.size_bytes / 1e6 for x in self.loads(tool)])

    @property
    def ratio(self) -> float:
        """Harness throughput as a multiple of pgbench -i's."""
        return self.median_mb_per_s("harness") / self.median_mb_per_s("pgbench")

    @property
    def phase_mb_per_s(self) -> float:
        """Throughput of the drill's whole seed step: the load plus its verification."""
        load_s = median([x.duration_s for x in self.harness])
        return self.median_mb("harness") / (load_s + self.verify_s)

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "harness_mb_per_s": round(self.median_mb_per_s("harness"), 2),
            "pgbench_mb_per_s": round(self.median_mb_per_s("pgbench"), 2),
            "ratio": round(self.ratio, 3),
            "seed_phase_mb_per_s": round(self.phase_mb_per_s, 2),
            "seed_phase_ratio": round(self.phase_mb_per_s / self.median_mb_per_s("pgbench"), 3),
            **(
                {
                    "harness_insert_mb_per_s": round(self.median_mb_per_s("harness_insert"), 2),
                    "harness_insert_ratio": round(
                        self.median_mb_per_s("harness_insert") / self.median_mb_per_s("pgbench"),
                        3,
                    ),
                }
                if self.harness_insert
                else {}
            ),
        }


def relation_bytes(conn: Any, tables: list[str]) -> int:
    row = conn.execute(
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
        "WHERE c.relname = ANY(%s) AND c.relkind = 'r'",
        (tables,),
    ).fetchone()
    return int(row[0]) if row else 0


def checkpoint(conn: Any) -> None:
    """Flush dirty pages so the next load starts from the same state (no statement timeout)."""
    conn.execute("SET statement_timeout = 0")
    conn.execute("CHECKPOINT")
    conn.execute("RESET statement_timeout")


def harness_load(
    b: BenchLab, conn: Any, node: Node, dataset: DatasetSpec, *, via: str = "copy"
) -> Load:
    """``harness.seeding.load`` through the engine's COPY path (``via="copy"``) or the
    previous INSERT ... SELECT path (``via="insert"``), from dropped tables."""
    tables = table_names(dataset.tables)
    for table in tables:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    checkpoint(conn)
    b.engine.seed_via = via  # type: ignore[attr-defined]
    try:
        with stopwatch() as took:
            load(b.engine, conn, dataset, connect=lambda: b.connect(node))
    finally:
        b.engine.seed_via = "copy"  # type: ignore[attr-defined]
    return Load(
        "harness" if via == "copy" else "harness_insert", relation_bytes(conn, tables), took[0]
    )


def pgbench_load(conn: Any, endpoint: Endpoint, *, scale: int, user: str, password: str) -> Load:
    checkpoint(conn)
    argv = [pgbench_path(), "-i", "-q", "-s", str(scale), "-h", endpoint.host]
    argv += ["-p", str(endpoint.port), "-U", user, conn.info.dbname]
    result = run(argv, timeout_s=1800, env={"PGPASSWORD": password})
    if result.exit_code != 0:
        raise InfrastructureError(f"pgbench -i exited {result.exit_code}: {result.stderr[-400:]}")
    return Load("pgbench", relation_bytes(conn, PGBENCH_TABLES), result.duration_s)


def verify_load(b: BenchLab, conn: Any, node: Node, dataset: DatasetSpec) -> float:
    """What a drill does after loading: the reference fingerprints, on the server, in parallel."""
    tables = table_names(dataset.tables)
    with stopwatch() as took:
        found = fingerprints(b.engine, conn, tables, connect=lambda: b.connect(node))
    if sorted(found) != tables or any(f.rows != dataset.rows_per_table for f in found.values()):
        raise InfrastructureError(f"seeded tables hold the wrong row counts: {found}")
    return took[0]


def bench_seeding(*, size_mb: int, repeats: int) -> SeedingResult:
    """Load about ``size_mb`` MB with each tool ``repeats`` times, alternating the order."""
    dataset = dataset_for(size_mb)
    scale = max(1, round(size_mb / PGBENCH_MB_PER_SCALE))
    tools = ("harness", "pgbench", "harness_insert")
    loads: dict[str, list[Load]] = {tool: [] for tool in tools}
    verify: dict[str, list[float]] = {"harness": [], "harness_insert": []}
    load: Load
    with bench_lab() as b:
        node = b.server("seeding")
        endpoint = b.endpoint(node)
        credentials = b.engine.credentials
        conn = b.connect(node)
        try:
            b.engine.prepare(conn)
            for i in range(repeats):
                for tool in tools[i % 3 :] + tools[: i % 3]:  # each tool first once in 3 runs
                    if tool in verify:
                        via = "copy" if tool == "harness" else "insert"
                        load = harness_load(b, conn, node, dataset, via=via)
                        verify[tool].append(verify_load(b, conn, node, dataset))
                    else:
                        load = pgbench_load(
                            conn,
                            endpoint,
                            scale=scale,
                            user=credentials.user,
                            password=credentials.password,
                        )
                    log.info(
                        "seeding %s: %.1f MB in %.2f s",
                        tool,
                        load.size_bytes / 1e6,
                        load.duration_s,
                    )
                    loads[tool].append(load)
        finally:
            conn.close()
    return SeedingResult(
        target_mb=size_mb,
        tables=dataset.tables,
        rows_per_table=dataset.rows_per_table,
        pgbench_scale=scale,
        harness=loads["harness"],
        pgbench=loads["pgbench"],
        verify_s=median(verify["harness"]),
        harness_insert=loads["harness_insert"],
        verify_insert_s=median(verify["harness_insert"]),
    )


@dataclass(frozen=True)
class MariaDBSeedingResult:
    """The harness's load on MariaDB against LOAD DATA INFILE of the same rows, by hand."""

    target_mb: int
    tables: int
    rows_per_table: int
    size_bytes: int
    harness_s: list[float]
    load_data_s: list[float]
    verify_s: float

    @property
    def ratio(self) -> float:
        """Harness throughput as a multiple of LOAD DATA's (same rows, same bytes)."""
        return median(self.load_data_s) / median(self.harness_s)

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "harness_median_s": round(median(self.harness_s), 3),
            "load_data_median_s": round(median(self.load_data_s), 3),
            "harness_mb_per_s": round(self.size_bytes / 1e6 / median(self.harness_s), 2),
            "load_data_mb_per_s": round(self.size_bytes / 1e6 / median(self.load_data_s), 2),
            "ratio": round(self.ratio, 3),
        }


def _root_sql(b: BenchLab, node: Node, sql: str) -> float:
    """Run SQL as root in the server container, as an operator would; its wall time."""
    client = b.engine.root_client()  # type: ignore[attr-defined]
    database = b.engine.credentials.database
    script = f"{client} {database} <<'SQL'\n{sql}\nSQL"
    result = run(["docker", "exec", node.container_id, "bash", "-c", script], timeout_s=1800)
    if result.exit_code != 0:
        raise InfrastructureError(f"mariadb client exited {result.exit_code}: {result.stderr}")
    return result.duration_s


def bench_seeding_mariadb(*, size_mb: int, repeats: int) -> MariaDBSeedingResult:
    """Load about ``size_mb`` MB on MariaDB with each path ``repeats`` times, alternating."""
    dataset = dataset_for(size_mb)
    tables = table_names(dataset.tables)
    times: dict[str, list[float]] = {"harness": [], "hand": []}
    with bench_lab("mariadb") as b:
        node = b.server("seeding")
        conn = b.connect(node)
        try:
            b.engine.prepare(conn)
            load(b.engine, conn, dataset, connect=lambda: b.connect(node))
            size_bytes = b.engine.source_bytes(conn, tables)
            # The same rows as files on the server's disk (untimed), for LOAD DATA by hand.
            _root_sql(
                b,
                node,
                "\n".join(f"SELECT * FROM {t} INTO OUTFILE '/tmp/{t}.tsv';" for t in tables),
            )
            for i in range(repeats):
                for how in ("harness", "hand") if i % 2 == 0 else ("hand", "harness"):
                    if how == "harness":
                        with conn.cursor() as cur:
                            for t in tables:
                                cur.execute(f"DROP TABLE IF EXISTS {t}")
                        with stopwatch() as took:
                            load(b.engine, conn, dataset, connect=lambda: b.connect(node))
                        times["harness"].append(took[0])
                    else:
                        _root_sql(
                            b,
                            node,
                            "\n".join(
                                f"DROP TABLE IF EXISTS hand_{t}; CREATE TABLE hand_{t} LIKE {t};"
                                for t in tables
                            ),
                        )
                        times["hand"].append(
                            _root_sql(
                                b,
                                node,
                                "\n".join(
                                    f"LOAD DATA INFILE '/tmp/{t}.tsv' INTO TABLE hand_{t};"
                                    for t in tables
                                ),
                            )
                        )
                    log.info("seeding mariadb %s: %.2f s", how, times[how][-1])
            with stopwatch() as took:
                found = fingerprints(b.engine, conn, tables, connect=lambda: b.connect(node))
            if any(f.rows != dataset.rows_per_table for f in found.values()):
                raise InfrastructureError(f"seeded tables hold the wrong row counts: {found}")
            verify_s = took[0]
        finally:
            conn.close()
    return MariaDBSeedingResult(
        target_mb=size_mb,
        tables=dataset.tables,
        rows_per_table=dataset.rows_per_table,
        size_bytes=size_bytes,
        harness_s=times["harness"],
        load_data_s=times["hand"],
        verify_s=verify_s,
    )
