"""RPO/RTO arithmetic (measurement.measure), checked against logs whose losses are known.

Each generated case builds the surviving sequence numbers by a known mechanism (a restore from
a backup taken at seq B, or K acknowledged writes deleted from the middle), so the expected
lost writes, holes and unexpected rows come from the construction, not from the code under test.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.measurement.measure import (
    RpoResult,
    WriteRecord,
    WriteStatus,
    measure_rpo,
    measure_rto,
    to_ranges,
)

OK, FAILED, UNKNOWN = WriteStatus.OK, WriteStatus.FAILED, WriteStatus.UNKNOWN
WALL_OFFSET_S = 1_700_000_000.0


@dataclass(frozen=True)
class Log:
    """An acknowledgment log and the moment of the fault."""

    records: list[WriteRecord]
    fault_mono: float

    def seqs(self, *statuses: WriteStatus, pre_fault: bool | None = None) -> set[int]:
        return {
            r.seq
            for r in self.records
            if r.status in statuses
            and (pre_fault is None or (r.issued_mono < self.fault_mono) == pre_fault)
        }

    def record(self, seq: int) -> WriteRecord:
        return next(r for r in self.records if r.seq == seq)


@dataclass(frozen=True)
class Case:
    """A log, what survived recovery, and what the measurement must find."""

    log: Log
    surviving: frozenset[int]
    lost: frozenset[int]
    holes: frozenset[int]
    unexpected: frozenset[int]
    newest_pre_fault_survivor: int | None  # newest surviving acked write issued before the fault


@st.composite
def logs(draw: st.DrawFn, *, max_writes: int = 40, acked_first: int = 0) -> Log:
    """Writes 1..n one after another (issued < done <= next issued), and a fault among them.

    The first ``acked_first`` writes are acknowledged and issued before the fault.
    """
    n = draw(st.integers(max(1, acked_first), max_writes))
    statuses = [OK] * acked_first + draw(
        st.lists(st.sampled_from(list(WriteStatus)), min_size=n - acked_first, max_size=n)
    )
    start_ms = draw(st.integers(0, 10**7))
    gaps_ms = draw(st.lists(st.integers(1, 3000), min_size=2 * n, max_size=2 * n))
    # 2n strictly increasing event times in ms: issued_1, done_1, issued_2, done_2, ...
    events = list(itertools.accumulate(gaps_ms, initial=start_ms))[1:]
    records = [
        WriteRecord(
            seq=i + 1,
            status=statuses[i],
            issued_mono=events[2 * i] / 1000,
            done_mono=events[2 * i + 1] / 1000,
            issued_wall=WALL_OFFSET_S + events[2 * i] / 1000,
            target="primary",
        )
        for i in range(n)
    ]
    # The fault falls strictly between two events (or before the first / after the last), so
    # a write may be in flight when it happens.
    position = draw(st.integers(max(0, 2 * acked_first - 1), 2 * n))
    before = events[position - 1] if position > 0 else events[0] - 1000
    after = events[position] if position < 2 * n else events[-1] + 1000
    return Log(records, fault_mono=(before + after) / 2 / 1000)


def _subset(draw: st.DrawFn, items: set[int]) -> set[int]:
    return draw(st.sets(st.sampled_from(sorted(items)))) if items else set()


def _post_fault_survivors(draw: st.DrawFn, log: Log) -> tuple[set[int], set[int]]:
    """Writes made after the fault that reached the recovered server, and the acked ones lost."""
    post_ok = log.seqs(OK, pre_fault=False)
    kept = _subset(draw, post_ok) | _subset(draw, log.seqs(UNKNOWN, pre_fault=False))
    return kept, post_ok - kept


@st.composite
def restore_cases(draw: st.DrawFn) -> Case:
    """Recovery restored a backup taken at seq B: a tail is lost, never the middle."""
    log = draw(logs())
    pre_fault = log.seqs(OK, FAILED, UNKNOWN, pre_fault=True)
    backup_seq = draw(st.integers(0, len(pre_fault)))  # pre-fault seqs are 1..len(pre_fault)
    in_backup_ok = {s for s in log.seqs(OK) if s <= backup_seq}
    in_backup_unknown = _subset(draw, {s for s in log.seqs(UNKNOWN) if s <= backup_seq})
    post_kept, post_lost = _post_fault_survivors(draw, log)
    surviving = in_backup_ok | in_backup_unknown | post_kept
    after_backup_ok = {s for s in log.seqs(OK, pre_fault=True) if s > backup_seq}
    return Case(
        log=log,
        surviving=frozenset(surviving),
        lost=frozenset(after_backup_ok | post_lost),
        holes=frozenset(),
        unexpected=frozenset(),
        newest_pre_fault_survivor=max(in_backup_ok, default=None),
    )


@st.composite
def middle_loss_cases(draw: st.DrawFn) -> Case:
    """K acknowledged pre-fault writes vanished from below the newest pre-fault survivor."""
    log = draw(logs(acked_first=2))
    pre_ok = sorted(log.seqs(OK, pre_fault=True))
    removed = draw(st.sets(st.sampled_from(pre_ok[:-1]), min_size=1))
    post_kept, post_lost = _post_fault_survivors(draw, log)
    surviving = (set(pre_ok) - removed) | _subset(draw, log.seqs(UNKNOWN)) | post_kept
    return Case(
        log=log,
        surviving=frozenset(surviving),
        lost=frozenset(removed | post_lost),
        holes=frozenset(removed),
        unexpected=frozenset(),
        newest_pre_fault_survivor=pre_ok[-1],
    )


@st.composite
def noisy_cases(draw: st.DrawFn) -> Case:
    """Either case, plus rows that should not be there: failed writes and never-issued seqs."""
    case = draw(st.one_of(restore_cases(), middle_loss_cases()))
    issued = len(case.log.records)
    failed_present = _subset(draw, case.log.seqs(FAILED))
    phantoms = draw(
        st.sets(st.one_of(st.integers(-5, 0), st.integers(issued + 1, issued + 1000)), max_size=5)
    )
    return Case(
        log=case.log,
        surviving=case.surviving | failed_present | phantoms,
        lost=case.lost,
        holes=case.holes,
        unexpected=frozenset(failed_present | phantoms),
        newest_pre_fault_survivor=case.newest_pre_fault_survivor,
    )


ANY_CASE = st.one_of(restore_cases(), middle_loss_cases(), noisy_cases())


def _measure(case: Case) -> RpoResult:
    return measure_rpo(case.log.records, set(case.surviving), fault_mono=case.log.fault_mono)


# -- RPO: counts ---------------------------------------------------------------------------


@settings(deadline=None)
@given(ANY_CASE)
def test_lost_writes_are_exactly_the_acked_writes_missing(case: Case) -> None:
    result = _measure(case)
    assert result.lost_writes == len(case.lost)
    assert result.lost_seqs == tuple(sorted(case.lost))


@settings(deadline=None)
@given(ANY_CASE)
def test_counts_by_status_match_the_log(case: Case) -> None:
    result = _measure(case)
    counts = Counter(r.status for r in case.log.records)
    assert result.issued_writes == len(case.log.records)
    assert (result.acked_writes, result.failed_writes, result.unknown_writes) == (
        counts[OK],
        counts[FAILED],
        counts[UNKNOWN],
    )


@settings(deadline=None)
@given(ANY_CASE)
def test_unknown_writes_are_never_lost_or_unexpected(case: Case) -> None:
    result = _measure(case)
    unknown = case.log.seqs(UNKNOWN)
    assert not unknown & set(result.lost_seqs)
    assert not unknown & set(result.unexpected_seqs)


@settings(deadline=None)
@given(noisy_cases())
def test_failed_writes_present_and_never_issued_seqs_are_unexpected(case: Case) -> None:
    result = _measure(case)
    assert result.unexpected_seqs == tuple(sorted(case.unexpected))
    assert result.unexpected == len(case.unexpected)
    # Extra rows change nothing about what was lost.
    assert result.lost_seqs == tuple(sorted(case.lost))
    assert result.hole_seqs == tuple(sorted(case.holes))


# -- RPO: holes ----------------------------------------------------------------------------


@settings(deadline=None)
@given(restore_cases())
def test_losing_a_tail_makes_no_holes(case: Case) -> None:
    result = _measure(case)
    assert result.holes == 0
    assert result.hole_seqs == ()


@settings(deadline=None)
@given(middle_loss_cases())
def test_losing_k_writes_from_the_middle_makes_k_holes(case: Case) -> None:
    result = _measure(case)
    assert result.holes == len(case.holes)
    assert result.hole_seqs == tuple(sorted(case.holes))


# -- RPO: seconds --------------------------------------------------------------------------


@settings(deadline=None)
@given(ANY_CASE)
def test_rpo_seconds(case: Case) -> None:
    result = _measure(case)
    fault = case.log.fault_mono
    assert result.rpo_s >= 0
    assert result.last_surviving_seq == case.newest_pre_fault_survivor
    if not case.lost:
        assert result.rpo_s == 0
    elif case.newest_pre_fault_survivor is not None:
        newest = case.log.record(case.newest_pre_fault_survivor)
        # A write acknowledged after the fault (it was in flight) leaves no window: 0, not < 0.
        assert result.rpo_s == pytest.approx(max(0.0, fault - newest.done_mono))
    else:
        # Nothing from before the fault survived: the window reaches back over every lost
        # pre-fault write, and no further than the first write of the workload.
        first_issue = min(r.issued_mono for r in case.log.records)
        assert result.rpo_s <= max(0.0, fault - first_issue) + 1e-9
        for seq in case.lost & case.log.seqs(OK, pre_fault=True):
            assert result.rpo_s >= fault - case.log.record(seq).done_mono - 1e-9


def _write(seq: int, status: WriteStatus = OK) -> WriteRecord:
    """Write ``seq`` issued at seq seconds and acknowledged 0.25 s later."""
    return WriteRecord(
        seq=seq,
        status=status,
        issued_mono=float(seq),
        done_mono=seq + 0.25,
        issued_wall=WALL_OFFSET_S + seq,
        target="primary",
    )


def test_restore_from_backup_example() -> None:
    # Writes 1..10 acknowledged one per second; a backup holds 1..6; the fault at 10.5 s.
    records = [_write(s) for s in range(1, 11)]
    result = measure_rpo(records, set(range(1, 7)), fault_mono=10.5)
    assert result.lost_seqs == (7, 8, 9, 10)
    assert result.holes == 0
    assert result.last_surviving_seq == 6
    assert result.rpo_s == pytest.approx(10.5 - 6.25)


def test_middle_loss_example_with_unknown_and_unexpected_rows() -> None:
    records = [_write(1), _write(2), _write(3, FAILED), _write(4), _write(5, UNKNOWN), _write(6)]
    # 2 and 4 vanished, failed 3 is present, unknown 5 is absent, 99 was never written.
    result = measure_rpo(records, {1, 3, 6, 99}, fault_mono=7.0)
    assert result.lost_seqs == (2, 4)
    assert result.hole_seqs == (2, 4)
    assert result.unexpected_seqs == (3, 99)
    assert result.rpo_s == pytest.approx(7.0 - 6.25)


def test_nothing_lost_means_rpo_zero_even_long_after_the_last_write() -> None:
    records = [_write(s) for s in range(1, 4)]
    result = measure_rpo(records, {1, 2, 3}, fault_mono=1000.0)
    assert (result.lost_writes, result.holes, result.rpo_s) == (0, 0, 0.0)


def test_empty_log() -> None:
    result = measure_rpo([], set(), fault_mono=5.0)
    assert (result.issued_writes, result.lost_writes, result.rpo_s) == (0, 0, 0.0)
    assert result.last_surviving_seq is None


# -- RTO -----------------------------------------------------------------------------------

MOMENT = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(st.lists(MOMENT, min_size=4, max_size=4))
def test_rto_phases_sum_to_rto(moments: list[float]) -> None:
    fault, detected, restored, verified = sorted(moments)
    rto = measure_rto(
        fault_mono=fault, detected_mono=detected, restored_mono=restored, verified_mono=verified
    )
    assert rto.rto_s == verified - fault
    assert min(rto.detect_s, rto.restore_s, rto.verify_s) >= 0
    assert rto.detect_s + rto.restore_s + rto.verify_s == pytest.approx(rto.rto_s, abs=1e-6)


def test_rto_example() -> None:
    rto = measure_rto(fault_mono=10.0, detected_mono=10.5, restored_mono=14.0, verified_mono=14.25)
    assert (rto.rto_s, rto.detect_s, rto.restore_s, rto.verify_s) == (4.25, 0.5, 3.5, 0.25)


@given(st.lists(MOMENT, min_size=4, max_size=4, unique=True), st.data())
def test_rto_moments_out_of_order_raise(moments: list[float], data: st.DataObject) -> None:
    ordered = sorted(moments)
    i, j = sorted(data.draw(st.lists(st.integers(0, 3), min_size=2, max_size=2, unique=True)))
    ordered[i], ordered[j] = ordered[j], ordered[i]
    fault, detected, restored, verified = ordered
    with pytest.raises(ValueError, match="out of order"):
        measure_rto(
            fault_mono=fault,
            detected_mono=detected,
            restored_mono=restored,
            verified_mono=verified,
        )


# -- to_ranges -----------------------------------------------------------------------------


@given(st.lists(st.integers(-50, 200), max_size=80))
def test_to_ranges_round_trips(seqs: list[int]) -> None:
    ranges = to_ranges(seqs)
    expanded = [s for first, last in ranges for s in range(first, last + 1)]
    assert expanded == sorted(set(seqs))


@given(st.lists(st.integers(-50, 200), max_size=80))
def test_to_ranges_are_maximal(seqs: list[int]) -> None:
    ranges = to_ranges(seqs)
    assert all(first <= last for first, last in ranges)
    # Adjacent ranges would have been merged: a gap of at least one missing number separates them.
    assert all(nxt[0] >= prev[1] + 2 for prev, nxt in itertools.pairwise(ranges))


def test_to_ranges_example() -> None:
    assert to_ranges([10, 3, 5, 4, 1, 1]) == [[1, 1], [3, 5], [10, 10]]
    assert to_ranges([]) == []
