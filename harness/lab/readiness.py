"""Readiness by a command run in the container, that gives up at once on a dead container.

testcontainers' ``ExecWaitStrategy`` retries on every exception until its startup timeout, so
a server whose container was removed (a ``decommission`` racing a start, Ctrl-C's clean-up)
or that exited (a bad data directory) made a drill wait the whole timeout (120 s) for nothing.
"""

from __future__ import annotations

import time
from typing import Any

import docker.errors
from testcontainers.core.wait_strategies import ExecWaitStrategy

from harness.errors import ContainerGone, ServerExited

# Container states from which a server never becomes ready (there is no restart policy).
FINAL_STATES = ("exited", "dead", "removing")


class ExecUntilReady(ExecWaitStrategy):
    """Ready when ``command`` exits with the expected code; ContainerGone when the container
    was removed and ServerExited when it stopped, without waiting out the timeout."""

    def wait_until_ready(self, container: Any) -> None:
        deadline = time.monotonic() + self._startup_timeout
        last = "no attempt finished"
        while True:
            try:
                result = container.exec(self._command)
            except docker.errors.NotFound as exc:
                raise ContainerGone(f"the container was removed while starting: {exc}") from exc
            except docker.errors.APIError as exc:
                _raise_if_final(container, exc)
                last = str(exc)
            else:
                if result.exit_code == self._expected_exit_code:
                    return
                output = result.output
                text = output.decode(errors="replace") if isinstance(output, bytes) else output
                last = f"exit {result.exit_code}: {str(text).strip()[-300:]}"
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{' '.join(self._command)} did not succeed within "
                    f"{self._startup_timeout:g} s; last attempt: {last}"
                )
            time.sleep(self._poll_interval)


def _raise_if_final(container: Any, exc: docker.errors.APIError) -> None:
    """After a failed exec: ContainerGone / ServerExited if the container cannot start any
    more; nothing if it is merely not ready (the exec is retried)."""
    wrapped = container.get_wrapped_container()
    try:
        wrapped.reload()
    except docker.errors.NotFound as gone:
        raise ContainerGone(f"the container was removed while starting: {exc}") from gone
    status = getattr(wrapped, "status", "")
    if status in FINAL_STATES:
        code = (getattr(wrapped, "attrs", None) or {}).get("State", {}).get("ExitCode")
        raise ServerExited(
            f"the container {status} while starting (exit code {code}): {exc}"
        ) from exc
