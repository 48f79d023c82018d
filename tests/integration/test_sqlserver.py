"""The SQL Server adapter against a real server, where its official image exists; and, where it
does not, the promise that a SQL Server drill says so and exits 3 instead of pretending.

The build machines cannot pull mcr.microsoft.com/mssql/server, so the server tests skip there
with that reason; they run on any machine that has the image (`docker pull` it first), pyodbc
(`pip install -e '.[sqlserver]'`) and Microsoft's ODBC Driver 18 for SQL Server.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.dataset import DatasetSpec, reference_fingerprint, table_name
from harness.engines.base import DumpJob, Endpoint, ProbeFailed
from harness.engines.sqlserver import SqlServerEngine
from harness.engines.sqlserver.tsql import run_batch
from harness.errors import EngineUnavailable
from harness.lab.images import image_present
from harness.lab.lab import Lab
from harness.server.node import Node, provision

from .conftest import REPO, SCENARIOS

IMAGE = os.environ.get("RECOVERY_DRILL_SQLSERVER_IMAGE", SqlServerEngine.default_image)
NO_IMAGE = (
    "SQL Server image mcr.microsoft.com/mssql/server not available locally "
    "(cannot be pulled on these machines)"
)


@pytest.fixture(scope="module")
def image_available(client: docker.DockerClient) -> bool:
    return image_present(client, IMAGE)


@pytest.fixture(scope="module")
def engine(image_available: bool) -> SqlServerEngine:
    if not image_available:
        pytest.skip(NO_IMAGE)
    engine = SqlServerEngine()
    try:
        engine.driver_errors()
    except EngineUnavailable as exc:
        pytest.skip(str(exc))
    return engine


@pytest.fixture(scope="module")
def node(session_lab: Lab, engine: SqlServerEngine) -> Node:
    return provision(session_lab, engine, image=IMAGE, name="sqlserver-session")


@pytest.fixture(scope="module")
def endpoint(session_lab: Lab, engine: SqlServerEngine, node: Node) -> Endpoint:
    return node.endpoint(session_lab, engine)


@pytest.fixture()
def conn(engine: SqlServerEngine, endpoint: Endpoint) -> Iterator[Any]:
    """A connection to an empty drill database."""
    c = engine.connect(endpoint, timeout_s=10)
    for (table,) in run_batch(c, "SELECT name FROM sys.tables WHERE is_ms_shipped = 0")[0]:
        run_batch(c, f"DROP TABLE [{table}]")
    yield c
    c.close()


def test_without_the_image_a_sqlserver_drill_exits_3_and_says_why(
    image_available: bool, tmp_path: Path
) -> None:
    if image_available:
        pytest.skip("the SQL Server image is present here: the drill would really run")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "run",
            str(SCENARIOS / "quickstart.yaml"),
            "--engine",
            "sqlserver",
            "--out",
            str(tmp_path),
            "--quiet",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 3, output
    assert "mcr.microsoft.com/mssql/server:2022-latest is not available locally" in output
    assert "can only run where its official image can be pulled" in output
    assert "Traceback" not in output


def test_seeded_tables_match_the_python_reference(engine: SqlServerEngine, conn: Any) -> None:
    engine.prepare(conn)
    engine.seed(conn, DatasetSpec(tables=2, rows_per_table=3000, seed=11))
    tables = [table_name(1), table_name(2)]
    assert engine.fingerprints(conn, tables) == {
        t: reference_fingerprint(seed=11, table_index=i, count=3000)
        for i, t in enumerate(tables, 1)
    }
    assert engine.source_bytes(conn, tables) > 0


def test_one_changed_row_changes_the_fingerprint(engine: SqlServerEngine, conn: Any) -> None:
    engine.prepare(conn)
    engine.seed(conn, DatasetSpec(tables=1, rows_per_table=500, seed=5))
    before = engine.fingerprints(conn, [table_name(1)])
    run_batch(conn, f"UPDATE {table_name(1)} SET amount = amount + 0.01 WHERE id = 250")
    assert engine.fingerprints(conn, [table_name(1)]) != before


def test_probe_and_writer_rows(engine: SqlServerEngine, conn: Any) -> None:
    with pytest.raises((*engine.driver_errors(), ProbeFailed)):
        engine.probe(conn)
    engine.prepare(conn)
    engine.seed(conn, DatasetSpec(tables=1, rows_per_table=10, seed=1))
    engine.probe(conn)
    now = dt.datetime.now(dt.UTC)
    for seq in (1, 2, 5):
        engine.insert_write(conn, seq, now)
    assert engine.write_seqs(conn) == {1, 2, 5}
    with pytest.raises(engine.driver_errors()) as caught:
        engine.insert_write(conn, 2, now)
    assert engine.is_definite_failure(caught.value)


def test_a_failed_backup_is_reported_as_failed(engine: SqlServerEngine, conn: Any) -> None:
    engine.prepare(conn)
    with pytest.raises(engine.driver_errors(), match=r"(?i)backup"):
        engine.backup_database(conn, path="/nonexistent-dir/drill.bak")


def test_native_backup_verify_and_restore_with_move(engine: SqlServerEngine, conn: Any) -> None:
    engine.prepare(conn)
    engine.seed(conn, DatasetSpec(tables=1, rows_per_table=1000, seed=9))
    path = "/var/opt/mssql/data/drill-full.bak"
    engine.backup_database(conn, path=path)
    engine.verify_backup(conn, path=path)
    files = engine.backup_files(conn, path=path)
    assert {f.type for f in files} == {"D", "L"}
    engine.restore_database(conn, full=path, database="drill_copy")
    run_batch(conn, "USE [drill_copy]")
    assert engine.fingerprints(conn, [table_name(1)]) == {
        table_name(1): reference_fingerprint(seed=9, table_index=1, count=1000)
    }
    run_batch(conn, "USE [master]; DROP DATABASE [drill_copy]")


def test_log_backup_restores_to_a_point_in_time(engine: SqlServerEngine, conn: Any) -> None:
    engine.prepare(conn)
    engine.set_full_recovery(conn)
    full, log = "/var/opt/mssql/data/pitr-full.bak", "/var/opt/mssql/data/pitr-log.trn"
    engine.backup_database(conn, path=full)
    now = dt.datetime.now(dt.UTC)
    for seq in (1, 2, 3):
        engine.insert_write(conn, seq, now)
    time.sleep(1.5)
    stop_at = dt.datetime.now(dt.UTC)
    time.sleep(1.5)
    for seq in (4, 5, 6):
        engine.insert_write(conn, seq, now)
    engine.backup_log(conn, path=log)
    engine.restore_database(conn, full=full, logs=[log], database="drill_pitr", stop_at=stop_at)
    run_batch(conn, "USE [drill_pitr]")
    assert engine.write_seqs(conn) == {1, 2, 3}
    run_batch(conn, "USE [master]; DROP DATABASE [drill_pitr]")


def test_logical_dump_fails_loudly_with_pipefail_and_restores(
    session_lab: Lab, engine: SqlServerEngine, node: Node, conn: Any
) -> None:
    engine.prepare(conn)
    engine.seed(conn, DatasetSpec(tables=1, rows_per_table=2000, seed=3))
    c = engine.credentials

    def run(script: str, password: str | None = None) -> Any:
        env = engine.tool_env(password=password)
        return session_lab.exec(node.container_id, ["bash", "-c", script], timeout_s=120, env=env)

    def dump(job: DumpJob) -> Any:
        return run(engine.dump_command(job), password=job.password)

    good = DumpJob("localhost", "/tmp/good.tar.gz", c.password, c.database)
    assert dump(good).ok
    assert not dump(DumpJob("localhost", "/tmp/a.gz", "nope", c.database)).ok
    assert not dump(DumpJob("localhost", "/tmp/b.gz", c.password, "nope")).ok
    for (table,) in run_batch(conn, "SELECT name FROM sys.tables WHERE is_ms_shipped = 0")[0]:
        run_batch(conn, f"DROP TABLE [{table}]")
    restored = run(engine.restore_command(path=good.path, target_host="localhost"))
    assert restored.ok, restored.tail()
    assert engine.fingerprints(conn, [table_name(1)]) == {
        table_name(1): reference_fingerprint(seed=3, table_index=1, count=2000)
    }
