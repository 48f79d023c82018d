"""rm_rf_datadir: the data directory wiped under a running server (GitLab, 2017)."""

from __future__ import annotations

import shlex
from typing import Any

from harness.engines.base import Engine
from harness.errors import InfrastructureError
from harness.faults.base import Effect, FaultContext
from harness.lab.lab import Lab
from harness.scenario import model
from harness.server.node import Target

# Deadlines: looking into the data directory, wiping it.
INSPECT_TIMEOUT_S = 30.0
WIPE_TIMEOUT_S = 60.0


class RmRfDatadir:
    """`rm -rf DATADIR/*` inside the server's container, while the server runs."""

    causes_outage = True
    type = "rm_rf_datadir"

    def __init__(self, spec: model.RmRfDatadir) -> None:
        self.spec = spec
        self._before = -1

    def _path(self, engine: Engine) -> str:
        return self.spec.path or engine.datadir

    def _count(self, lab: Lab, target: Target, path: str) -> int:
        result = lab.exec(
            target.container_id,
            ["sh", "-c", f"ls -A {shlex.quote(path)} 2>/dev/null | wc -l"],
            timeout_s=INSPECT_TIMEOUT_S,
            action="inspect the data directory of",
        )
        return int(result.stdout.strip() or 0) if result.ok else -1

    def inject(self, ctx: FaultContext) -> None:
        lab, engine, target = ctx.lab, ctx.engine, ctx.target
        path = self._path(engine)
        self._before = self._count(lab, target, path)
        quoted = shlex.quote(path)
        lab.exec(
            target.container_id,
            ["sh", "-c", f"cd {quoted} && rm -rf -- ./* ./.[!.]* 2>/dev/null; true"],
            timeout_s=WIPE_TIMEOUT_S,
            action="wipe the data directory of",
        )

    def took_effect(self, ctx: FaultContext) -> Effect:
        lab, engine, target = ctx.lab, ctx.engine, ctx.target
        path = self._path(engine)
        marker = f"{engine.datadir.rstrip('/')}/{engine.datadir_marker}"
        try:
            result = lab.exec(
                target.container_id,
                ["sh", "-c", f"test -e {shlex.quote(marker)} && echo present || echo gone"],
                timeout_s=INSPECT_TIMEOUT_S,
                action="inspect the data directory of",
            )
            after = self._count(lab, target, path)
        except InfrastructureError:
            state = lab.state(target.container_id)
            if state.get("Running"):
                raise
            return self._exited(lab, engine, target, state)
        gone = result.stdout.strip() == "gone"
        evidence = (
            f"{path}: {self._before} entries before, {after} after; "
            f"{engine.datadir_marker} {'gone' if gone else 'still present'}"
        )
        if self._before <= 0:
            evidence = f"{path} did not exist or was empty before the wipe; " + evidence
        return Effect.of(took_effect=gone and self._before > 0, evidence=evidence)

    def _exited(self, lab: Lab, engine: Engine, target: Target, state: dict[str, Any]) -> Effect:
        """The server died of the wipe before it was looked at: no exec is possible in a
        stopped container, but its files can still be read through the engine."""
        marker = f"{engine.datadir.rstrip('/')}/{engine.datadir_marker}"
        gone = not lab.path_exists(target.container_id, marker)
        evidence = (
            f"{self._path(engine)}: {self._before} entries before; the server exited "
            f"(code {state.get('ExitCode')}); {engine.datadir_marker} "
            f"{'gone' if gone else 'still present'}"
        )
        return Effect.of(took_effect=gone and self._before > 0, evidence=evidence)

    def revert(self, ctx: FaultContext) -> None:
        """Nothing lingers: the lost files are the damage, recovery deals with it."""
