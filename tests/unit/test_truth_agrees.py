"""The integration tests' independent truth (tests/integration/truth.py) and the harness's
measurement (harness/measurement/measure.py) are two implementations of the README's
definitions: on any writer log they must agree, and a journal written from the harness's
figures, with its times cut to whole milliseconds, must pass truth's checks."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.measurement.measure import (
    WriteRecord,
    WriteStatus,
    measure_landing,
    measure_rpo,
    to_ranges,
)
from tests.integration import truth

T0 = 1_800_000_000.0


@st.composite
def drills(draw: st.DrawFn) -> tuple[list[truth.Ack], frozenset[int], float]:
    """A sequential writer's log (times in whole ms from T0), the survivors, and a cut time
    half a millisecond off any write's times."""
    n = draw(st.integers(min_value=1, max_value=40))
    acks, t = [], T0
    for seq in range(1, n + 1):
        t += draw(st.integers(min_value=1, max_value=30)) / 1000
        latency = draw(st.integers(min_value=0, max_value=20)) / 1000
        status = draw(st.sampled_from(["ok", "ok", "ok", "failed", "unknown"]))
        acks.append(truth.Ack(seq, status, t, t + latency, "primary"))
        t += latency
    seqs = [a.seq for a in acks]
    survivors = frozenset(draw(st.sets(st.sampled_from([*seqs, n + 1, n + 7]))))
    cut = T0 + draw(st.integers(min_value=0, max_value=round((t - T0) * 1000) + 5)) / 1000
    return acks, survivors, cut + 0.0005


def records(acks: list[truth.Ack]) -> list[WriteRecord]:
    return [
        WriteRecord(
            seq=a.seq,
            status=WriteStatus(a.status),
            issued_mono=a.issued,
            done_mono=a.done,
            issued_wall=a.issued,
            target=a.target,
        )
        for a in acks
    ]


@given(drills())
def test_the_loss_is_the_same_by_both_implementations(
    drill: tuple[list[truth.Ack], frozenset[int], float],
) -> None:
    acks, survivors, fault = drill
    before = frozenset(a.seq for a in acks if a.issued < fault)
    mine = truth.loss_for(acks, survivors, before_fault=before, fault_at=fault)
    theirs = measure_rpo(records(acks), set(survivors), fault_mono=fault)
    assert mine.lost == frozenset(theirs.lost_seqs)
    assert mine.holes == frozenset(theirs.hole_seqs)
    assert mine.unexpected == frozenset(theirs.unexpected_seqs)
    assert mine.last_surviving_seq == theirs.last_surviving_seq
    assert mine.rpo_s == theirs.rpo_s


@given(drills())
def test_the_landing_is_the_same_by_both_implementations(
    drill: tuple[list[truth.Ack], frozenset[int], float],
) -> None:
    acks, survivors, target = drill
    issued_by = frozenset(a.seq for a in acks if a.issued <= target)
    done_by = frozenset(a.seq for a in acks if a.done < target)
    mine = truth.landing_for(acks, survivors, issued_by=issued_by, done_by=done_by, target=target)
    theirs = measure_landing(records(acks), set(survivors), target_wall=target, tolerance_s=1)
    assert (len(mine.overshoot), len(mine.undershoot)) == (
        theirs.overshoot_writes,
        theirs.undershoot_writes,
    )
    assert abs(mine.error_s - theirs.error_s) < 1e-9


def iso(epoch_s: float) -> str:
    """Wall time as the journal and acks.jsonl write it: ISO 8601, milliseconds truncated."""
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).isoformat(timespec="milliseconds")


def written(
    tmp: Path, acks: list[truth.Ack], survivors: frozenset[int], *, cut: float
) -> dict[str, Any]:
    """acks.jsonl and a journal with the harness's own figures, as a drill writes them."""
    lines = [
        json.dumps(
            {
                "seq": a.seq,
                "status": a.status,
                "issued_at": iso(a.issued),
                "latency_s": round(a.done - a.issued, 5),
                "target": a.target,
                "error": "",
            }
        )
        for a in acks
    ]
    (tmp / "acks.jsonl").write_text("\n".join(lines) + "\n")
    rpo = measure_rpo(records(acks), set(survivors), fault_mono=cut)
    landing = measure_landing(records(acks), set(survivors), target_wall=cut, tolerance_s=1)
    return {
        "faults": [{"type": "pause", "target": "primary", "at": iso(cut)}],
        "measured": {
            "issued_writes": rpo.issued_writes,
            "acked_writes": rpo.acked_writes,
            "failed_writes": rpo.failed_writes,
            "unknown_writes": rpo.unknown_writes,
            "lost_writes": rpo.lost_writes,
            "holes": rpo.holes,
            "unexpected": rpo.unexpected,
            "lost_seq_ranges": to_ranges(rpo.lost_seqs),
            "hole_seq_ranges": to_ranges(rpo.hole_seqs),
            "unexpected_seq_ranges": to_ranges(rpo.unexpected_seqs),
            "last_surviving_seq": rpo.last_surviving_seq,
            "rpo_s": round(rpo.rpo_s, 4),
            "pitr": {
                "target_at": iso(cut),
                "error_s": round(landing.error_s, 4),
                "overshoot_writes": landing.overshoot_writes,
                "undershoot_writes": landing.undershoot_writes,
            },
        },
    }


@settings(max_examples=60)
@given(drills(), st.integers(min_value=0, max_value=999))
def test_a_journal_cut_to_milliseconds_passes_the_checks(
    tmp_path_factory: Any, drill: tuple[list[truth.Ack], frozenset[int], float], us: int
) -> None:
    acks, survivors, cut = drill
    acks = [
        truth.Ack(a.seq, a.status, a.issued + us / 1e6, a.done + us / 1e6, a.target) for a in acks
    ]
    tmp = tmp_path_factory.mktemp("drill")
    journal = written(tmp, acks, survivors, cut=cut)
    if not any(a.ok for a in acks):
        return  # check_loss refuses a log with nothing acknowledged (nothing to compare)
    log = truth.read_acks(tmp)
    truth.check_loss(journal, log, survivors)
    truth.check_landing(journal, log, survivors, node="primary")


def test_a_wrong_journal_fails_the_checks(tmp_path: Path) -> None:
    acks = [truth.Ack(s, "ok", T0 + s * 0.02, T0 + s * 0.02 + 0.001, "primary") for s in (1, 2, 3)]
    journal = written(tmp_path, acks, frozenset({1, 2}), cut=T0 + 0.1)
    log = truth.read_acks(tmp_path)
    for survivors in (frozenset({1}), frozenset({1, 2, 3}), frozenset({1, 2, 9})):
        try:
            truth.check_loss(journal, log, survivors)
        except AssertionError:
            continue
        raise AssertionError(f"survivors {set(survivors)} passed against a journal of {{1, 2}}")
