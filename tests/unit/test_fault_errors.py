"""Errors at one boundary: a fault reports what it checked, and never mistakes a Docker failure
(an infrastructure error) for damage done or for a fault that did nothing. A `docker exec`
cannot outlive its deadline. Fake lab and containers: no Docker is reached."""

from __future__ import annotations

import threading
import time
from typing import Any, cast

import docker.errors
import pytest

from harness.errors import CommandTimeout, ContainerGone, InfrastructureError
from harness.faults import node_fault
from harness.faults.base import FaultContext, FaultEffect
from harness.lab import execution
from harness.lab.lab import OWNER, OWNER_LABEL, RUN_LABEL, Lab
from harness.scenario import model
from harness.server.node import Target

TARGET = Target("primary", "c0ffee")


class FakeLab:
    """Answers ``state`` from a script: a dict, or an exception to raise."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)

    def state(self, container_id: str) -> dict[str, Any]:
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return cast(dict[str, Any], answer)


def context(lab: FakeLab) -> FaultContext:
    return FaultContext(lab=cast(Any, lab), engine=cast(Any, None), target=TARGET)


def test_decommission_counts_only_a_removed_container_as_gone() -> None:
    fault = node_fault(model.Decommission(fault="decommission", at_s=1))
    effect = fault.took_effect(context(FakeLab(ContainerGone("no longer exists"))))
    assert effect.kind is FaultEffect.TOOK_EFFECT


def test_decommission_does_not_swallow_a_docker_api_failure() -> None:
    fault = node_fault(model.Decommission(fault="decommission", at_s=1))
    with pytest.raises(InfrastructureError):
        fault.took_effect(context(FakeLab(InfrastructureError("could not inspect"))))


def test_kill_that_leaves_the_server_running_did_not_take_effect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("harness.faults.kill.DEATH_TIMEOUT_S", 0.05)
    fault = node_fault(model.Kill(fault="kill", at_s=1))
    effect = fault.took_effect(context(FakeLab({"Running": True})))
    assert effect.kind is FaultEffect.NO_EFFECT


def test_kill_does_not_turn_a_docker_failure_into_inconclusive() -> None:
    fault = node_fault(model.Kill(fault="kill", at_s=1))
    with pytest.raises(InfrastructureError):
        fault.took_effect(context(FakeLab(InfrastructureError("could not inspect"))))


def test_each_fault_says_whether_it_causes_an_outage() -> None:
    primary = node_fault(model.Decommission(fault="decommission", at_s=1))
    replica = node_fault(model.Decommission(fault="decommission", at_s=1, target="replica"))
    assert primary.causes_outage and not replica.causes_outage
    assert node_fault(model.Kill(fault="kill", at_s=1)).causes_outage
    deleted = node_fault(model.DeleteWrites(fault="delete_writes", at_s=1, count=3))
    assert not deleted.causes_outage


class FakeContainer:
    """A container of the run whose exec answers after ``hang_s`` (or raises ``error``)."""

    name = "rd-test-primary"
    short_id = "c0ffee"

    def __init__(self, *, hang_s: float = 0.0, error: Exception | None = None) -> None:
        self.labels = {OWNER_LABEL: OWNER, RUN_LABEL: "test-run"}
        self.hang_s, self.error = hang_s, error
        self.released = threading.Event()

    def exec_run(self, argv: list[str], **kwargs: Any) -> tuple[int, tuple[bytes, bytes]]:
        if self.error is not None:
            raise self.error
        self.released.wait(self.hang_s)
        return 0, (b"done\n", b"")


class FakeClient:
    def __init__(self, container: FakeContainer) -> None:
        self.containers = self
        self.container = container

    def get(self, container_id: str) -> FakeContainer:
        return self.container


def lab_with(container: FakeContainer) -> Lab:
    return Lab("test-run", client=cast(Any, FakeClient(container)))


def test_exec_returns_what_the_command_printed() -> None:
    result = lab_with(FakeContainer()).exec("c0ffee", ["true"], timeout_s=5)
    assert result.ok and result.stdout == "done\n"


def test_exec_into_a_container_that_never_answers_stops_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(execution, "EXEC_GRACE_S", 0.1)
    frozen = FakeContainer(hang_s=30)
    started = time.monotonic()
    with pytest.raises(CommandTimeout) as caught:
        lab_with(frozen).exec("c0ffee", ["sleep", "1000"], timeout_s=0.2)
    frozen.released.set()
    assert time.monotonic() - started < 2
    assert "sleep 1000" in str(caught.value)


def test_a_docker_api_failure_in_exec_is_an_infrastructure_error() -> None:
    broken = FakeContainer(error=docker.errors.APIError("500 Server Error"))
    with pytest.raises(InfrastructureError, match="could not exec"):
        lab_with(broken).exec("c0ffee", ["true"], timeout_s=5)


def test_a_bug_in_exec_is_raised_as_itself() -> None:
    broken = FakeContainer(error=TypeError("unexpected keyword"))
    with pytest.raises(TypeError, match="unexpected keyword"):
        lab_with(broken).exec("c0ffee", ["true"], timeout_s=5)


class WipedLab:
    """A lab whose server exited after the wipe: exec fails (409), the files are readable."""

    def __init__(self, *, running: bool, marker_present: bool) -> None:
        self.running, self.marker_present = running, marker_present

    def exec(self, *args: object, **kwargs: object) -> None:
        raise InfrastructureError("could not exec sh: 409 Conflict: container is not running")

    def state(self, container_id: str) -> dict[str, Any]:
        return {"Running": self.running, "ExitCode": 0 if self.running else 2}

    def path_exists(self, container_id: str, path: str) -> bool:
        assert path.endswith("global/pg_control")
        return self.marker_present


class FakeEngine:
    datadir = "/var/lib/postgresql/data"
    datadir_marker = "global/pg_control"


def wiped(lab: WipedLab) -> Any:
    fault: Any = node_fault(model.RmRfDatadir(fault="rm_rf_datadir", at_s=1))
    fault._before = 25  # entries counted before the wipe
    ctx = FaultContext(lab=cast(Any, lab), engine=cast(Any, FakeEngine()), target=TARGET)
    return fault.took_effect(ctx)


@pytest.mark.parametrize(("present", "kind"), [(False, "TOOK_EFFECT"), (True, "NO_EFFECT")])
def test_a_wipe_that_killed_the_server_is_judged_from_its_files(present: bool, kind: str) -> None:
    effect = wiped(WipedLab(running=False, marker_present=present))
    assert effect.kind is FaultEffect[kind]
    assert "the server exited (code 2)" in effect.evidence


def test_an_exec_failure_on_a_running_server_stays_an_infrastructure_error() -> None:
    with pytest.raises(InfrastructureError, match="409"):
        wiped(WipedLab(running=True, marker_present=False))
