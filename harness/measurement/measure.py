"""Pure RTO/RPO arithmetic over the writer's acknowledgment log; no I/O, no clocks read here.

Durations come from the monotonic clock (``time.monotonic``); wall time (UTC) is recorded
beside it for reports only.

Definitions (the journal states them too):
- acked write: the database acknowledged the commit (status ``ok``).
- lost write: acked, but absent from the recovered database.
- hole: a lost write with a smaller sequence number than some surviving write that was issued
  before the fault. Losing a tail (everything after a backup) makes no holes; losing writes
  from the middle does.
- unexpected row: present in the recovered database although its write failed definitely, or
  a sequence number the writer never issued.
- unknown writes (in flight when the server went away) are never counted as lost or unexpected.
- rpo_s: 0 when nothing was lost; otherwise the time from the acknowledgment of the newest
  surviving write issued before the fault to the fault itself.
- rto_s: from the fault to the first verified read and write on the recovered database, split
  into detect (fault -> outage detected), restore (detected -> a server is back) and verify
  (server back -> verified read and write).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class WriteStatus(StrEnum):
    """Outcome of one write, as the client saw it (Jepsen's ok / fail / info)."""

    OK = "ok"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class WriteRecord:
    """One write in the acknowledgment log."""

    seq: int
    status: WriteStatus
    issued_mono: float
    done_mono: float
    issued_wall: float
    target: str
    error: str = ""


@dataclass(frozen=True)
class RpoResult:
    """Data loss measured against the acknowledgment log."""

    issued_writes: int
    acked_writes: int
    unknown_writes: int
    failed_writes: int
    lost_writes: int
    lost_seqs: tuple[int, ...]
    holes: int
    hole_seqs: tuple[int, ...]
    unexpected: int
    unexpected_seqs: tuple[int, ...]
    rpo_s: float
    last_surviving_seq: int | None


@dataclass(frozen=True)
class RtoResult:
    """Recovery time and its phases, in seconds."""

    rto_s: float
    detect_s: float
    restore_s: float
    verify_s: float


def measure_rpo(
    records: Iterable[WriteRecord], surviving: set[int], *, fault_mono: float
) -> RpoResult:
    """Compare the acknowledgment log with the sequence numbers found after recovery."""
    log = {r.seq: r for r in records}
    acked = {s for s, r in log.items() if r.status is WriteStatus.OK}
    failed = {s for s, r in log.items() if r.status is WriteStatus.FAILED}
    unknown = {s for s, r in log.items() if r.status is WriteStatus.UNKNOWN}
    lost = sorted(acked - surviving)
    unexpected = sorted((surviving & failed) | (surviving - log.keys()))

    surviving_before_fault = [s for s in acked & surviving if log[s].issued_mono < fault_mono]
    newest_before = max(surviving_before_fault, default=None)
    holes = [s for s in lost if newest_before is not None and s < newest_before]

    if not lost:
        rpo_s = 0.0
    elif newest_before is None:
        first_issue = min((r.issued_mono for r in log.values()), default=fault_mono)
        rpo_s = max(0.0, fault_mono - first_issue)
    else:
        rpo_s = max(0.0, fault_mono - log[newest_before].done_mono)

    return RpoResult(
        issued_writes=len(log),
        acked_writes=len(acked),
        unknown_writes=len(unknown),
        failed_writes=len(failed),
        lost_writes=len(lost),
        lost_seqs=tuple(lost),
        holes=len(holes),
        hole_seqs=tuple(holes),
        unexpected=len(unexpected),
        unexpected_seqs=tuple(unexpected),
        rpo_s=rpo_s,
        last_surviving_seq=newest_before,
    )


def measure_rto(
    *, fault_mono: float, detected_mono: float, restored_mono: float, verified_mono: float
) -> RtoResult:
    """Split fault -> verified into its phases; the moments must be in order."""
    if not fault_mono <= detected_mono <= restored_mono <= verified_mono:
        raise ValueError(
            "recovery moments out of order: "
            f"{fault_mono=} {detected_mono=} {restored_mono=} {verified_mono=}"
        )
    return RtoResult(
        rto_s=verified_mono - fault_mono,
        detect_s=detected_mono - fault_mono,
        restore_s=restored_mono - detected_mono,
        verify_s=verified_mono - restored_mono,
    )


@dataclass(frozen=True)
class Landing:
    """Where point-in-time recovery landed, judged from the acknowledgment log.

    ``overshoot_writes``: acknowledged writes issued after the target that are present
    (recovery replayed past its target). ``undershoot_writes``: acknowledged writes finished
    before the target that are missing (recovery ended early). ``error_s`` is signed: the
    issue time of the newest surviving write minus the target when it overshot, the
    completion time of the oldest missing one minus the target when it undershot, else the
    distance from the newest surviving write before the target.
    """

    target_wall: float
    error_s: float
    overshoot_writes: int
    undershoot_writes: int
    within_tolerance: bool


def measure_landing(
    records: Iterable[WriteRecord], surviving: set[int], *, target_wall: float, tolerance_s: float
) -> Landing:
    """Judge a point-in-time recovery against its wall-clock target.

    ``records`` must be the writes sent to the server that was recovered from (writes sent to
    the recovered server afterwards are issued after the target too, and belong there).
    """
    acked = [r for r in records if r.status is WriteStatus.OK]

    def done_wall(r: WriteRecord) -> float:
        return r.issued_wall + (r.done_mono - r.issued_mono)

    over = [r for r in acked if r.issued_wall > target_wall and r.seq in surviving]
    under = [r for r in acked if done_wall(r) < target_wall and r.seq not in surviving]
    if over:
        error = max(r.issued_wall for r in over) - target_wall
    elif under:
        error = min(done_wall(r) for r in under) - target_wall
    else:
        before = [
            done_wall(r) for r in acked if r.seq in surviving and r.issued_wall <= target_wall
        ]
        error = (max(before) - target_wall) if before else 0.0
    return Landing(
        target_wall=target_wall,
        error_s=error,
        overshoot_writes=len(over),
        undershoot_writes=len(under),
        within_tolerance=abs(error) <= tolerance_s and not over and not under,
    )


def to_ranges(seqs: Iterable[int]) -> list[list[int]]:
    """Compress sorted-or-not sequence numbers into inclusive [first, last] ranges."""
    ranges: list[list[int]] = []
    for s in sorted(set(seqs)):
        if ranges and s == ranges[-1][1] + 1:
            ranges[-1][1] = s
        else:
            ranges.append([s, s])
    return ranges
