"""The reaper's decisions, without Docker: who owns a run, whether that owner is alive, which
runs cleanup may remove, and how a killed run's journal is marked and recorded."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness import cli
from harness.lab.labels import HOST_LABEL, PID_LABEL, PID_START_LABEL
from harness.lab.owner import (
    Liveness,
    Owner,
    ProcessSeen,
    liveness,
    probe_process,
    this_process,
)
from harness.lab.reaper import FoundRun, keep_reason
from harness.record import DrillStatus
from harness.report.history import History
from harness.report.journal import read_journal, write_journal
from harness.runner.reap import mark_killed

JOURNALS = Path(__file__).parent / "data" / "journals"
HOST = "drill-host"
OWNER = Owner(HOST, 4242, start_ticks=1000)


def probe_of(seen: ProcessSeen | None):  # type: ignore[no-untyped-def]
    asked: list[int] = []

    def probe(pid: int) -> ProcessSeen | None:
        asked.append(pid)
        return seen

    probe.asked = asked  # type: ignore[attr-defined]
    return probe


# -- liveness --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seen", "expected"),
    [
        (None, Liveness.DEAD),  # no process under the pid
        (ProcessSeen(1000, is_recovery_drill=True), Liveness.ALIVE),
        (ProcessSeen(1000, is_recovery_drill=False), Liveness.ALIVE),  # start time decides
        (ProcessSeen(2000, is_recovery_drill=True), Liveness.DEAD),  # the pid was reused
    ],
)
def test_a_local_owner_is_alive_only_if_its_pid_runs_since_the_same_start(
    seen: ProcessSeen | None, expected: Liveness
) -> None:
    probe = probe_of(seen)
    assert liveness(OWNER, host=HOST, probe=probe) is expected
    assert probe.asked == [4242]


@pytest.mark.parametrize(
    ("is_recovery_drill", "expected"), [(True, Liveness.ALIVE), (False, Liveness.DEAD)]
)
def test_without_a_start_time_the_process_must_be_recovery_drill(
    is_recovery_drill: bool, expected: Liveness
) -> None:
    owner = Owner(HOST, 4242, start_ticks=None)
    probe = probe_of(ProcessSeen(1000, is_recovery_drill=is_recovery_drill))
    assert liveness(owner, host=HOST, probe=probe) is expected


def test_another_hosts_owner_and_a_missing_owner_are_not_probed() -> None:
    probe = probe_of(None)
    assert liveness(OWNER, host="elsewhere", probe=probe) is Liveness.OTHER_HOST
    assert liveness(None, host=HOST, probe=probe) is Liveness.UNKNOWN
    assert probe.asked == []


def test_owner_labels_round_trip_and_malformed_ones_name_no_owner() -> None:
    assert Owner.from_labels(OWNER.labels()) == OWNER
    assert Owner.from_labels(Owner(HOST, 7, None).labels()) == Owner(HOST, 7, None)
    assert Owner.from_labels({}) is None
    assert Owner.from_labels({HOST_LABEL: HOST, PID_LABEL: "x7"}) is None
    odd_start = {HOST_LABEL: HOST, PID_LABEL: "7", PID_START_LABEL: "soon"}
    assert Owner.from_labels(odd_start) == Owner(HOST, 7, None)


def test_this_process_is_alive_and_a_finished_child_is_dead() -> None:
    me = this_process()
    assert me.pid == os.getpid() and me.start_ticks is not None
    assert liveness(me, host=me.host, probe=probe_process) is Liveness.ALIVE
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    seen = probe_process(child.pid)
    assert seen is None or seen.start_ticks is not None  # it may already be gone
    child.wait()
    assert probe_process(child.pid) is None
    gone = Owner(me.host, child.pid, 1)
    assert liveness(gone, host=me.host, probe=probe_process) is Liveness.DEAD


def test_a_process_started_later_under_an_owners_pid_is_not_the_owner() -> None:
    me = this_process()
    assert me.start_ticks is not None
    impostor = Owner(me.host, me.pid, me.start_ticks - 1)  # same pid, an earlier owner
    assert liveness(impostor, host=me.host, probe=probe_process) is Liveness.DEAD


# -- what cleanup may remove -----------------------------------------------------------------


def found(state: Liveness, *, owner: Owner | None = OWNER, run_id: str = "r1") -> FoundRun:
    return FoundRun(run_id, owner, None, resources=3, liveness=state)


def test_a_dead_owners_run_is_reaped_with_or_without_a_run_id() -> None:
    for asked in (None, "r1"):
        assert keep_reason(found(Liveness.DEAD), asked=asked, force=False, host=HOST) is None


def test_a_live_run_is_kept_unless_forced_by_name() -> None:
    alive = found(Liveness.ALIVE)
    for asked, force in ((None, False), ("r1", False), ("other", True)):
        why = keep_reason(alive, asked=asked, force=force, host=HOST)
        assert why is not None and "4242" in why and "alive" in why
        assert "--force --run r1" in why
    assert keep_reason(alive, asked="r1", force=True, host=HOST) is None


def test_another_hosts_run_is_kept_unless_forced_by_name() -> None:
    remote = found(Liveness.OTHER_HOST, owner=Owner("elsewhere", 9, 1))
    why = keep_reason(remote, asked=None, force=False, host=HOST)
    assert why is not None and "another host (elsewhere" in why
    assert keep_reason(remote, asked="r1", force=False, host=HOST) is not None
    assert keep_reason(remote, asked="r1", force=True, host=HOST) is None


def test_a_run_naming_no_owner_is_removed_only_by_name() -> None:
    legacy = found(Liveness.UNKNOWN, owner=None)
    why = keep_reason(legacy, asked=None, force=False, host=HOST)
    assert why is not None and "cleanup --run r1" in why
    assert keep_reason(legacy, asked="r1", force=False, host=HOST) is None


# -- marking a killed run --------------------------------------------------------------------


def started_journal(tmp_path: Path) -> Path:
    done = read_journal(JOURNALS / "quickstart.json")
    path = tmp_path / done.run_id / "journal.json"
    started = dataclasses.replace(
        done, status=DrillStatus.STARTED, action="seeding 2 tables", verdict=None, reasons=()
    )
    write_journal(path, started)
    return path


def test_a_started_journal_is_marked_killed_once_and_recorded(tmp_path: Path) -> None:
    path = started_journal(tmp_path)
    killed = mark_killed(path)
    assert killed is not None
    assert killed.status is DrillStatus.KILLED and killed.status.value == "killed"
    assert killed.error == "killed while seeding 2 tables (its process is gone)"
    assert killed.verdict == "error" and killed.reasons == (killed.error,)
    assert read_journal(path) == killed
    assert mark_killed(path) is None  # already ended: left as it is
    with History.open(tmp_path / "h.sqlite") as history:
        history.record(killed)
        (run,) = history.runs()
        assert (run.run_id, run.status, run.error) == (killed.run_id, "killed", killed.error)
        assert history.journal(killed.run_id) == killed


def test_a_finished_journal_is_not_marked(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    done = read_journal(JOURNALS / "quickstart.json")
    write_journal(path, done)
    assert mark_killed(path) is None
    assert read_journal(path).status is DrillStatus.DONE


# -- the cleanup command's usage errors ------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--run", ""], "--run '': expected a run id"),
        (["--run", "  "], "--run '': expected a run id"),
        (["--force"], "--force needs --run ID"),
    ],
)
def test_cleanup_usage_errors_exit_2_before_docker(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli.app, ["cleanup", *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
