"""What every fault provides, and the record of what it did."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from harness.clock import iso_utc
from harness.engines.base import Engine
from harness.lab.lab import Lab


@dataclass(frozen=True)
class Target:
    """A server a fault acts on: its name in the scenario and its container in this run."""

    name: str
    container_id: str


@dataclass(frozen=True)
class Effect:
    """Whether a fault took effect, and the evidence for saying so."""

    took_effect: bool
    evidence: str


@dataclass(frozen=True)
class FaultOutcome:
    """The journal's record of one fault."""

    type: str
    target: str
    at: float
    at_s: float
    took_effect: bool
    evidence: str

    def as_dict(self) -> dict[str, object]:
        return {
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

    def __init__(self, spec: object) -> None: ...

    def inject(self, lab: Lab, engine: Engine, target: Target) -> None:
        """Do the damage (every container access goes through the lab's ownership guard)."""

    def took_effect(self, lab: Lab, engine: Engine, target: Target) -> Effect:
        """Check, independently of the injection's own exit status, that the damage is real."""

    def revert(self, lab: Lab, engine: Engine, target: Target) -> None:
        """Undo any lingering mechanism of the fault; safe to call more than once."""
