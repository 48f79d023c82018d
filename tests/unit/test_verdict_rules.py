"""The verdict's rules one by one: PITR landing, monitoring alerts, the migration gate, the
wording of what was missed, and the journal form of a check.

Outcomes are built from tests/unit/test_verdict.py's GOOD outcome (everything went well) with
one thing changed, so each test shows the one rule that turns the verdict.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.measurement.measure import Landing
from harness.measurement.verdict import Check, Outcome, Verdict, decide, objectives_met
from harness.record import Expectation
from harness.scenario.model import Expect, Objectives
from tests.unit.test_verdict import GOOD, OBJECTIVES, rpo, rto

LANDED = Landing(
    target_wall=1_700_000_000.0,
    error_s=-0.01,
    overshoot_writes=0,
    undershoot_writes=0,
    within_tolerance=True,
)
OVERSHOT = replace(LANDED, error_s=0.5, overshoot_writes=3, within_tolerance=False)

LANDING_CHECK = "point-in-time recovery landed on its target"
ALERT_CHECK = "backup monitoring alerted"
GATE_CHECK = "migration gate blocked the decommission"
NOT_TESTED = "a fault did not take effect, so the drill tested nothing"


def check(checks: list[Check], what: str) -> Check:
    [found] = [c for c in checks if c.what == what]
    return found


# -- PITR landing --------------------------------------------------------------------------


def test_a_landing_on_target_passes_when_expected() -> None:
    verdict, checks, reasons = decide(Expect(), OBJECTIVES, replace(GOOD, landing=LANDED))
    assert (verdict, reasons) == (Verdict.PASS, [])
    c = check(checks, LANDING_CHECK)
    assert (c.expected, c.actual, c.met) == (True, True, True)


def test_a_pitr_that_overshoots_fails() -> None:
    verdict, checks, reasons = decide(Expect(), OBJECTIVES, replace(GOOD, landing=OVERSHOT))
    assert verdict is Verdict.FAIL
    c = check(checks, LANDING_CHECK)
    assert (c.expected, c.actual, c.met) == (True, False, False)
    assert reasons == [f"{LANDING_CHECK}: expected True, got False"]


def test_a_pitr_expected_to_miss_its_target_passes_when_it_misses() -> None:
    expect = Expect(landed_on_target=False)
    verdict, _, reasons = decide(expect, OBJECTIVES, replace(GOOD, landing=OVERSHOT))
    assert (verdict, reasons) == (Verdict.PASS, [])


def test_a_pitr_expected_to_miss_its_target_fails_when_it_lands() -> None:
    expect = Expect(landed_on_target=False)
    verdict, _, reasons = decide(expect, OBJECTIVES, replace(GOOD, landing=LANDED))
    assert verdict is Verdict.FAIL
    assert reasons == [f"{LANDING_CHECK}: expected False, got True"]


def test_no_landing_no_landing_check() -> None:
    # A drill without point-in-time recovery is not judged on a landing, whatever it expects.
    _, checks, _ = decide(Expect(landed_on_target=False), OBJECTIVES, GOOD)
    assert LANDING_CHECK not in {c.what for c in checks}


# -- monitoring alerts ---------------------------------------------------------------------


@pytest.mark.parametrize("expected", [True, False])
@pytest.mark.parametrize("alerted", [True, False])
def test_alerted_is_met_exactly_when_it_matches(expected: bool, alerted: bool) -> None:
    verdict, checks, reasons = decide(
        Expect(alerted=expected), OBJECTIVES, replace(GOOD, alerted=alerted)
    )
    c = check(checks, ALERT_CHECK)
    assert (c.expected, c.actual, c.met) == (expected, alerted, expected == alerted)
    if expected == alerted:
        assert (verdict, reasons) == (Verdict.PASS, [])
    else:
        assert verdict is Verdict.FAIL
        assert reasons == [f"{ALERT_CHECK}: expected {expected}, got {alerted}"]


@pytest.mark.parametrize("alerted", [True, False])
def test_alerts_are_not_judged_unless_expected(alerted: bool) -> None:
    verdict, checks, _ = decide(Expect(), OBJECTIVES, replace(GOOD, alerted=alerted))
    assert verdict is Verdict.PASS
    assert ALERT_CHECK not in {c.what for c in checks}


# -- the migration gate --------------------------------------------------------------------

# A gate stopped the decommission: the fault never happened (the service never went down).
BLOCKED = replace(GOOD, faults_took_effect=False, gate_blocked=True)


def test_a_gate_that_blocked_as_expected_passes_although_no_fault_took_effect() -> None:
    verdict, checks, reasons = decide(Expect(gate_blocked=True), OBJECTIVES, BLOCKED)
    assert (verdict, reasons) == (Verdict.PASS, [])
    c = check(checks, GATE_CHECK)
    assert (c.expected, c.actual, c.met) == (True, True, True)


def test_a_blocked_gate_is_judged_even_when_blocking_was_not_expected() -> None:
    verdict, checks, reasons = decide(Expect(gate_blocked=False), OBJECTIVES, BLOCKED)
    assert verdict is Verdict.FAIL
    c = check(checks, GATE_CHECK)
    assert (c.expected, c.actual, c.met) == (False, True, False)
    assert reasons == [f"{GATE_CHECK}: expected False, got True"]


def test_a_gate_that_did_not_block_fails_when_blocking_was_expected() -> None:
    # The decommission went ahead (the fault took effect) although the gate should have held.
    verdict, checks, reasons = decide(Expect(gate_blocked=True), OBJECTIVES, GOOD)
    assert verdict is Verdict.FAIL
    c = check(checks, GATE_CHECK)
    assert (c.expected, c.actual, c.met) == (True, False, False)
    assert reasons == [f"{GATE_CHECK}: expected True, got False"]


def test_a_gate_not_blocking_as_expected_passes() -> None:
    verdict, checks, _ = decide(Expect(gate_blocked=False), OBJECTIVES, GOOD)
    assert verdict is Verdict.PASS
    assert check(checks, GATE_CHECK).met


def test_a_fault_that_neither_took_effect_nor_was_blocked_tested_nothing() -> None:
    outcome = replace(GOOD, faults_took_effect=False, gate_blocked=False)
    verdict, checks, reasons = decide(Expect(gate_blocked=True), OBJECTIVES, outcome)
    assert (verdict, checks, reasons) == (Verdict.INCONCLUSIVE, [], [NOT_TESTED])


def test_the_gate_is_not_judged_unless_expected() -> None:
    _, checks, _ = decide(Expect(), OBJECTIVES, GOOD)
    assert GATE_CHECK not in {c.what for c in checks}


# -- inconclusive drills -------------------------------------------------------------------


def test_inconclusive_reasons_are_the_whole_story() -> None:
    # Nothing else is judged: no checks, one reason saying why nothing was tested.
    assert decide(Expect(), OBJECTIVES, replace(GOOD, faults_took_effect=False)) == (
        Verdict.INCONCLUSIVE,
        [],
        [NOT_TESTED],
    )
    assert decide(Expect(), OBJECTIVES, replace(GOOD, detected=False)) == (
        Verdict.INCONCLUSIVE,
        [],
        ["the outage was never detected by the probe"],
    )


def test_a_blocked_gate_still_needs_the_outage_detected() -> None:
    outcome = replace(BLOCKED, detected=False)
    verdict, _, reasons = decide(Expect(gate_blocked=True), OBJECTIVES, outcome)
    assert (verdict, reasons) == (
        Verdict.INCONCLUSIVE,
        ["the outage was never detected by the probe"],
    )


# -- what was missed, in words -------------------------------------------------------------


def test_each_missed_objective_names_itself_and_both_numbers() -> None:
    objectives = Objectives(rto_s=30, rpo_s=10, max_lost_writes=100)
    outcome = replace(GOOD, rto=rto(30.5), rpo=rpo(seconds=12.25, lost=101))
    met, missed = objectives_met(objectives, outcome)
    assert not met
    assert missed == ["RTO 30.50 s > 30 s", "RPO 12.25 s > 10 s", "lost writes 101 > 100"]


@given(
    rto_s=st.integers(1, 10_000),
    rpo_s=st.integers(0, 10_000),
    budget=st.integers(0, 10**6),
    over_rto=st.integers(1, 500),
    over_rpo=st.integers(1, 500),
    over_lost=st.integers(1, 1000),
)
def test_missed_objectives_quote_the_measure_and_the_objective(
    rto_s: int, rpo_s: int, budget: int, over_rto: int, over_rpo: int, over_lost: int
) -> None:
    # Measures over their objective by a hundredth-multiple, so two decimals show them exactly.
    measured_rto = rto_s + over_rto / 100
    measured_rpo = rpo_s + over_rpo / 100
    objectives = Objectives(rto_s=rto_s, rpo_s=rpo_s, max_lost_writes=budget)
    outcome = replace(
        GOOD, rto=rto(measured_rto), rpo=rpo(seconds=measured_rpo, lost=budget + over_lost)
    )
    met, missed = objectives_met(objectives, outcome)
    assert not met
    assert missed == [
        f"RTO {measured_rto:.2f} s > {rto_s} s",
        f"RPO {measured_rpo:.2f} s > {rpo_s} s",
        f"lost writes {budget + over_lost} > {budget}",
    ]


def test_objectives_are_met_with_nothing_missed() -> None:
    assert objectives_met(OBJECTIVES, GOOD) == (True, [])


@pytest.mark.parametrize(
    "outcome",
    [
        replace(GOOD, recovered=False),
        replace(GOOD, rto=None),
        replace(GOOD, rpo=None),
    ],
    ids=["not-recovered", "no-rto", "no-rpo"],
)
def test_objectives_without_a_measured_recovery_are_missed(outcome: Outcome) -> None:
    assert objectives_met(OBJECTIVES, outcome) == (False, ["not recovered"])


def test_when_objectives_were_expected_met_the_reasons_list_what_was_missed() -> None:
    outcome = replace(GOOD, rto=rto(31.0), rpo=rpo(seconds=10.5, lost=3))
    verdict, _, reasons = decide(Expect(), OBJECTIVES, outcome)
    assert verdict is Verdict.FAIL
    assert reasons == [
        "objectives: expected met, got missed",
        "missed: RTO 31.00 s > 30 s; RPO 10.50 s > 10 s",
    ]


def test_a_miss_that_was_expected_is_not_listed_beside_another_failure() -> None:
    # The objectives were missed as expected; only the unverified data fails the drill.
    outcome = replace(GOOD, rto=rto(31.0), data_verified=False)
    verdict, _, reasons = decide(Expect(objectives="missed"), OBJECTIVES, outcome)
    assert verdict is Verdict.FAIL
    assert reasons == ["data_verified: expected True, got False"]


def test_objectives_met_against_an_expected_miss_lists_no_miss() -> None:
    verdict, _, reasons = decide(Expect(objectives="missed"), OBJECTIVES, GOOD)
    assert verdict is Verdict.FAIL
    assert reasons == ["objectives: expected missed, got met"]


# -- recovered or not ----------------------------------------------------------------------

UNRECOVERED = replace(GOOD, recovered=False, rto=None, rpo=None, data_verified=None)


def test_unrecoverable_as_expected_with_objectives_expected_met_has_no_headline() -> None:
    # Recovery failing was expected; only the objectives' expectation was wrong. The drill
    # fails, and "every recovery step failed" is no news here, so it does not lead.
    verdict, _, reasons = decide(Expect(recovered=False), OBJECTIVES, UNRECOVERED)
    assert verdict is Verdict.FAIL
    assert reasons == [
        "objectives: expected met, got missed",
        "missed: not recovered",
    ]


def test_recovered_when_unrecoverable_was_expected_fails_without_the_headline() -> None:
    expect = Expect(recovered=False, objectives="missed")
    verdict, checks, reasons = decide(expect, OBJECTIVES, GOOD)
    assert verdict is Verdict.FAIL
    c = check(checks, "recovered")
    assert (c.expected, c.actual, c.met) == (False, True, False)
    assert reasons[0] == "recovered: expected False, got True"
    assert not any(r.startswith("unrecoverable") for r in reasons)


def test_unexpectedly_unrecoverable_leads_with_the_headline_then_each_check() -> None:
    verdict, checks, reasons = decide(Expect(), OBJECTIVES, UNRECOVERED)
    assert verdict is Verdict.FAIL
    assert [c.what for c in checks] == ["recovered", "objectives"]
    assert reasons == [
        "unrecoverable: every recovery step failed",
        "recovered: expected True, got False",
        "objectives: expected met, got missed",
        "missed: not recovered",
    ]


def test_a_recovery_without_an_rpo_counts_no_unexpected_rows() -> None:
    # Recovered, but the data loss could not be measured: nothing to call unexpected.
    outcome = replace(GOOD, rpo=None)
    verdict, checks, reasons = decide(Expect(objectives="missed"), OBJECTIVES, outcome)
    c = check(checks, "unexpected_rows")
    assert (c.expected, c.actual, c.met) == (0, 0, True)
    assert (verdict, reasons) == (Verdict.PASS, [])


def test_the_checks_of_a_recovered_drill_in_order() -> None:
    expect = Expect(
        restored_from="nightly", alerted=False, gate_blocked=False, rejected_backups=["weekly"]
    )
    outcome = replace(GOOD, landing=LANDED, rejected_backups=frozenset({"weekly"}))
    verdict, checks, reasons = decide(expect, OBJECTIVES, outcome)
    assert (verdict, reasons) == (Verdict.PASS, [])
    assert [(c.what, c.expected, c.actual, c.met) for c in checks] == [
        ("recovered", True, True, True),
        ("objectives", "met", "met", True),
        ("data_verified", True, True, True),
        ("unexpected_rows", 0, 0, True),
        ("restored_from", "nightly", "nightly", True),
        (LANDING_CHECK, True, True, True),
        (ALERT_CHECK, False, False, True),
        (GATE_CHECK, False, False, True),
        ("backup weekly rejected by verification", True, True, True),
    ]


def test_a_missing_rejection_is_reported_by_name() -> None:
    verdict, _, reasons = decide(Expect(rejected_backups=["weekly"]), OBJECTIVES, GOOD)
    assert verdict is Verdict.FAIL
    assert reasons == ["backup weekly rejected by verification: expected True, got False"]


# -- the record form of a check -----------------------------------------------------------


def test_a_check_as_a_record_entry_keeps_every_field_under_its_name() -> None:
    c = Check("restored_from", "nightly", "weekly", False)
    assert c.entry() == Expectation(
        what="restored_from", expected="nightly", actual="weekly", met=False
    )
