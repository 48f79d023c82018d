"""RPO, RTO and PITR landing at their boundaries, with values whose answer is known exactly.

Times are small binary fractions (0.25 s, 0.5 s, whole seconds), so every sum and difference
below is exact in floating point and a boundary (a write issued at the fault, a target right
at a write, an error equal to the tolerance) is hit exactly, not approximately. The expected
figures come from the definitions in ``harness.measurement.measure``'s docstring, worked by hand
in each test's comment.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.measurement.measure import (
    Landing,
    WriteRecord,
    WriteStatus,
    measure_landing,
    measure_rpo,
    measure_rto,
)

OK, FAILED, UNKNOWN = WriteStatus.OK, WriteStatus.FAILED, WriteStatus.UNKNOWN
WALL = 1_000_000.0  # wall clock at monotonic 0 (exact in binary, as is every offset below)


def write(
    seq: int, *, issued: float, latency: float = 0.25, status: WriteStatus = OK
) -> WriteRecord:
    """Write ``seq`` issued at ``issued`` s (monotonic; wall = WALL + issued), done ``latency``
    later."""
    return WriteRecord(
        seq=seq,
        status=status,
        issued_mono=issued,
        done_mono=issued + latency,
        issued_wall=WALL + issued,
        target="primary",
    )


def every_second(n: int, *, latency: float = 0.25) -> list[WriteRecord]:
    """Writes 1..n, write k issued at k s."""
    return [write(k, issued=float(k), latency=latency) for k in range(1, n + 1)]


# -- RPO -----------------------------------------------------------------------------------


def test_a_write_issued_exactly_at_the_fault_is_not_before_it() -> None:
    # 1 and 2 issued before the fault at 3 s, 3 issued at the fault itself. 2 was lost, 3
    # survived. "Before the fault" is strict: the newest pre-fault survivor is 1, so losing 2
    # is a lost tail (no hole) and the window runs from 1's acknowledgment (1.25 s) to 3 s.
    records = every_second(3)
    result = measure_rpo(records, {1, 3}, fault_mono=3.0)
    assert result.last_surviving_seq == 1
    assert result.lost_seqs == (2,)
    assert (result.holes, result.hole_seqs) == (0, ())
    assert result.rpo_s == 3.0 - 1.25


def test_a_write_issued_just_before_the_fault_is_before_it() -> None:
    # The same, the fault a quarter second later: 3 is now pre-fault, so 2 is a hole and the
    # window is 0 (3 was acknowledged after the fault).
    result = measure_rpo(every_second(3), {1, 3}, fault_mono=3.25 - 0.125)
    assert result.last_surviving_seq == 3
    assert (result.holes, result.hole_seqs) == (1, (2,))
    assert result.rpo_s == 0.0


def test_nothing_survived_from_before_the_fault_reaches_back_to_the_first_write() -> None:
    # Writes at 2, 3, 4, 5 s; the fault at 5.5 s; the recovered database is empty. Every
    # acknowledged write is gone, so the window reaches back to the first write issued (2 s).
    records = [write(k, issued=float(k + 1)) for k in range(1, 5)]
    result = measure_rpo(records, set(), fault_mono=5.5)
    assert result.last_surviving_seq is None
    assert result.lost_seqs == (1, 2, 3, 4)
    assert result.rpo_s == 5.5 - 2.0


def test_the_first_write_counts_whatever_its_status_or_order_in_the_log() -> None:
    # The earliest write (at 1 s) failed and the log lists it last; the window still starts
    # with it, since the data written from then on is what the recovery had to bring back.
    records = [write(2, issued=2.0), write(3, issued=3.0), write(1, issued=1.0, status=FAILED)]
    result = measure_rpo(records, set(), fault_mono=4.0)
    assert result.rpo_s == 4.0 - 1.0


def test_only_writes_after_the_fault_were_lost_the_window_is_zero_not_negative() -> None:
    # The fault at 0.5 s, before any write; write 2 (issued at 2 s) was lost.
    records = every_second(3)
    result = measure_rpo(records, {1, 3}, fault_mono=0.5)
    assert result.last_surviving_seq is None
    assert result.lost_seqs == (2,)
    assert result.rpo_s == 0.0


def test_a_survivor_acknowledged_after_the_fault_leaves_a_zero_window() -> None:
    # 3 was issued at 3 s and acknowledged at 3.5 s, the fault at 3.25 s fell in between; 2 lost.
    records = [*every_second(2), write(3, issued=3.0, latency=0.5)]
    result = measure_rpo(records, {1, 3}, fault_mono=3.25)
    assert result.last_surviving_seq == 3
    assert result.rpo_s == 0.0


def test_the_window_starts_at_the_newest_pre_fault_survivors_acknowledgment() -> None:
    # 1..4 survived, 5 and 6 lost, the fault at 7.5 s: from 4's ack (4.25 s) to 7.5 s.
    result = measure_rpo(every_second(6), {1, 2, 3, 4}, fault_mono=7.5)
    assert result.last_surviving_seq == 4
    assert result.rpo_s == 7.5 - 4.25


def test_every_field_of_a_mixed_log() -> None:
    # 1 ok, 2 failed, 3 unknown, 4 ok, 5 ok, 6 ok; present after recovery: 1, 2 (failed, so
    # unexpected), 5, and 40 (never issued). Lost: 4 (a hole below 5) and 6 (a tail).
    statuses = [OK, FAILED, UNKNOWN, OK, OK, OK]
    records = [write(k, issued=float(k), status=s) for k, s in enumerate(statuses, start=1)]
    result = measure_rpo(records, {1, 2, 5, 40}, fault_mono=6.5)
    assert (result.issued_writes, result.acked_writes) == (6, 4)
    assert (result.failed_writes, result.unknown_writes) == (1, 1)
    assert (result.lost_writes, result.lost_seqs) == (2, (4, 6))
    assert (result.holes, result.hole_seqs) == (1, (4,))
    assert (result.unexpected, result.unexpected_seqs) == (2, (2, 40))
    assert result.last_surviving_seq == 5
    assert result.rpo_s == 6.5 - 5.25


@given(
    n=st.integers(1, 30),
    first=st.integers(0, 1000),
    fault_after=st.integers(1, 100),
)
def test_an_empty_recovery_after_the_last_write_loses_all_and_reaches_the_first(
    n: int, first: int, fault_after: int
) -> None:
    # Writes one per second from ``first``; the fault ``fault_after`` quarter seconds after
    # the last acknowledgment; nothing survived.
    records = [write(k, issued=float(first + k - 1)) for k in range(1, n + 1)]
    fault = records[-1].done_mono + fault_after / 4
    result = measure_rpo(list(reversed(records)), set(), fault_mono=fault)
    assert result.lost_seqs == tuple(range(1, n + 1))
    assert result.rpo_s == fault - first


# -- RTO -----------------------------------------------------------------------------------


def test_moments_may_coincide() -> None:
    # Detected at the fault, restored when detected, verified when restored: all allowed.
    rto = measure_rto(fault_mono=5.0, detected_mono=5.0, restored_mono=5.0, verified_mono=5.0)
    assert (rto.rto_s, rto.detect_s, rto.restore_s, rto.verify_s) == (0.0, 0.0, 0.0, 0.0)
    rto = measure_rto(fault_mono=1.0, detected_mono=1.0, restored_mono=3.0, verified_mono=3.0)
    assert (rto.rto_s, rto.detect_s, rto.restore_s, rto.verify_s) == (2.0, 0.0, 2.0, 0.0)
    rto = measure_rto(fault_mono=1.0, detected_mono=2.0, restored_mono=2.0, verified_mono=4.0)
    assert (rto.rto_s, rto.detect_s, rto.restore_s, rto.verify_s) == (3.0, 1.0, 0.0, 2.0)


@pytest.mark.parametrize(
    "moments",
    [(2.0, 1.0, 3.0, 4.0), (1.0, 3.0, 2.0, 4.0), (1.0, 2.0, 4.0, 3.0)],
    ids=["detected-before-fault", "restored-before-detected", "verified-before-restored"],
)
def test_moments_out_of_order_are_named_with_their_values(
    moments: tuple[float, float, float, float],
) -> None:
    fault, detected, restored, verified = moments
    with pytest.raises(ValueError) as raised:
        measure_rto(
            fault_mono=fault, detected_mono=detected, restored_mono=restored, verified_mono=verified
        )
    message = str(raised.value)
    assert message.startswith("recovery moments out of order: ")
    for name, value in zip(
        ("fault_mono", "detected_mono", "restored_mono", "verified_mono"), moments, strict=True
    ):
        assert f"{name}={value}" in message


# -- PITR landing --------------------------------------------------------------------------


def land(
    records: list[WriteRecord], surviving: set[int], *, target: float, tolerance: float
) -> Landing:
    """The landing for a target ``target`` s after WALL."""
    return measure_landing(records, surviving, target_wall=WALL + target, tolerance_s=tolerance)


def test_a_target_right_at_a_write_includes_that_write() -> None:
    # Target = the moment write 3 was issued (3 s). It is not after the target, so keeping it is
    # no overshoot; the newest surviving write at or before the target finished 0.25 s after it.
    landing = land(every_second(6), {1, 2, 3}, target=3.0, tolerance=0.5)
    assert (landing.overshoot_writes, landing.undershoot_writes) == (0, 0)
    assert landing.error_s == 0.25
    assert landing.within_tolerance
    assert landing.target_wall == WALL + 3.0


def test_a_target_right_at_a_write_tolerates_losing_that_write_too() -> None:
    # The same target with write 3 missing: 3 finished after the target, so it is no undershoot,
    # and the newest survivor (2) finished 0.75 s before the target.
    landing = land(every_second(6), {1, 2}, target=3.0, tolerance=1.0)
    assert (landing.overshoot_writes, landing.undershoot_writes) == (0, 0)
    assert landing.error_s == -0.75
    assert landing.within_tolerance


def test_a_write_finished_exactly_at_the_target_may_be_missing() -> None:
    # Write 3 acknowledged at 3.25 s = the target. Only writes finished *before* the target
    # must be there, so losing it is no undershoot.
    landing = land(every_second(6), {1, 2}, target=3.25, tolerance=2.0)
    assert landing.undershoot_writes == 0
    assert landing.error_s == 2.25 - 3.25
    assert landing.within_tolerance


def test_an_overshoot_of_one_write_just_after_the_target() -> None:
    # Target 2.75 s; write 3 (issued 3 s) survived: overshoot by one write, 0.25 s, which is
    # within any tolerance but never a pass.
    landing = land(every_second(6), {1, 2, 3}, target=2.75, tolerance=5.0)
    assert (landing.overshoot_writes, landing.undershoot_writes) == (1, 0)
    assert landing.error_s == 0.25
    assert not landing.within_tolerance


def test_an_overshoot_is_measured_to_the_newest_write_replayed() -> None:
    # Target 2.5 s; 3, 4, 5 replayed past it: the error is 5's issue time minus the target.
    landing = land(every_second(8), {1, 2, 3, 4, 5}, target=2.5, tolerance=10.0)
    assert landing.overshoot_writes == 3
    assert landing.error_s == 5.0 - 2.5
    assert not landing.within_tolerance


def test_an_undershoot_is_measured_to_the_oldest_write_missing() -> None:
    # Target 6.5 s; only 1 and 2 survived, 3..6 finished before the target and are missing.
    # The error is 3's completion (3.25 s) minus the target, whatever the tolerance.
    for tolerance in (0.1, 1.0, 100.0):
        landing = land(every_second(8), {1, 2}, target=6.5, tolerance=tolerance)
        assert landing.undershoot_writes == 4
        assert landing.overshoot_writes == 0
        assert landing.error_s == 3.25 - 6.5
        assert not landing.within_tolerance


def test_an_undershoot_counts_missing_writes_below_a_survivor() -> None:
    # Target 5.5 s; 2 and 4 missing although 5 survived: two undershoot writes, measured to 2.
    landing = land(every_second(6), {1, 3, 5}, target=5.5, tolerance=3.0)
    assert (landing.overshoot_writes, landing.undershoot_writes) == (0, 2)
    assert landing.error_s == 2.25 - 5.5
    assert not landing.within_tolerance


def test_an_overshoot_outweighs_an_undershoot() -> None:
    # Target 4.5 s; 2 missing (undershoot) and 6 present (overshoot): the error is the overshoot.
    landing = land(every_second(6), {1, 3, 4, 6}, target=4.5, tolerance=10.0)
    assert (landing.overshoot_writes, landing.undershoot_writes) == (1, 1)
    assert landing.error_s == 6.0 - 4.5
    assert not landing.within_tolerance


@pytest.mark.parametrize(
    ("tolerance", "within"),
    [(2.0, True), (2.25, True), (1.75, False), (0.5, False)],
)
def test_a_landing_far_from_its_target_is_outside_a_tighter_tolerance(
    tolerance: float, within: bool
) -> None:
    # Writes at 1, 2, 3 s, then nothing until 10 s; target 5.25 s; 1..3 survived, 10 did not.
    # Nothing overshot or undershot, but the newest evidence before the target is write 3's
    # acknowledgment at 3.25 s: 2 s before it, so the landing is only known to within 2 s.
    records = [*every_second(3), write(4, issued=10.0)]
    landing = land(records, {1, 2, 3}, target=5.25, tolerance=tolerance)
    assert (landing.overshoot_writes, landing.undershoot_writes) == (0, 0)
    assert landing.error_s == 3.25 - 5.25
    assert landing.within_tolerance is within


def test_an_error_after_the_target_is_judged_by_its_size() -> None:
    # Target 3 s (write 3 issued then, acknowledged 1.5 s later at 4.5 s; it survived).
    records = [*every_second(2), write(3, issued=3.0, latency=1.5)]
    assert land(records, {1, 2, 3}, target=3.0, tolerance=1.5).within_tolerance
    assert not land(records, {1, 2, 3}, target=3.0, tolerance=1.25).within_tolerance
    assert land(records, {1, 2, 3}, target=3.0, tolerance=1.5).error_s == 1.5


def test_nothing_acknowledged_lands_with_no_error() -> None:
    records = [write(1, issued=1.0, status=FAILED), write(2, issued=2.0, status=UNKNOWN)]
    landing = land(records, {2}, target=5.0, tolerance=0.0)
    assert (landing.error_s, landing.overshoot_writes, landing.undershoot_writes) == (0, 0, 0)
    assert landing.within_tolerance


def test_a_failed_write_present_past_the_target_is_no_overshoot() -> None:
    records = [*every_second(2), write(3, issued=3.0, status=FAILED)]
    landing = land(records, {1, 2, 3}, target=2.5, tolerance=1.0)
    assert landing.overshoot_writes == 0
    assert landing.error_s == 2.25 - 2.5
    assert landing.within_tolerance


@given(
    n=st.integers(3, 40),
    data=st.data(),
    latency_q=st.integers(1, 3),
    tolerance_q=st.integers(0, 40),
)
def test_landing_matches_its_definition(
    n: int, data: st.DataObject, latency_q: int, tolerance_q: int
) -> None:
    # Writes one per second, acknowledged latency_q quarter seconds later; a target on the
    # quarter-second grid (at a write, at an acknowledgment, or between); survivors a prefix
    # of the writes plus any others. The expectations are worked out from the definitions.
    latency = latency_q / 4
    tolerance = tolerance_q / 4
    records = every_second(n, latency=latency)
    target = data.draw(st.integers(4, 4 * n)) / 4
    prefix = data.draw(st.integers(0, n))
    extra = data.draw(st.sets(st.integers(prefix + 1, n))) if prefix < n else set()
    surviving = set(range(1, prefix + 1)) | extra

    over = [k for k in surviving if k > target]  # write k issued at k s
    under = [k for k in range(1, n + 1) if k not in surviving and k + latency < target]
    if over:
        error = max(over) - target
    elif under:
        error = min(under) + latency - target
    else:
        before = [k + latency for k in surviving if k <= target]
        error = max(before) - target if before else 0.0

    landing = land(records, surviving, target=target, tolerance=tolerance)
    assert (landing.overshoot_writes, landing.undershoot_writes) == (len(over), len(under))
    assert landing.error_s == error
    assert landing.within_tolerance is (not over and not under and abs(error) <= tolerance)
