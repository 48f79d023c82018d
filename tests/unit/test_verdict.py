"""The verdict: measurements judged against the scenario's objectives and expectation."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.measurement.measure import RpoResult, RtoResult
from harness.measurement.verdict import Outcome, Verdict, decide
from harness.scenario.model import Expect, Objectives

OBJECTIVES = Objectives(rto_s=30, rpo_s=10, max_lost_writes=100)


def rto(seconds: float) -> RtoResult:
    """An RTO of ``seconds``: detect in a tenth, verify in a tenth, the rest restoring."""
    detect = verify = seconds / 10
    return RtoResult(
        rto_s=seconds, detect_s=detect, restore_s=seconds - 2 * detect, verify_s=verify
    )


def rpo(*, seconds: float = 2.0, lost: int = 0, unexpected: int = 0) -> RpoResult:
    lost_seqs = tuple(range(1000, 1000 + lost))
    unexpected_seqs = tuple(range(5000, 5000 + unexpected))
    return RpoResult(
        issued_writes=1000 + lost,
        acked_writes=1000 + lost,
        unknown_writes=0,
        failed_writes=0,
        lost_writes=lost,
        lost_seqs=lost_seqs,
        holes=0,
        hole_seqs=(),
        unexpected=unexpected,
        unexpected_seqs=unexpected_seqs,
        rpo_s=seconds,
        last_surviving_seq=999,
    )


# Everything went well: recovered in 5 s, 2 s of data lost, data verified.
GOOD = Outcome(
    faults_took_effect=True,
    detected=True,
    recovered=True,
    rto=rto(5.0),
    rpo=rpo(seconds=2.0, lost=3),
    data_verified=True,
    restored_from="nightly",
    rejected_backups=frozenset(),
)


def test_a_good_outcome_passes_with_every_check_met() -> None:
    verdict, checks, reasons = decide(Expect(), OBJECTIVES, GOOD)
    assert verdict is Verdict.PASS
    assert reasons == []
    assert checks and all(c.met for c in checks)


@pytest.mark.parametrize(
    "outcome",
    [
        replace(GOOD, faults_took_effect=False),
        # Even an outcome that would fail is inconclusive when nothing was broken.
        replace(GOOD, faults_took_effect=False, recovered=False, rto=None, rpo=None),
        replace(GOOD, faults_took_effect=False, rpo=rpo(unexpected=4)),
    ],
)
def test_a_fault_that_did_not_take_effect_is_inconclusive(outcome: Outcome) -> None:
    verdict, _, reasons = decide(Expect(), OBJECTIVES, outcome)
    assert verdict is Verdict.INCONCLUSIVE
    assert any("did not take effect" in r for r in reasons)


def test_an_outage_never_detected_is_inconclusive() -> None:
    verdict, _, reasons = decide(Expect(), OBJECTIVES, replace(GOOD, detected=False))
    assert verdict is Verdict.INCONCLUSIVE
    assert reasons


@pytest.mark.parametrize(
    ("outcome", "missed"),
    [
        (replace(GOOD, rto=rto(30.5)), "RTO"),
        (replace(GOOD, rpo=rpo(seconds=10.01, lost=3)), "RPO"),
        (replace(GOOD, rpo=rpo(seconds=1.0, lost=101)), "lost writes"),
    ],
    ids=["rto", "rpo", "lost-writes"],
)
def test_missed_objective_fails_when_they_were_expected_met(outcome: Outcome, missed: str) -> None:
    verdict, checks, reasons = decide(Expect(objectives="met"), OBJECTIVES, outcome)
    assert verdict is Verdict.FAIL
    [objectives] = [c for c in checks if c.what == "objectives"]
    assert (objectives.expected, objectives.actual, objectives.met) == ("met", "missed", False)
    assert any(missed in r for r in reasons), reasons


@pytest.mark.parametrize(
    "outcome",
    [
        replace(GOOD, rto=rto(30.5)),
        replace(GOOD, rpo=rpo(seconds=11, lost=3)),
        replace(GOOD, rpo=rpo(lost=101)),
    ],
)
def test_missed_objective_passes_when_a_miss_was_expected(outcome: Outcome) -> None:
    verdict, _, reasons = decide(Expect(objectives="missed"), OBJECTIVES, outcome)
    assert (verdict, reasons) == (Verdict.PASS, [])


def test_objectives_met_fails_when_a_miss_was_expected() -> None:
    verdict, _, reasons = decide(Expect(objectives="missed"), OBJECTIVES, GOOD)
    assert verdict is Verdict.FAIL
    assert any("objectives" in r for r in reasons)


def test_objectives_are_maxima_reaching_them_exactly_is_met() -> None:
    outcome = replace(GOOD, rto=rto(30.0), rpo=rpo(seconds=10.0, lost=100))
    verdict, _, reasons = decide(Expect(), OBJECTIVES, outcome)
    assert (verdict, reasons) == (Verdict.PASS, [])


def test_no_lost_write_budget_means_any_loss_is_allowed() -> None:
    objectives = Objectives(rto_s=30, rpo_s=10)
    verdict, _, _ = decide(Expect(), objectives, replace(GOOD, rpo=rpo(lost=10**6)))
    assert verdict is Verdict.PASS


def test_not_recovered_fails_when_recovery_was_expected() -> None:
    outcome = replace(GOOD, recovered=False, rto=None, rpo=None, data_verified=None)
    verdict, checks, _ = decide(Expect(), OBJECTIVES, outcome)
    assert verdict is Verdict.FAIL
    assert {c.what for c in checks if not c.met} >= {"recovered", "objectives"}


def test_proven_unrecoverable_as_expected_is_its_own_verdict() -> None:
    outcome = replace(GOOD, recovered=False, rto=None, rpo=None, data_verified=None)
    expect = Expect(recovered=False, objectives="missed")
    verdict, _, reasons = decide(expect, OBJECTIVES, outcome)
    assert (verdict, reasons) == (Verdict.UNRECOVERABLE, [])


def test_unexpectedly_unrecoverable_fails_and_says_so() -> None:
    outcome = replace(GOOD, recovered=False, rto=None, rpo=None, data_verified=None)
    verdict, _, reasons = decide(Expect(), OBJECTIVES, outcome)
    assert verdict is Verdict.FAIL
    assert reasons[0] == "unrecoverable: every recovery step failed"


def test_unverified_data_fails() -> None:
    verdict, _, reasons = decide(Expect(), OBJECTIVES, replace(GOOD, data_verified=False))
    assert verdict is Verdict.FAIL
    assert any("data_verified" in r for r in reasons)


def test_unexpected_rows_fail_a_drill_that_met_its_objectives() -> None:
    verdict, checks, reasons = decide(Expect(), OBJECTIVES, replace(GOOD, rpo=rpo(unexpected=2)))
    assert verdict is Verdict.FAIL
    [check] = [c for c in checks if c.what == "unexpected_rows"]
    assert (check.actual, check.met) == (2, False)
    assert any("unexpected_rows" in r for r in reasons)


def test_restored_from_the_expected_backup_passes() -> None:
    verdict, _, _ = decide(Expect(restored_from="nightly"), OBJECTIVES, GOOD)
    assert verdict is Verdict.PASS


@pytest.mark.parametrize("restored_from", ["nightly-2", None])
def test_restored_from_another_backup_fails(restored_from: str | None) -> None:
    outcome = replace(GOOD, restored_from=restored_from)
    verdict, _, reasons = decide(Expect(restored_from="nightly"), OBJECTIVES, outcome)
    assert verdict is Verdict.FAIL
    assert any("restored_from" in r and "nightly" in r for r in reasons)


def test_expected_rejection_happened_passes() -> None:
    outcome = replace(GOOD, rejected_backups=frozenset({"nightly-2"}))
    verdict, _, _ = decide(Expect(rejected_backups=["nightly-2"]), OBJECTIVES, outcome)
    assert verdict is Verdict.PASS


def test_expected_rejection_missing_fails() -> None:
    outcome = replace(GOOD, rejected_backups=frozenset({"nightly-1"}))
    verdict, checks, reasons = decide(
        Expect(rejected_backups=["nightly-1", "nightly-2"]), OBJECTIVES, outcome
    )
    assert verdict is Verdict.FAIL
    failed = [c.what for c in checks if not c.met]
    assert len(failed) == 1
    assert "nightly-2" in failed[0]
    assert len(reasons) == 1
