"""pause: the server frozen for a known time, then thawed: an outage of known length.

The calibration fault: the true outage is ``duration_s`` (between the freeze and the thaw, both
timed on the monotonic clock), so a measured RTO can be checked against it.
"""

from __future__ import annotations

import threading
import time

from harness.faults.base import Effect, FaultContext, FaultEffect
from harness.scenario import model


class PauseServer:
    """`docker pause` (SIGSTOP through the cgroup freezer), `docker unpause` after duration_s."""

    causes_outage = True
    type = "pause"

    def __init__(self, spec: model.Pause) -> None:
        self.spec = spec
        self.paused_mono: float | None = None
        self.thawed_mono: float | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def inject(self, ctx: FaultContext) -> None:
        ctx.lab.pause(ctx.target.container_id)
        self.paused_mono = time.monotonic()
        self._timer = threading.Timer(self.spec.duration_s, self._thaw, args=(ctx,))
        self._timer.daemon = True
        self._timer.start()

    def _thaw(self, ctx: FaultContext) -> None:
        with self._lock:
            if self.thawed_mono is None:
                ctx.lab.unpause(ctx.target.container_id)
                self.thawed_mono = time.monotonic()

    def took_effect(self, ctx: FaultContext) -> Effect:
        state = ctx.lab.state(ctx.target.container_id)
        if self.thawed_mono is not None and self.paused_mono is not None:
            return Effect(
                FaultEffect.TOOK_EFFECT, f"paused for {self.thawed_mono - self.paused_mono:.3f} s"
            )
        paused = bool(state.get("Paused"))
        return Effect.of(
            took_effect=paused,
            evidence=f"container state Paused={paused} (thaw due after {self.spec.duration_s:g} s)",
        )

    def revert(self, ctx: FaultContext) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._thaw(ctx)

    @property
    def actual_outage_s(self) -> float | None:
        """How long the server was really frozen (None until thawed)."""
        if self.paused_mono is None or self.thawed_mono is None:
            return None
        return self.thawed_mono - self.paused_mono
