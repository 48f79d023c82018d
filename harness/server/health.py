"""The health probe: one verified read and write against a server, optionally with a deadline.

Detection needs a deadline (a frozen server accepts the TCP connection and then says nothing);
recovery verification does not (a probe blocked on a frozen server completes the moment it
thaws, which is exactly the moment to record).
"""

from __future__ import annotations

import threading
import time

from harness.engines.base import Engine
from harness.errors import HarnessError
from harness.lab.lab import Lab
from harness.server.node import Node


def probe(lab: Lab, engine: Engine, node: Node, *, connect_timeout_s: float = 2.0) -> None:
    """A verified read and write on ``node``; raises the driver's error if it fails."""
    conn = engine.connect(node.endpoint(lab, engine), timeout_s=connect_timeout_s)
    try:
        engine.probe(conn)
    finally:
        conn.close()


def healthy_within(lab: Lab, engine: Engine, node: Node, *, timeout_s: float) -> bool:
    """True if a probe succeeds within ``timeout_s``; an error or a hang counts as unhealthy.

    A probe that hangs is left to finish on its own (daemon thread): it holds one connection
    attempt to a server of this run and ends when that server answers or disappears.
    """
    outcome: dict[str, bool] = {}
    errors: tuple[type[BaseException], ...] = (*engine.driver_errors(), HarnessError)

    def attempt() -> None:
        try:
            probe(lab, engine, node, connect_timeout_s=max(timeout_s, 1.0))
            outcome["ok"] = True
        except errors:
            outcome["ok"] = False

    worker = threading.Thread(target=attempt, name="drill-probe", daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(timeout_s)
    return outcome.get("ok", False) and time.monotonic() - started <= timeout_s + 0.05
