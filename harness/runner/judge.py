"""Verdict inputs: what the run state says about the drill, and the verdict decided from it."""

from __future__ import annotations

from harness.measurement.verdict import Check, Outcome, Verdict, decide
from harness.recovery.context import StepOutcome
from harness.runner.state import RunState
from harness.runner.team import team_reasons
from harness.scenario.model import Scenario


def outcome(state: RunState) -> Outcome:
    """Everything the verdict is decided from, as the run state has it now."""
    ledger, incident, measured = state.ledger, state.incident, state.measured
    recovered = incident.recovered if incident else None
    reference = state.seeded.reference if state.seeded else {}
    rejected = frozenset(
        r.backup
        for r in (ledger.recovery.records if ledger.recovery else [])
        if r.outcome is StepOutcome.REJECTED and r.backup
    )
    return Outcome(
        faults_took_effect=all(f.took_effect or f.blocked for f in ledger.faults),
        detected=incident is not None and incident.detected_mono is not None,
        recovered=recovered is not None,
        rto=measured.rto if measured else None,
        rpo=measured.rpo if measured else None,
        data_verified=(
            measured.recovered_fps == reference
            and (state.team is None or state.team.verified is True)
            and _migration_verified(state)
        )
        if measured
        else None,
        restored_from=recovered.restored_from.name
        if recovered and recovered.restored_from
        else None,
        rejected_backups=rejected,
        landing=measured.landing if measured else None,
        alerted=bool(ledger.alerts),
        gate_blocked=ledger.gate_blocked,
        restored_by_tool="pgbackrest"
        if recovered and recovered.restored_from and recovered.restored_from.method == "pgbackrest"
        else None,
    )


def _migration_verified(state: RunState) -> bool:
    """A migration whose clients moved verifies only when its fidelity check found nothing
    the cutover did not repair."""
    f = state.migration_fidelity
    return f is None or not f.cut_over or f.verified is not False


def judge(scenario: Scenario, state: RunState) -> tuple[Verdict, list[Check], list[str]]:
    """The verdict, the checks made and the reasons."""
    verdict, checks, reasons = decide(scenario.expect, scenario.objectives, outcome(state))
    if verdict is not Verdict.PASS:
        reasons = [*reasons, *team_reasons(state.team), *_migration_reasons(state)]
    return verdict, checks, reasons


def _migration_reasons(state: RunState, limit: int = 8) -> list[str]:
    f = state.migration_fidelity
    if f is None or f.comparison is None or not f.cut_over:
        return []
    left = [d for d in f.comparison.differences if d.name not in f.repaired]
    return [f"migration fidelity: {d.reason}" for d in left[:limit]]
