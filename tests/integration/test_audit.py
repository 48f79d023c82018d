"""`recovery-drill audit` and `gate` against real servers with Chinook loaded.

Each engine (and each second major version whose image is present) is audited twice: a bare
server, and a primary archiving its log with a streaming replica (the harness's own topology
code). The findings must differ as they should: PITR and replication critical/warning on the
bare server, ok on the set-up one. A read-only account must be able to run the audit.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from harness.engines import get_engine
from harness.engines.base import Engine
from harness.lab.lab import Lab
from harness.runner import new_run_id
from harness.server import topology
from harness.server.node import Node, provision
from harness.validation import load_scenario

REPO = Path(__file__).resolve().parents[2]
CHINOOK = REPO.parent / "shared" / "data" / "chinook"
TOPOLOGY = Path(__file__).parent / "scenarios" / "audit-topology.yaml"
PASSWORD = "Audit-Pw-7f3c91"  # distinctive: no output may contain it

# (engine, image): the default local builds, and the second major versions where present.
SERVERS = [
    ("postgres", "recovery-drill/postgres:15-bookworm"),
    ("postgres", "recovery-drill/postgres:17-trixie"),
    ("mariadb", "recovery-drill/mariadb:10.11-bookworm"),
    ("mariadb", "recovery-drill/mariadb:11.8-trixie"),
]

needs_chinook = pytest.mark.skipif(
    not (CHINOOK / "chinook-postgres.sql").exists(),
    reason=f"the Chinook sample database is not at {CHINOOK} (../shared/data/chinook)",
)


def _image_or_skip(client: docker.DockerClient, image: str) -> str:
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        pytest.skip(f"image {image} is not available locally (make images builds it)")
    return image


def _load_chinook(lab: Lab, engine: Engine, node: Node) -> None:
    """Run the Chinook script with the engine's own client inside the server's container."""
    name = "chinook-postgres.sql" if engine.name == "postgres" else "chinook-mysql.sql"
    data = (CHINOOK / name).read_bytes()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("chinook.sql")
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
    node.container.get_wrapped_container().put_archive("/tmp", buf.getvalue())
    if engine.name == "postgres":
        script = "psql -v ON_ERROR_STOP=1 -q -U drill -d drill -f /tmp/chinook.sql >/dev/null"
    else:
        script = f"{engine.root_client()} < /tmp/chinook.sql"  # type: ignore[attr-defined]
    result = lab.exec(node.container_id, ["bash", "-c", script], timeout_s=120)
    assert result.ok, result.tail()


def _grant_auditor(lab: Lab, engine: Engine, node: Node) -> None:
    """A read-only account: connect and SELECT on Chinook, nothing else."""
    if engine.name == "postgres":
        sql = (
            f"CREATE ROLE auditor LOGIN PASSWORD '{PASSWORD}'; "
            "GRANT CONNECT ON DATABASE chinook TO auditor; "
            "\\c chinook\n GRANT USAGE ON SCHEMA public TO auditor; "
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO auditor;"
        )
        script = f"psql -v ON_ERROR_STOP=1 -q -U drill -d drill <<'SQL'\n{sql}\nSQL"
    else:
        sql = (
            f"CREATE USER 'auditor'@'%' IDENTIFIED BY '{PASSWORD}'; "
            "GRANT SELECT ON Chinook.* TO 'auditor'@'%';"
        )
        script = f'{engine.root_client()} -e "{sql}"'  # type: ignore[attr-defined]
    result = lab.exec(node.container_id, ["bash", "-c", script], timeout_s=30)
    assert result.ok, result.tail()


def _url(engine: Engine, lab: Lab, node: Node, *, user: str, password: str) -> str:
    port = lab.host_port(node.container_id, engine.port)
    db = "chinook" if engine.name == "postgres" else "Chinook"
    scheme = "postgresql" if engine.name == "postgres" else "mariadb"
    return f"{scheme}://{user}:{password}@127.0.0.1:{port}/{db}"


def _cli(*args: str, history: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args, "--history", str(history)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def _audit(url: str, history: Path) -> tuple[int, dict[str, object], str]:
    done = _cli("audit", url, "--format", "json", history=history)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout), done.stdout + done.stderr


def _by_check(report: dict[str, object]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in report["findings"]:  # type: ignore[union-attr]
        out.setdefault(f["check"], set()).add(f["severity"])  # type: ignore[index]
    assert out, "the audit reported no finding at all"
    return out


@pytest.fixture(params=SERVERS, ids=[f"{e}-{i.split(':')[1]}" for e, i in SERVERS])
def server(
    request: pytest.FixtureRequest, client: docker.DockerClient
) -> Iterator[tuple[Engine, str, Lab]]:
    engine_name, image = request.param
    image = _image_or_skip(client, image)
    with Lab(new_run_id(), client=client) as lab:
        yield get_engine(engine_name), image, lab


@needs_chinook
def test_audit_findings_differ_with_archiving_and_replication(
    server: tuple[Engine, str, Lab], tmp_path: Path
) -> None:
    engine, image, lab = server
    history = tmp_path / "history.sqlite"
    admin = engine.credentials  # type: ignore[attr-defined]

    # A bare server: PostgreSQL's defaults (no archiving); MariaDB without its binary log.
    command = None if engine.name == "postgres" else ["--local-infile=1", "--skip-log-bin"]
    bare = provision(lab, engine, image=image, name="bare", command=command)
    _load_chinook(lab, engine, bare)
    _grant_auditor(lab, engine, bare)
    user = "drill" if engine.name == "postgres" else "root"
    pw = admin.password if engine.name == "postgres" else engine.root_password  # type: ignore[attr-defined]
    code, report, text = _audit(_url(engine, lab, bare, user=user, password=pw), history)
    assert pw not in text
    found = _by_check(report)
    assert code == 1, "a server without archiving and without any restore test is critical"
    assert "critical" in found["pitr"]
    assert found["replication"] == {"warning"}, found
    assert found["restore_test"] == {"critical"}
    assert not history.exists(), "an audit must not create a history"
    names = {t["name"].lower() for t in report["tables"]}  # type: ignore[union-attr]
    assert {"invoice", "album", "track"} <= names

    # The read-only account: the audit still runs (exit 0/1, never 3) and never shows its password.
    code_ro, report_ro, text_ro = _audit(
        _url(engine, lab, bare, user="auditor", password=PASSWORD), history
    )
    assert PASSWORD not in text_ro
    assert code_ro == 1
    assert "critical" in _by_check(report_ro)["pitr"]

    scenario = load_scenario(TOPOLOGY)
    topo = topology.build(lab, engine, scenario, image=image)

    def connect(node: Node) -> object:
        return engine.connect(node.endpoint(lab, engine), timeout_s=5)

    topology.add_replica(
        lab, engine, topo, scenario.topology.replicas[0], image=image, connect=connect
    )
    _load_chinook(lab, engine, topo.primary)
    if engine.name == "postgres":  # archive the segment holding Chinook now, not in an hour
        switched = lab.exec(
            topo.primary.container_id,
            ["psql", "-q", "-U", "drill", "-d", "drill", "-c", "SELECT pg_switch_wal()"],
            timeout_s=30,
        )
        assert switched.ok, switched.tail()
    _, report_ok, text_ok = _audit(_url(engine, lab, topo.primary, user=user, password=pw), history)
    assert pw not in text_ok
    found_ok = _by_check(report_ok)
    assert found_ok["pitr"] == {"ok"}, report_ok["findings"]
    assert "ok" in found_ok["replication"] and "warning" not in found_ok["replication"]
    assert found_ok["restore_test"] == {"critical"}  # still: nothing was ever restore-tested


def test_audit_bad_url_and_unreachable_database(tmp_path: Path) -> None:
    history = tmp_path / "h.sqlite"
    bad = _cli("audit", "ftp://x@127.0.0.1/db", history=history)
    assert bad.returncode == 2 and "unknown scheme" in bad.stderr
    remote = _cli("audit", "postgresql://u:Sekrit-77@192.0.2.10/db", history=history)
    assert remote.returncode == 2 and "--allow-remote" in remote.stderr
    assert "Sekrit-77" not in remote.stderr + remote.stdout
    # Nothing listens on port 9 of the loopback: exit 3, the password masked.
    down = _cli("audit", "postgresql://u:Sekrit-77@127.0.0.1:9/db", history=history)
    assert down.returncode == 3, down.stderr
    assert "cannot connect" in down.stderr and "Sekrit-77" not in down.stderr + down.stdout


def _checklist(tmp_path: Path) -> Path:
    from harness.audit.checklist import ITEMS

    lines = ["migration: chinook-invoice-split", "items:"]
    lines += [f"  {name}: {{done: true, evidence: 'OPS-42 {name}'}}" for name in ITEMS]
    path = tmp_path / "checklist.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _gate(url: str, history: Path, *args: str) -> tuple[int, dict[str, bool]]:
    done = _cli("gate", url, "--format", "json", *args, history=history)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    result = json.loads(done.stdout)
    return done.returncode, {i["name"]: i["passed"] for i in result["items"]}


@needs_chinook
def test_gate_blocks_passes_after_a_restore_test_and_blocks_when_the_backup_ages(
    client: docker.DockerClient, tmp_path: Path
) -> None:
    """Empty history: blocked. A pg_dump of the live database made outside the harness and
    restore-tested: passes. The same backup older than --max-backup-age: blocked again."""
    engine = get_engine("postgres")
    image = _image_or_skip(client, "recovery-drill/postgres:15-bookworm")
    history = tmp_path / "history.sqlite"
    checklist = _checklist(tmp_path)
    with Lab(new_run_id(), client=client) as lab:
        topo = topology.build(lab, engine, load_scenario(TOPOLOGY), image=image)
        _load_chinook(lab, engine, topo.primary)
        lab.exec(
            topo.primary.container_id,
            ["psql", "-q", "-U", "drill", "-d", "drill", "-c", "SELECT pg_switch_wal()"],
            timeout_s=30,
        )
        url = _url(engine, lab, topo.primary, user="drill", password=engine.credentials.password)  # type: ignore[attr-defined]

        code, items = _gate(url, history, "--max-backup-age", "1h", "--checklist", str(checklist))
        assert code == 1
        assert items["restore_tested_backup"] is False
        assert items["pitr"] is True
        assert all(v for k, v in items.items() if k.startswith("checklist."))
        code, items = _gate(url, history)
        assert code == 1 and items["checklist"] is False

        # The team's own dump, made with the engine's tool, outside the harness.
        dumped = lab.exec(
            topo.primary.container_id,
            ["pg_dump", "-U", "drill", "-d", "chinook", "-Fc", "-f", "/tmp/chinook.dump"],
            timeout_s=60,
        )
        assert dumped.ok, dumped.tail()
        stream, _ = topo.primary.container.get_wrapped_container().get_archive("/tmp/chinook.dump")
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            tar.extractall(tmp_path, filter="data")
        tested = _cli(
            "restore-test",
            str(tmp_path / "chinook.dump"),
            "--engine",
            "postgres",
            "--database",
            "chinook",
            history=history,
        )
        assert tested.returncode == 0, tested.stdout + tested.stderr

        code, items = _gate(url, history, "--max-backup-age", "1h", "--checklist", str(checklist))
        assert code == 0, items
        time.sleep(2.5)
        code, items = _gate(url, history, "--max-backup-age", "2s", "--checklist", str(checklist))
        assert code == 1 and items["restore_tested_backup"] is False
