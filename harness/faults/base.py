"""What every fault provides, and the record of what it did."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from harness.backups.agent import BackupAgent
from harness.backups.catalog import Catalog
from harness.clock import iso_utc
from harness.engines.base import Engine
from harness.lab.lab import Lab
from harness.record import FaultEntry
from harness.recovery.gate import GateResult
from harness.scenario import model
from harness.server.node import Target


@dataclass(frozen=True)
class FaultContext:
    """What a server fault may use: the lab (guarded), the engine, the target, and for logical
    faults a connection to the target and the writer's acknowledged sequence numbers."""

    lab: Lab
    engine: Engine
    target: Target
    connect: Callable[[], Any] | None = None
    acked_seqs: Callable[[], list[int]] | None = None
    connect_primary: Callable[[], Any] | None = None
    agent: BackupAgent | None = None
    catalog: Catalog | None = None
    archive_store: str | None = None
    damaged_tables: Callable[[str], list[str]] | None = None
    node_names: tuple[str, ...] = ()
    reachable_mounts: tuple[str, ...] = ()
    gate_check: Callable[[model.MigrationGate], GateResult] | None = None


class FaultEffect(enum.Enum):
    """What a fault did to the system under test."""

    TOOK_EFFECT = "took effect"
    NO_EFFECT = "did not take effect"
    # A safety gate stopped the fault on purpose: the drill then shows the gate working,
    # which is not the same as a fault that silently did nothing.
    BLOCKED = "blocked by a gate"


@dataclass(frozen=True)
class Effect:
    """Whether a fault took effect, and the evidence for saying so."""

    kind: FaultEffect
    evidence: str

    @classmethod
    def of(cls, *, took_effect: bool, evidence: str) -> Effect:
        """TOOK_EFFECT or NO_EFFECT, as a check of the damage found."""
        return cls(FaultEffect.TOOK_EFFECT if took_effect else FaultEffect.NO_EFFECT, evidence)

    @property
    def took_effect(self) -> bool:
        return self.kind is FaultEffect.TOOK_EFFECT

    @property
    def blocked(self) -> bool:
        return self.kind is FaultEffect.BLOCKED


@dataclass(frozen=True)
class FaultOutcome:
    """The journal's record of one fault."""

    type: str
    target: str
    at: float
    at_s: float
    effect: FaultEffect
    evidence: str

    @property
    def took_effect(self) -> bool:
        return self.effect is FaultEffect.TOOK_EFFECT

    @property
    def blocked(self) -> bool:
        return self.effect is FaultEffect.BLOCKED

    def entry(self) -> FaultEntry:
        """This fault as the drill record holds it."""
        return FaultEntry(
            blocked_by_gate=self.blocked,
            type=self.type,
            target=self.target,
            at=iso_utc(self.at),
            at_s=round(self.at_s, 4),
            took_effect=self.took_effect,
            evidence=self.evidence,
        )


class NodeFault(Protocol):
    """A fault injected into a server container."""

    type: ClassVar[str]
    # Whether the fault takes its server down (said once, by the fault class).
    causes_outage: bool

    def inject(self, ctx: FaultContext) -> None:
        """Do the damage (every container access goes through the lab's ownership guard)."""

    def took_effect(self, ctx: FaultContext) -> Effect:
        """Check, independently of the injection's own exit status, that the damage is real."""

    def revert(self, ctx: FaultContext) -> None:
        """Undo any lingering mechanism of the fault; safe to call more than once."""
