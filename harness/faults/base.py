"""What every fault provides, and the record of what it did."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from harness.backups.agent import BackupAgent
from harness.backups.catalog import Catalog
from harness.clock import iso_utc
from harness.engines.base import Engine
from harness.lab.lab import Lab
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
    gate_check: Callable[[model.MigrationGate], str] | None = None


@dataclass(frozen=True)
class Effect:
    """Whether a fault took effect, and the evidence for saying so.

    ``blocked`` is set when a safety gate stopped the fault on purpose: the drill then shows
    the gate working, which is not the same as a fault that silently did nothing.
    """

    took_effect: bool
    evidence: str
    blocked: bool = False


@dataclass(frozen=True)
class FaultOutcome:
    """The journal's record of one fault."""

    type: str
    target: str
    at: float
    at_s: float
    took_effect: bool
    evidence: str
    blocked: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "blocked_by_gate": self.blocked,
            "type": self.type,
            "target": self.target,
            "at": iso_utc(self.at),
            "at_s": round(self.at_s, 4),
            "took_effect": self.took_effect,
            "evidence": self.evidence,
        }


class NodeFault(Protocol):
    """A fault injected into a server container."""

    type: str
    causes_outage: bool

    def inject(self, ctx: FaultContext) -> None:
        """Do the damage (every container access goes through the lab's ownership guard)."""

    def took_effect(self, ctx: FaultContext) -> Effect:
        """Check, independently of the injection's own exit status, that the damage is real."""

    def revert(self, ctx: FaultContext) -> None:
        """Undo any lingering mechanism of the fault; safe to call more than once."""
