"""Typed outcomes: enums and result dataclasses inside, the journal's strings and booleans out."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

import pytest

from harness.faults.base import Effect, FaultEffect, FaultOutcome
from harness.recovery import pipeline
from harness.recovery.context import NotRecovered, Recovered, StepOutcome, StepRecord
from harness.recovery.gate import GateResult
from harness.scenario.model import RestartStep, WaitStep


@pytest.mark.parametrize(
    ("effect", "took_effect", "blocked"),
    [
        (FaultEffect.TOOK_EFFECT, True, False),
        (FaultEffect.NO_EFFECT, False, False),
        (FaultEffect.BLOCKED, False, True),
    ],
)
def test_fault_journal_entry_keeps_its_booleans(
    effect: FaultEffect, took_effect: bool, blocked: bool
) -> None:
    entry = FaultOutcome("kill", "primary", 0.0, 1.23456, effect, "evidence").entry()
    assert entry.took_effect is took_effect
    assert entry.blocked_by_gate is blocked
    assert entry.at_s == 1.2346
    assert {f.name for f in dataclasses.fields(entry)} == {
        "blocked_by_gate",
        "type",
        "target",
        "at",
        "at_s",
        "took_effect",
        "evidence",
    }


def test_effect_of_a_check() -> None:
    assert Effect.of(took_effect=True, evidence="x").kind is FaultEffect.TOOK_EFFECT
    assert Effect.of(took_effect=False, evidence="x").kind is FaultEffect.NO_EFFECT


@pytest.mark.parametrize("outcome", list(StepOutcome))
def test_step_record_journals_the_outcome_string(outcome: StepOutcome) -> None:
    record = StepRecord("restore_backup", outcome, 0.0, 1.0, "detail", "nightly")
    assert record.entry().outcome == outcome.value
    assert outcome.value in {"ok", "failed", "rejected"}


def test_gate_result() -> None:
    assert GateResult().passed
    failed = GateResult(("copy differs", "no backup younger than 60 s"))
    assert not failed.passed
    assert failed.reason == "copy differs; no backup younger than 60 s"


def test_run_recovery_returns_the_first_recovery_or_every_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recovered = Recovered(cast(Any, None), 1.0, 2.0, step="wait")
    answers = {"restart": NotRecovered("timed out"), "wait": recovered}
    monkeypatch.setattr(pipeline, "STEPS", {k: (lambda c, s, a=a: a) for k, a in answers.items()})
    steps = [RestartStep(step="restart"), WaitStep(step="wait")]
    assert pipeline.run_recovery(cast(Any, None), steps) is recovered
    failed = pipeline.run_recovery(cast(Any, None), steps[:1])
    assert failed == NotRecovered("restart: timed out")
    assert pipeline.run_recovery(cast(Any, None), []) == NotRecovered("no recovery steps")
