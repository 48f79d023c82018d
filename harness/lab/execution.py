"""Commands run inside containers: their result, and a deadline the host enforces."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

import docker.errors
import requests
from docker.models.containers import Container

from harness.errors import CommandTimeout, InfrastructureError
from harness.secrets import redact, secret_values

# How long past a command's own deadline the host waits for `docker exec` to answer: the
# in-container `timeout` should have ended it by then, unless the container is frozen.
EXEC_GRACE_S = 5.0


@dataclass(frozen=True)
class ExecResult:
    """What one command run inside a container did."""

    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def lines(self, width: int = 240) -> list[str]:
        """Every non-empty line of stdout then stderr, each cut to its last ``width`` chars."""
        text = f"{self.stdout}\n{self.stderr}"
        return [line.strip()[-width:] for line in text.splitlines() if line.strip()]

    def tail(self, limit: int = 400) -> str:
        """The last part of stderr (or stdout), for messages."""
        text = (self.stderr or self.stdout).strip()
        return text[-limit:]


def exec_in(
    container: Container,
    argv: list[str],
    *,
    timeout_s: float,
    env: dict[str, str] | None = None,
    user: str = "",
) -> ExecResult:
    """Run ``argv`` in ``container``; CommandTimeout after ``timeout_s``.

    The command is killed inside the container at the deadline (coreutils ``timeout``), and
    the host stops waiting shortly after it whatever the container does (a frozen one never
    answers): the exec then goes on in a daemon thread until the engine ends it.

    The values of ``env``'s secret variables (passwords) are masked in the result's output and
    in every error (harness.secrets): credentials go in ``env``, never in ``argv``.
    """
    wrapped = ["timeout", "--signal=KILL", str(math.ceil(timeout_s)), *argv]
    secrets = secret_values(env)
    what = f"`{redact(' '.join(argv), secrets)[:200]}` in {container.name}"
    answer: dict[str, Any] = {}

    def run() -> None:
        try:
            answer["result"] = container.exec_run(wrapped, environment=env, demux=True, user=user)
        except Exception as exc:  # handed to the caller's thread below
            answer["error"] = exc

    worker = threading.Thread(target=run, name="drill-exec", daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(timeout_s + EXEC_GRACE_S)
    duration = time.monotonic() - started
    if worker.is_alive():
        raise CommandTimeout(
            what, timeout_s=timeout_s, hint="the container did not answer (frozen?)"
        )
    error = answer.get("error")
    if isinstance(error, docker.errors.DockerException | requests.RequestException):
        raise InfrastructureError(
            f"could not exec {argv[0]} in {container.name}: {redact(str(error), secrets)}"
        ) from error
    if error is not None:
        raise error
    exit_code, output = answer["result"]
    stdout_b, stderr_b = output if output else (b"", b"")
    result = ExecResult(
        argv=tuple(argv),
        exit_code=int(exit_code if exit_code is not None else -1),
        stdout=redact((stdout_b or b"").decode(errors="replace"), secrets),
        stderr=redact((stderr_b or b"").decode(errors="replace"), secrets),
        duration_s=duration,
    )
    if result.exit_code in (124, 137) and duration >= timeout_s - 0.5:
        raise CommandTimeout(what, timeout_s=timeout_s, last_output=result.tail())
    return result
