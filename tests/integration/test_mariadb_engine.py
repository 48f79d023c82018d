"""The MariaDB adapter against a real server: seeding, fingerprints, probe, writer rows, errors.

One MariaDB container serves the whole module; the data-directory wipe runs last because it
leaves that server unusable.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

import docker
import pymysql
import pymysql.err
import pytest

from harness.dataset import DatasetSpec, reference_fingerprint, table_name
from harness.engines import get_engine
from harness.engines.base import DumpJob, Endpoint, Engine, ProbeFailed
from harness.faults.base import FaultContext
from harness.faults.rm_rf_datadir import RmRfDatadir
from harness.lab.images import resolve_image
from harness.lab.lab import Lab
from harness.scenario import model
from harness.server.node import Node, provision

PROBE_FAILURES = (pymysql.err.Error, ProbeFailed)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return get_engine("mariadb")


@pytest.fixture(scope="module")
def node(session_lab: Lab, client: docker.DockerClient, engine: Engine) -> Node:
    image = resolve_image(
        client,
        engine=engine.name,
        requested=os.environ.get("RECOVERY_DRILL_MARIADB_IMAGE"),
        default=engine.default_image,
        local_build=engine.local_image,
    ).name
    return provision(session_lab, engine, image=image, name="mariadb-session")


@pytest.fixture(scope="module")
def endpoint(session_lab: Lab, engine: Engine, node: Node) -> Endpoint:
    return node.endpoint(session_lab, engine)


@pytest.fixture()
def conn(engine: Engine, endpoint: Endpoint) -> Iterator[Any]:
    """A connection to an empty drill database."""
    c = engine.connect(endpoint, timeout_s=10)
    with c.cursor() as cur:
        cur.execute("SHOW TABLES")
        for (table,) in cur.fetchall():
            cur.execute(f"DROP TABLE `{table}`")
    yield c
    c.close()


def test_seeded_tables_match_the_python_reference(engine: Engine, conn: Any) -> None:
    dataset = DatasetSpec(tables=2, rows_per_table=3000, seed=11)
    engine.prepare(conn)
    engine.seed(conn, dataset)
    tables = [table_name(1), table_name(2)]
    measured = engine.fingerprints(conn, tables)
    expected = {
        t: reference_fingerprint(seed=11, table_index=i, count=3000)
        for i, t in enumerate(tables, 1)
    }
    assert measured == expected
    assert measured[tables[0]] != measured[tables[1]]
    assert engine.source_bytes(conn, tables) > 3000 * 2 * 20


def test_one_changed_row_changes_the_fingerprint(engine: Engine, conn: Any) -> None:
    engine.prepare(conn)
    engine.seed(conn, DatasetSpec(tables=1, rows_per_table=500, seed=5))
    before = engine.fingerprints(conn, [table_name(1)])
    with conn.cursor() as cur:
        cur.execute(f"UPDATE {table_name(1)} SET amount = amount + 0.01 WHERE id = 250")
    after = engine.fingerprints(conn, [table_name(1)])
    assert before[table_name(1)].rows == after[table_name(1)].rows == 500
    assert before != after


def test_probe_fails_on_an_empty_database_and_passes_on_a_seeded_one(
    engine: Engine, conn: Any
) -> None:
    with pytest.raises(PROBE_FAILURES):
        engine.probe(conn)
    engine.prepare(conn)
    engine.seed(conn, DatasetSpec(tables=1, rows_per_table=10, seed=1))
    engine.probe(conn)


def test_writer_rows_round_trip_and_a_rejected_write_is_a_definite_failure(
    engine: Engine, conn: Any
) -> None:
    engine.prepare(conn)
    now = dt.datetime.now(dt.UTC)
    for seq in (1, 2, 5, 7):
        engine.insert_write(conn, seq, now)
    assert engine.write_seqs(conn) == {1, 2, 5, 7}
    assert engine.delete_writes(conn, [5, 7, 99]) == 2
    assert engine.write_seqs(conn) == {1, 2}
    with pytest.raises(pymysql.err.IntegrityError) as caught:
        engine.insert_write(conn, 2, now)
    assert engine.is_definite_failure(caught.value)


def test_a_write_on_a_killed_connection_has_an_unknown_outcome(
    engine: Engine, endpoint: Endpoint, conn: Any
) -> None:
    engine.prepare(conn)
    victim = engine.connect(endpoint, timeout_s=10)
    try:
        with conn.cursor() as cur:
            cur.execute("KILL CONNECTION %s", (victim.thread_id(),))
        with pytest.raises(pymysql.err.Error) as caught:
            engine.insert_write(victim, 1, dt.datetime.now(dt.UTC))
    finally:
        victim.close()
    assert caught.value.args[0] in (2006, 2013, 4031), caught.value
    assert not engine.is_definite_failure(caught.value)


@pytest.mark.parametrize(
    ("exc", "definite"),
    [
        (pymysql.err.OperationalError(2013, "Lost connection to server during query"), False),
        (pymysql.err.OperationalError(2006, "Server has gone away"), False),
        (pymysql.err.OperationalError(2003, "Can't connect"), False),
        (pymysql.err.InterfaceError(0, ""), False),
        (pymysql.err.InternalError("Packet sequence number wrong"), False),
        (pymysql.err.OperationalError(1049, "Unknown database 'drill'"), True),
        (pymysql.err.ProgrammingError(1146, "Table 'drill.x' doesn't exist"), True),
        (ConnectionResetError(), False),
    ],
)
def test_definite_failure_classification(
    engine: Engine, exc: BaseException, definite: bool
) -> None:
    assert engine.is_definite_failure(exc) is definite


def test_dump_fails_loudly_with_pipefail_and_restores(
    session_lab: Lab, engine: Engine, node: Node, conn: Any
) -> None:
    engine.prepare(conn)
    engine.seed(conn, DatasetSpec(tables=1, rows_per_table=2000, seed=3))
    c = engine.credentials
    good = DumpJob(
        source_host="127.0.0.1", path="/tmp/good.gz", password=c.password, database=c.database
    )
    runs = {
        "good": good,
        "wrong password": DumpJob("127.0.0.1", "/tmp/a.gz", password="nope", database=c.database),
        "wrong database": DumpJob("127.0.0.1", "/tmp/b.gz", password=c.password, database="nope"),
    }
    results = {
        name: session_lab.exec(
            node.container_id,
            ["bash", "-c", f"{engine.dump_command(job)} && stat -c %s {job.path}"],
            timeout_s=60,
            env=engine.tool_env(password=job.password),
        )
        for name, job in runs.items()
    }
    assert results["good"].ok, results["good"].tail()
    assert int(results["good"].stdout.split()[-1]) > 10_000
    for name in ("wrong password", "wrong database"):
        assert not results[name].ok, f"{name}: the dump must fail with pipefail"
    restored = session_lab.exec(
        node.container_id,
        ["bash", "-c", engine.restore_command(path=good.path, target_host="127.0.0.1")],
        timeout_s=60,
        env=engine.tool_env(),
    )
    assert restored.ok, restored.tail()
    assert engine.fingerprints(conn, [table_name(1)]) == {
        table_name(1): reference_fingerprint(seed=3, table_index=1, count=2000)
    }


def test_parallel_seeding_takes_the_reference_on_the_server(
    engine: Engine, endpoint: Endpoint, conn: Any
) -> None:
    """harness.seeding loads and fingerprints tables on several connections at once; the
    reference it returns is the Python definition's (so the same as PostgreSQL's, same seed)."""
    from harness.seeding import seed

    opened: list[Any] = []

    def connect() -> Any:
        c = engine.connect(endpoint, timeout_s=10)
        opened.append(c)
        return c

    dataset = model.Dataset(tables=3, rows_per_table=2000, seed=5)
    seeded = seed(engine, conn, dataset, connect=connect)
    assert seeded.reference == {
        table_name(i): reference_fingerprint(seed=5, table_index=i, count=2000) for i in (1, 2, 3)
    }
    assert opened and all(not c.open for c in opened)
    assert seeded.source_bytes > 3 * 2000 * 40


# Destructive: leaves the module's server without a data directory, so it runs last.
def test_probe_fails_once_the_data_directory_is_wiped(
    session_lab: Lab, engine: Engine, endpoint: Endpoint, node: Node, conn: Any
) -> None:
    engine.prepare(conn)
    engine.seed(conn, DatasetSpec(tables=1, rows_per_table=100, seed=2))
    engine.probe(conn)
    wipe = RmRfDatadir(model.RmRfDatadir(fault="rm_rf_datadir", at_s=0))
    ctx = FaultContext(lab=session_lab, engine=engine, target=node.target())
    wipe.inject(ctx)
    assert wipe.took_effect(ctx).took_effect
    # Cached tables still answer reads and writes; the probe must not be fooled by them.
    with conn.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {table_name(1)}")
        assert cur.fetchone() == (100,)
    with pytest.raises(PROBE_FAILURES):
        engine.probe(conn)
    fresh = engine.connect(endpoint, timeout_s=5)
    try:
        with pytest.raises(PROBE_FAILURES):
            engine.probe(fresh)
    finally:
        fresh.close()
