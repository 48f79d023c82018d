"""`recovery-drill restore-test` of a dump the test made itself with the engine's own tool
(pg_dump, run in a PostgreSQL server outside the harness's drills), and of a truncated copy:
the first passes with the team's checks and is catalogued as restore-tested; the second exits
1 with the failing step and pg_restore's complaint named."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

from harness.engines.base import Engine
from harness.lab.lab import Lab
from harness.report.history import History
from harness.report.history.external import catalog
from harness.server.node import Node, provision

from .conftest import REPO

ROWS = 5000
CHECKS = f"""\
checks:
  - name: customers are there
    sql: SELECT count(*) FROM rt_customer
    expect: {{min: {ROWS}}}
  - name: ids are unique
    sql: SELECT count(*) - count(DISTINCT id) FROM rt_customer
    expect: {{value: 0}}
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def make_dump(lab: Lab, engine: Engine, node: Node, path: Path) -> None:
    """pg_dump (custom format) of one table, made in the session's server, copied out."""
    c = engine.credentials
    script = (
        f"psql -U {c.user} -d {c.database} -qc 'DROP TABLE IF EXISTS rt_customer; "
        "CREATE TABLE rt_customer AS SELECT g AS id, md5(g::text) AS name "
        f"FROM generate_series(1, {ROWS}) g' && "
        f"pg_dump -U {c.user} -d {c.database} -Fc -t rt_customer"
    )
    container = lab.guard(node.container_id, action="make a dump in")
    result = container.exec_run(["bash", "-c", script], demux=True)
    assert result.exit_code == 0, result.output
    path.write_bytes(result.output[0])


def test_restore_test_of_a_dump_and_of_its_truncated_copy(
    tmp_path: Path, session_lab: Lab, postgres_engine: Engine, postgres_node: Node
) -> None:
    dump = tmp_path / "app.dump"
    make_dump(session_lab, postgres_engine, postgres_node, dump)
    assert dump.read_bytes()[:5] == b"PGDMP"
    checks = tmp_path / "checks.yaml"
    checks.write_text(CHECKS)
    history = tmp_path / "history.sqlite"

    good = cli(
        "restore-test", str(dump), "--engine", "postgres", "--checks", str(checks),
        "--rto-s", "120", "--json", str(tmp_path / "good.json"),
        "--junit", str(tmp_path / "good.xml"), "--history", str(history),
    )  # fmt: skip
    assert good.returncode == 0, good.stdout + good.stderr
    result = json.loads((tmp_path / "good.json").read_text())
    assert result["status"] == "pass" and result["verification"] == "restore_tested"
    assert [c["passed"] for c in result["data_checks"]] == [True, True]
    assert result["data_checks"][0]["actual"] == str(ROWS)
    for figure in ("fetch_s", "restore_s", "verify_s", "rto_s"):
        assert result[figure] is not None and result[figure] > 0, figure
    assert 'failures="0"' in (tmp_path / "good.xml").read_text()

    truncated = tmp_path / "app-truncated.dump"
    truncated.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
    bad = cli(
        "restore-test", str(truncated), "--engine", "postgres",
        "--json", str(tmp_path / "bad.json"), "--history", str(history),
    )  # fmt: skip
    assert bad.returncode == 1, bad.stdout + bad.stderr
    failed = json.loads((tmp_path / "bad.json").read_text())
    assert failed["status"] == "fail" and failed["verification"] == "checksum_matches"
    assert failed["reason"].startswith("restore exited")
    assert "pg_restore" in failed["reason"] and "Traceback" not in bad.stderr

    listed = cli("catalog", "--history", str(history))
    assert listed.returncode == 0 and "app.dump" in listed.stdout, listed.stderr
    with History.open(history) as store:
        rows = {r.name: r for r in catalog(store.db)}
    assert rows["app.dump"].verification == "restore_tested"
    assert rows["app.dump"].last_restorable_at == result["ended_at"]
    assert rows["app.dump"].sha256 == result["sha256"] and (rows["app.dump"].size_bytes or 0) > 0
    assert rows["app-truncated.dump"].last_status == "fail"
    assert rows["app-truncated.dump"].last_restorable_at is None


def test_restore_test_of_a_pgbackrest_repository(
    tmp_path: Path, session_lab: Lab, postgres_engine: Engine, postgres_image: str
) -> None:
    """A repository made by pgBackRest itself (stanza `app`, not the drill's), copied out to
    a folder, then restore-tested: newest set, --type=immediate, checks on the restored data."""
    repo = "--repo1-path=/var/lib/postgresql/repo"
    push = f"pgbackrest --stanza=app {repo} --pg1-path={postgres_engine.datadir} archive-push %p"
    node = provision(
        session_lab,
        postgres_engine,
        image=postgres_image,
        name="pgbr-source",
        command=["postgres", "-c", "archive_mode=on", "-c", f"archive_command={push}"],
    )
    c = postgres_engine.credentials
    opts = (
        f"{repo} --stanza=app --pg1-path={postgres_engine.datadir} "
        f"--pg1-user={c.user} --pg1-database={c.database} --log-level-file=off"
    )
    script = (
        "install -d -o postgres -g postgres /var/lib/postgresql/repo && "
        f"psql -U {c.user} -d {c.database} -qc 'CREATE TABLE rt_customer AS SELECT g AS id "
        f"FROM generate_series(1, {ROWS}) g' && su postgres -c 'pgbackrest {opts} stanza-create "
        f"&& pgbackrest {opts} --start-fast --repo1-retention-full=9 backup --type=full' && "
        "tar -C /var/lib/postgresql -cf - repo"
    )
    container = session_lab.guard(node.container_id, action="back up with pgBackRest in")
    result = container.exec_run(["bash", "-c", script], demux=True)
    session_lab.remove(node.container_id)
    assert result.exit_code == 0, result.output[1]
    with tarfile.open(fileobj=io.BytesIO(result.output[0])) as tar:
        tar.extractall(tmp_path, filter="tar")
    assert (tmp_path / "repo" / "backup" / "app" / "backup.info").is_file()
    checks = tmp_path / "checks.yaml"
    checks.write_text(CHECKS)
    run = cli(
        "restore-test", str(tmp_path / "repo"), "--engine", "postgres", "--checks", str(checks),
        "--json", str(tmp_path / "repo.json"), "--history", str(tmp_path / "h.sqlite"),
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    out = json.loads((tmp_path / "repo.json").read_text())
    assert out["kind"] == "pgbackrest" and out["backup_type"] == "full"
    assert out["name"].startswith("repo:") and out["name"].endswith("F")
    assert out["verification"] == "restore_tested"
    assert [c["passed"] for c in out["data_checks"]] == [True, True]
