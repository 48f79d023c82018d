"""Turn measurements into a verdict against the scenario's expectation (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from harness.measurement.measure import Landing, RpoResult, RtoResult
from harness.record import Expectation
from harness.scenario.model import Expect, Objectives


class Verdict(StrEnum):
    """How a drill ended; the CLI maps these to exit codes."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"
    # Every expectation met, and the drill proved the data cannot come back (as expected).
    UNRECOVERABLE = "unrecoverable"


@dataclass(frozen=True)
class Check:
    """One expectation and whether the drill met it."""

    what: str
    expected: object
    actual: object
    met: bool

    def entry(self) -> Expectation:
        """This check as the drill record holds it."""
        return Expectation(what=self.what, expected=self.expected, actual=self.actual, met=self.met)


@dataclass(frozen=True)
class Outcome:
    """Everything the verdict is decided from."""

    faults_took_effect: bool
    detected: bool
    recovered: bool
    rto: RtoResult | None
    rpo: RpoResult | None
    data_verified: bool | None
    restored_from: str | None
    rejected_backups: frozenset[str]
    landing: Landing | None = None
    alerted: bool = False
    gate_blocked: bool = False
    # The backup tool that restored (and called its restore successful), if not the harness.
    restored_by_tool: str | None = None


def objectives_met(objectives: Objectives, outcome: Outcome) -> tuple[bool, list[str]]:
    """Whether RTO, RPO and the lost-write budget were met, and what was missed."""
    missed: list[str] = []
    if not outcome.recovered or outcome.rto is None or outcome.rpo is None:
        return False, ["not recovered"]
    if outcome.rto.rto_s > objectives.rto_s:
        missed.append(f"RTO {outcome.rto.rto_s:.2f} s > {objectives.rto_s:g} s")
    if outcome.rpo.rpo_s > objectives.rpo_s:
        missed.append(f"RPO {outcome.rpo.rpo_s:.2f} s > {objectives.rpo_s:g} s")
    if (
        objectives.max_lost_writes is not None
        and outcome.rpo.lost_writes > objectives.max_lost_writes
    ):
        missed.append(f"lost writes {outcome.rpo.lost_writes} > {objectives.max_lost_writes}")
    return not missed, missed


def decide(
    expect: Expect, objectives: Objectives, outcome: Outcome
) -> tuple[Verdict, list[Check], list[str]]:
    """The verdict, every check made, and the reasons for anything but a pass."""
    if not outcome.faults_took_effect and not outcome.gate_blocked:
        return (
            Verdict.INCONCLUSIVE,
            [],
            ["a fault did not take effect, so the drill tested nothing"],
        )
    if not outcome.detected:
        return Verdict.INCONCLUSIVE, [], ["the outage was never detected by the probe"]

    met, missed = objectives_met(objectives, outcome)
    checks = [
        Check(
            "recovered", expect.recovered, outcome.recovered, outcome.recovered == expect.recovered
        ),
        Check(
            "objectives",
            expect.objectives,
            "met" if met else "missed",
            ("met" if met else "missed") == expect.objectives,
        ),
    ]
    if outcome.recovered:
        checks.append(
            Check(
                "data_verified",
                expect.data_verified,
                outcome.data_verified,
                outcome.data_verified == expect.data_verified,
            )
        )
        unexpected = outcome.rpo.unexpected if outcome.rpo else 0
        checks.append(Check("unexpected_rows", 0, unexpected, unexpected == 0))
    if expect.restored_from is not None:
        checks.append(
            Check(
                "restored_from",
                expect.restored_from,
                outcome.restored_from,
                outcome.restored_from == expect.restored_from,
            )
        )
    if outcome.landing is not None:
        landed = outcome.landing.within_tolerance
        checks.append(
            Check(
                "point-in-time recovery landed on its target",
                expect.landed_on_target,
                landed,
                landed == expect.landed_on_target,
            )
        )
    if outcome.restored_by_tool and outcome.landing is not None:
        # The tool said the restore succeeded; the acknowledgment log says what it kept.
        kept = outcome.landing.undershoot_writes == 0
        checks.append(
            Check(
                f"{outcome.restored_by_tool} restore that reported success kept every "
                "acknowledged write before its target (missing writes)",
                0,
                outcome.landing.undershoot_writes,
                kept,
            )
        )
    if expect.alerted is not None:
        checks.append(
            Check(
                "backup monitoring alerted",
                expect.alerted,
                outcome.alerted,
                outcome.alerted == expect.alerted,
            )
        )
    if expect.gate_blocked is not None:
        checks.append(
            Check(
                "migration gate blocked the decommission",
                expect.gate_blocked,
                outcome.gate_blocked,
                outcome.gate_blocked == expect.gate_blocked,
            )
        )
    for name in expect.rejected_backups:
        rejected = name in outcome.rejected_backups
        checks.append(Check(f"backup {name} rejected by verification", True, rejected, rejected))

    reasons = [f"{c.what}: expected {c.expected}, got {c.actual}" for c in checks if not c.met]
    if reasons and missed and expect.objectives == "met":
        reasons.append("missed: " + "; ".join(missed))
    if reasons:
        if not outcome.recovered and expect.recovered:
            reasons.insert(0, "unrecoverable: every recovery step failed")
        return Verdict.FAIL, checks, reasons
    return (Verdict.PASS if outcome.recovered else Verdict.UNRECOVERABLE), checks, reasons
