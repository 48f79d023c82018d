"""No secret is ever written: drills with distinctive passwords leave none of them in the run
folder (journal, acks.jsonl, reports), the logs or the history; a command that times out with
a password in its environment says nothing of it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.engines.base import DumpJob, Engine
from harness.errors import CommandTimeout
from harness.lab.helpers import helper
from harness.lab.lab import Lab
from harness.measurement.verdict import Verdict
from harness.report.history import History
from harness.server.node import Node

from .conftest import PASSWORDS, PG_PASSWORD, SCENARIOS, SharedDrills


def _files_holding(folder: Path, secrets: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path.relative_to(folder)}: {s}" for s in secrets if s.encode() in data]
    return found


def test_drills_write_no_password_anywhere(
    shared_drills: SharedDrills, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # empty-backup runs two dump jobs (one with stale credentials, in its environment), the
    # verification, a wipe and a restore: every place a password goes on both engines. The
    # drills are the session's shared ones (test_drills.py and test_engines_parity.py check
    # their figures), run with the distinctive passwords and their log captured at DEBUG.
    path = SCENARIOS / "empty-backup.yaml"
    caplog.set_level(logging.DEBUG)
    runs = [shared_drills.run(path, engine) for engine in ("postgres", "mariadb")]
    history_path = tmp_path / "history.sqlite"
    history = History.open(str(history_path))
    try:
        for run in runs:
            result = run.result
            engine, j = result.engine, result.journal
            # The stale-credentials fault still breaks the job, through the environment.
            assert result.verdict is Verdict.PASS, (engine, j["reasons"])
            assert j["faults"][0]["took_effect"] is True, (engine, j["faults"])
            assert [b["name"] for b in j["backups"]] == ["nightly-1", "nightly-2"]
            history.record(result.record)
    finally:
        history.close()
    reports = tmp_path / "reports"
    rendered = CliRunner().invoke(
        app, ["report", "--history", str(history_path), "--out", str(reports)]
    )
    assert rendered.exit_code == 0, rendered.output
    folders = [run.result.journal_path.parent for run in runs]
    for folder in folders:
        assert (folder / "journal.json").is_file() and (folder / "acks.jsonl").is_file()
        assert _files_holding(folder, PASSWORDS) == [], folder
    assert any(reports.iterdir())
    assert _files_holding(tmp_path, PASSWORDS) == []
    assert history_path.stat().st_size > 0
    for run in runs:
        assert "DEBUG" in run.log, "the drill's log was not captured"
    for secret in PASSWORDS:
        assert all(secret not in run.log for run in runs)
        assert secret not in caplog.text and secret not in rendered.output


@pytest.fixture(scope="module")
def tools(session_lab: Lab, postgres_image: str) -> Iterator[str]:
    """A helper with the PostgreSQL tools (not the session's server: a command killed at its
    deadline leaves its children to PID 1, and a postmaster takes a killed child for a crash)."""
    with helper(session_lab, image=postgres_image, name="secrets-tools", mounts={}) as cid:
        yield cid


def test_a_timed_out_command_says_nothing_of_its_password(
    session_lab: Lab, postgres_engine: Engine, tools: str
) -> None:
    """A real exec killed at its deadline: its argv, its output (which prints the password
    from its environment) and the error carry ***, never the password."""
    env = postgres_engine.tool_env(password=PG_PASSWORD)
    script = 'echo "connecting with $PGPASSWORD" >&2; sleep 30'
    with pytest.raises(CommandTimeout) as caught:
        session_lab.exec(tools, ["bash", "-c", script], timeout_s=1, env=env)
    message = str(caught.value)
    assert "timed out after 1.0 s" in message and "connecting with ***" in message
    assert PG_PASSWORD not in message


def test_a_failed_dump_says_nothing_of_its_password(
    session_lab: Lab, postgres_engine: Engine, postgres_node: Node, tools: str
) -> None:
    """A dump job that fails (a database that does not exist): its output has no password."""
    job = DumpJob(
        postgres_node.name, "/tmp/missing.gz", postgres_engine.credentials.password, "nope"
    )
    script = (
        f"{postgres_engine.dump_command(job)}; status=$?; "
        'echo "PGPASSWORD was $PGPASSWORD" >&2; exit $status'
    )
    result = session_lab.exec(
        tools,
        ["bash", "-c", script],
        timeout_s=30,
        env=postgres_engine.tool_env(password=job.password),
    )
    assert not result.ok and 'database "nope" does not exist' in result.tail()
    assert "PGPASSWORD was ***" in result.tail()
    assert job.password not in result.stdout + result.stderr
