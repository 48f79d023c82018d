"""Lab refusals and give-ups, with a recording stand-in for the Docker engine (no Docker):
every destructive action refuses a container (or volume) this run did not create and never
reaches it; a vanished container is ContainerGone, not a safety refusal; a server whose
container was removed or exited while starting stops the readiness wait at once."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from harness.backups.physical import verifier_complaint
from harness.errors import ContainerGone, SafetyError, ServerExited
from harness.faults.corrupt_backup import largest_data_file_script
from harness.lab.execution import ExecResult
from harness.lab.lab import OWNER, OWNER_LABEL, RUN_LABEL, Lab
from harness.lab.readiness import ExecUntilReady

RUN = "20261207T000000Z-aaaaaa"


class FakeContainer:
    """Records every call that would change the container."""

    def __init__(self, labels: dict[str, str], calls: list[str]) -> None:
        self.labels = labels
        self.name = "victim"
        self.short_id = "abc123"
        self.id = "abc123abc123"
        self.attrs: dict[str, Any] = {"State": {"Paused": True}}
        self._calls = calls

    def __getattr__(self, action: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> Any:
            self._calls.append(action)

        return record


class FakeVolume:
    def __init__(self, labels: dict[str, str], calls: list[str]) -> None:
        self.attrs = {"Labels": labels}
        self._calls = calls

    def remove(self, **kwargs: Any) -> None:
        self._calls.append("volume.remove")


class FakeCollection:
    def __init__(self, found: Any) -> None:
        self.found = found

    def get(self, name: str) -> Any:
        if self.found is None:
            raise docker.errors.NotFound("no such object")
        return self.found


class FakeClient:
    def __init__(self, container: Any, volume: Any = None) -> None:
        self.containers = FakeCollection(container)
        self.volumes = FakeCollection(volume)


FOREIGN_LABELS = {
    "unlabelled": {},
    "another run": {OWNER_LABEL: OWNER, RUN_LABEL: "20261207T000000Z-bbbbbb"},
    "another owner, same run id": {OWNER_LABEL: "someone-else", RUN_LABEL: RUN},
}
ACTIONS = {
    "kill": lambda lab: lab.kill("victim"),
    "pause": lambda lab: lab.pause("victim"),
    "unpause": lambda lab: lab.unpause("victim"),
    "stop": lambda lab: lab.stop("victim"),
    "remove": lambda lab: lab.remove("victim"),
    "restart": lambda lab: lab.restart("victim"),
    "start again": lambda lab: lab.restart_stopped("victim"),
    "exec (wipe)": lambda lab: lab.exec("victim", ["rm", "-rf", "/x"], timeout_s=1),
    "read a file": lambda lab: lab.path_exists("victim", "/x"),
}


@pytest.mark.parametrize("labels", FOREIGN_LABELS.values(), ids=FOREIGN_LABELS.keys())
@pytest.mark.parametrize("action", ACTIONS.values(), ids=ACTIONS.keys())
def test_every_destructive_action_refuses_what_the_run_did_not_create(
    labels: dict[str, str], action: Any
) -> None:
    calls: list[str] = []
    lab = Lab(RUN, client=FakeClient(FakeContainer(labels, calls)))  # type: ignore[arg-type]
    with pytest.raises(SafetyError, match=r"refusing to .* recovery-drill only touches"):
        action(lab)
    assert calls == [], f"the foreign container was touched: {calls}"


@pytest.mark.parametrize("action", ACTIONS.values(), ids=ACTIONS.keys())
def test_own_containers_are_acted_on(action: Any) -> None:
    calls: list[str] = []
    own = {OWNER_LABEL: OWNER, RUN_LABEL: RUN}
    lab = Lab(RUN, client=FakeClient(FakeContainer(own, calls)))  # type: ignore[arg-type]
    try:
        action(lab)
    except Exception as exc:  # the fakes return nothing useful: reaching them is enough
        assert not isinstance(exc, SafetyError), exc
    assert calls, "the action never reached the container"


@pytest.mark.parametrize("action", ACTIONS.values(), ids=ACTIONS.keys())
def test_a_vanished_container_is_gone_not_a_refusal(action: Any) -> None:
    lab = Lab(RUN, client=FakeClient(None))  # type: ignore[arg-type]
    with pytest.raises(ContainerGone, match="no longer exists") as raised:
        action(lab)
    assert not isinstance(raised.value, SafetyError)


@pytest.mark.parametrize("labels", FOREIGN_LABELS.values(), ids=FOREIGN_LABELS.keys())
def test_volume_removal_refuses_what_the_run_did_not_create(labels: dict[str, str]) -> None:
    calls: list[str] = []
    lab = Lab(RUN, client=FakeClient(None, FakeVolume(labels, calls)))  # type: ignore[arg-type]
    with pytest.raises(SafetyError, match="refusing to remove volume v: this run did not"):
        lab.remove_volume("v")
    assert calls == []


def test_own_volume_is_removed() -> None:
    calls: list[str] = []
    own = {OWNER_LABEL: OWNER, RUN_LABEL: RUN}
    lab = Lab(RUN, client=FakeClient(None, FakeVolume(own, calls)))  # type: ignore[arg-type]
    lab.remove_volume("v")
    assert calls == ["volume.remove"]


# -- readiness: a dead container ends the wait at once ---------------------------------------


class Wrapped:
    def __init__(self, status: str, *, gone: bool = False) -> None:
        self.status = status
        self.attrs = {"State": {"ExitCode": 1}}
        self.gone = gone

    def reload(self) -> None:
        if self.gone:
            raise docker.errors.NotFound("No such container")


class Starting:
    """A testcontainers container whose exec fails the way the engine fails it."""

    def __init__(self, error: Exception | None, wrapped: Wrapped, *, ok_after: int = -1) -> None:
        self.error, self.wrapped, self.ok_after, self.execs = error, wrapped, ok_after, 0

    def exec(self, command: list[str]) -> Any:
        self.execs += 1
        if 0 <= self.ok_after < self.execs:
            return type("R", (), {"exit_code": 0, "output": b"1"})()
        if self.error is not None:
            raise self.error
        return type("R", (), {"exit_code": 2, "output": b"not yet"})()

    def get_wrapped_container(self) -> Wrapped:
        return self.wrapped


def strategy(timeout_s: float = 30) -> ExecUntilReady:
    return ExecUntilReady(["true"]).with_startup_timeout(timeout_s).with_poll_interval(0.01)


class _Response:
    status_code = 409
    reason = "Conflict"
    url = "http://docker/exec"


def conflict() -> docker.errors.APIError:
    return docker.errors.APIError("container is not running", response=_Response())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "wrapped", "expected"),
    [
        (docker.errors.NotFound("No such container"), Wrapped("running"), ContainerGone),
        (conflict(), Wrapped("exited"), ServerExited),
        (conflict(), Wrapped("dead"), ServerExited),
        (conflict(), Wrapped("removing"), ServerExited),
        (conflict(), Wrapped("running", gone=True), ContainerGone),
    ],
)
def test_a_removed_or_exited_server_ends_the_wait_at_once(
    error: Exception, wrapped: Wrapped, expected: type[Exception]
) -> None:
    container = Starting(error, wrapped)
    started = time.monotonic()
    with pytest.raises(expected):
        strategy().wait_until_ready(container)
    assert time.monotonic() - started < 1.0  # not the 30 s timeout
    assert container.execs == 1


def test_a_server_not_ready_yet_is_polled_until_it_is() -> None:
    container = Starting(conflict(), Wrapped("running"), ok_after=3)
    strategy().wait_until_ready(container)
    assert container.execs == 4
    container = Starting(None, Wrapped("running"), ok_after=2)
    strategy().wait_until_ready(container)
    assert container.execs == 3


def test_a_server_never_ready_times_out_with_the_last_output() -> None:
    container = Starting(None, Wrapped("running"))
    with pytest.raises(TimeoutError, match=r"did not succeed within 0\.2 s; last attempt: exit 2"):
        strategy(0.2).wait_until_ready(container)
    assert container.execs > 2


# -- a corrupted physical backup: the rejection names the file ------------------------------


def test_sha256sums_failed_line_from_stdout_is_in_the_complaint() -> None:
    result = ExecResult(
        argv=("sh",),
        exit_code=1,
        stdout="./ibdata1: FAILED\n",
        stderr="sha256sum: WARNING: 1 computed checksum did NOT match\n",
        duration_s=0.1,
    )
    complaint = verifier_complaint(result)
    assert complaint == ("./ibdata1: FAILED; sha256sum: WARNING: 1 computed checksum did NOT match")


def test_pg_verifybackups_stderr_and_the_bare_exit_code() -> None:
    said = 'pg_verifybackup: error: checksum mismatch for file "base/5/1259"'
    assert verifier_complaint(ExecResult(("x",), 1, "", said + "\n", 0.1)) == said
    assert verifier_complaint(ExecResult(("x",), 7, "", "", 0.1)) == "verifier exited 7"
    long = verifier_complaint(ExecResult(("x",), 1, "a\n" * 500, "", 0.1))
    assert len(long) == 400 and long.endswith("...")


def _largest(root: Path) -> str:
    script = largest_data_file_script(str(root))
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_corrupt_backup_finds_a_mariadb_copys_data_file(tmp_path: Path) -> None:
    copy = tmp_path / "mariadb copy"
    (copy / "drill").mkdir(parents=True)
    (copy / "ibdata1").write_bytes(b"x" * 5000)
    (copy / "drill" / "t.ibd").write_bytes(b"x" * 3000)
    (copy / "backup_manifest").write_bytes(b"x" * 9000)
    assert _largest(copy) == f"{copy}/ibdata1"


def test_corrupt_backup_stays_under_base_in_a_postgres_copy(tmp_path: Path) -> None:
    copy = tmp_path / "pg"
    (copy / "base" / "5").mkdir(parents=True)
    (copy / "pg_wal").mkdir()
    (copy / "pg_wal" / "000000010000000000000003").write_bytes(b"x" * 9000)
    (copy / "base" / "5" / "1259").write_bytes(b"x" * 4000)
    (copy / "base" / "5" / "1260").write_bytes(b"x" * 100)
    assert _largest(copy) == f"{copy}/base/5/1259"
