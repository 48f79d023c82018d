"""Independent truth for drill tests: what a drill lost, recomputed without harness.measurement.

The inputs are the writer's acknowledgment log (``acks.jsonl`` beside the journal), the
sequence numbers present in the recovered database (read by the test's own SQL through
``SurvivorTap``, at the moment the harness measures, on the connection it measures with), and
the fault or PITR target time from the journal. The definitions are the README's
(Measurement) and ``harness/measurement/measure.py``'s docstrings, implemented again here:

- lost: acknowledged (``ok``) but absent after recovery; unknown writes are never lost;
- hole: a lost write older (smaller seq) than the newest surviving acknowledged write issued
  before the fault;
- unexpected: present although its write failed definitely, or never issued;
- RPO: 0 when nothing was lost; else the fault minus the acknowledgment of that newest
  surviving write (from the first write's issue when none survived), never negative;
- PITR landing: overshoot = acknowledged writes issued after the target that survived;
  undershoot = acknowledged writes finished before the target that are missing; the signed
  error is the newest overshooting issue, else the oldest undershooting completion, else the
  newest surviving completion among writes issued by the target, minus the target.

Clocks: acks.jsonl and the journal give wall times in whole milliseconds (truncated) and
latencies to 10 us, while the harness compares unrounded times. A write within
``CLOCK_TOLERANCE_S`` of a cut (the fault, the target) may lie on either side of it; the
writer is sequential, so issue and completion times grow with seq and every possible side is
a cut between two consecutive writes. The truth is then the small set of outcomes over those
cuts, and the journal must equal one of them: exactly one when no write is that close.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The writer's table (harness.engines.base.WRITES_TABLE); spelled out so that the truth does
# not move if the constant does.
WRITES_TABLE = "drill_writes"
# Two truncated millisecond readings differ from the truth by less than 1 ms each, the
# latency's rounding adds 5 us.
CLOCK_TOLERANCE_S = 0.002


def wall(iso: str) -> float:
    return dt.datetime.fromisoformat(iso).timestamp()


def expand(ranges: Iterable[Sequence[int]]) -> set[int]:
    return {s for a, b in ranges for s in range(a, b + 1)}


# -- the acknowledgment log -----------------------------------------------------------------------
@dataclass(frozen=True)
class Ack:
    """One line of acks.jsonl, on the wall clock."""

    seq: int
    status: str
    issued: float
    done: float
    target: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def read_acks(run_dir: Path) -> list[Ack]:
    """The writer's log in seq order; a drill whose writer wrote nothing fails here."""
    lines = (run_dir / "acks.jsonl").read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        a = json.loads(line)
        issued = wall(a["issued_at"])
        out.append(Ack(a["seq"], a["status"], issued, issued + float(a["latency_s"]), a["target"]))
    out.sort(key=lambda a: a.seq)
    assert out, f"{run_dir}/acks.jsonl holds no write"
    assert [a.seq for a in out] == list(range(1, len(out) + 1)), "seq numbers not 1..n"
    return out


def acked(log: Iterable[Ack], *, target: str | None = None) -> set[int]:
    return {a.seq for a in log if a.ok and (target is None or a.target == target)}


def cuts(log: Sequence[Ack], at: float, key: Callable[[Ack], float]) -> list[frozenset[int]]:
    """Every set of writes that may lie before ``at`` by ``key``, given the clocks' resolution.

    ``log`` is in seq order and the true times grow with seq, so the true set is a prefix of
    ``log``: at least every write before the first that may be at or after ``at``, at most up
    to the last that may be before it (reconstructed times may be out of order by a
    millisecond, hence prefixes by position rather than a filter by time)."""
    keys = [key(a) for a in log]
    lo = next((i for i, k in enumerate(keys) if k >= at - CLOCK_TOLERANCE_S), len(keys))
    hi = max([lo, *(i + 1 for i, k in enumerate(keys) if k <= at + CLOCK_TOLERANCE_S)])
    return [frozenset(a.seq for a in log[:p]) for p in range(lo, hi + 1)]


# -- loss -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Loss:
    """Lost, hole and unexpected writes, the newest survivor before the fault and the RPO."""

    lost: frozenset[int]
    holes: frozenset[int]
    unexpected: frozenset[int]
    last_surviving_seq: int | None
    rpo_s: float


def loss_for(
    log: Sequence[Ack], survivors: frozenset[int], *, before_fault: frozenset[int], fault_at: float
) -> Loss:
    """The loss if exactly ``before_fault`` were the writes issued before the fault."""
    by_seq = {a.seq: a for a in log}
    ok = acked(log)
    failed = {a.seq for a in log if a.status == "failed"}
    lost = ok - survivors
    unexpected = (survivors & failed) | (survivors - by_seq.keys())
    newest = max(ok & survivors & before_fault, default=None)
    holes = {s for s in lost if newest is not None and s < newest}
    if not lost:
        rpo = 0.0
    elif newest is None:
        rpo = max(0.0, fault_at - min(a.issued for a in log))
    else:
        rpo = max(0.0, fault_at - by_seq[newest].done)
    return Loss(frozenset(lost), frozenset(holes), frozenset(unexpected), newest, rpo)


def possible_losses(
    log: Sequence[Ack], survivors: frozenset[int], *, fault_at: float
) -> list[Loss]:
    return [
        loss_for(log, survivors, before_fault=before, fault_at=fault_at)
        for before in cuts(log, fault_at, lambda a: a.issued)
    ]


def incident(journal: dict[str, Any]) -> dict[str, Any]:
    """The journal's record of the incident: the server fault injected last (the scenario's
    last scheduled fault starts the RPO and RTO clocks; earlier ones are preconditions, and a
    fault of a backup job, target ``backup:NAME``, acts on no server)."""
    faults = [f for f in journal["faults"] if not str(f["target"]).startswith("backup:")]
    assert faults, "the drill injected no server fault"
    return max(faults, key=lambda f: wall(f["at"]))


def check_loss(journal: dict[str, Any], log: Sequence[Ack], survivors: frozenset[int]) -> Loss:
    """The journal's loss figures equal the recomputed ones: every count and range exactly,
    the RPO to the clocks' resolution. Returns the truth that matched."""
    m = journal["measured"]
    fault_at = wall(incident(journal)["at"])
    ok = acked(log)
    assert ok, "the writer acknowledged nothing: there is no loss to check"
    assert m["issued_writes"] == len(log)
    assert m["acked_writes"] == len(ok)
    assert m["failed_writes"] == sum(a.status == "failed" for a in log)
    assert m["unknown_writes"] == sum(a.status == "unknown" for a in log)
    truths = possible_losses(log, survivors, fault_at=fault_at)
    measured = Loss(
        frozenset(expand(m["lost_seq_ranges"])),
        frozenset(expand(m["hole_seq_ranges"])),
        frozenset(expand(m["unexpected_seq_ranges"])),
        m["last_surviving_seq"],
        float(m["rpo_s"]),
    )
    assert m["lost_writes"] == len(measured.lost)
    assert m["holes"] == len(measured.holes)
    assert m["unexpected"] == len(measured.unexpected)
    matching = [
        t
        for t in truths
        if (t.lost, t.holes, t.unexpected, t.last_surviving_seq)
        == (measured.lost, measured.holes, measured.unexpected, measured.last_surviving_seq)
        and abs(t.rpo_s - measured.rpo_s) <= CLOCK_TOLERANCE_S
    ]
    assert matching, (
        f"journal's loss {summary(measured)} differs from the recomputed "
        f"{' or '.join(summary(t) for t in truths)}"
    )
    return matching[0]


def summary(x: Loss) -> str:
    return (
        f"(lost={len(x.lost)} {ranges(x.lost)}, holes={len(x.holes)} {ranges(x.holes)}, "
        f"unexpected={len(x.unexpected)}, last_surviving={x.last_surviving_seq}, "
        f"rpo_s={x.rpo_s:.4f})"
    )


def ranges(seqs: Iterable[int]) -> str:
    out: list[list[int]] = []
    for s in sorted(seqs):
        if out and s == out[-1][1] + 1:
            out[-1][1] = s
        else:
            out.append([s, s])
    return ",".join(f"{a}..{b}" if a != b else str(a) for a, b in out) or "-"


# -- PITR landing ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Landing:
    """Where a point-in-time recovery landed relative to its target."""

    overshoot: frozenset[int]
    undershoot: frozenset[int]
    error_s: float


def landing_for(
    log: Sequence[Ack],
    survivors: frozenset[int],
    *,
    issued_by: frozenset[int],
    done_by: frozenset[int],
    target: float,
) -> Landing:
    """The landing if exactly ``issued_by`` were issued and ``done_by`` finished by the target."""
    ok = [a for a in log if a.ok]
    over = [a for a in ok if a.seq not in issued_by and a.seq in survivors]
    under = [a for a in ok if a.seq in done_by and a.seq not in survivors]
    if over:
        error = max(a.issued for a in over) - target
    elif under:
        error = min(a.done for a in under) - target
    else:
        kept = [a.done for a in ok if a.seq in survivors and a.seq in issued_by]
        error = max(kept) - target if kept else 0.0
    return Landing(frozenset(a.seq for a in over), frozenset(a.seq for a in under), error)


def check_landing(
    journal: dict[str, Any], log: Sequence[Ack], survivors: frozenset[int], *, node: str
) -> Landing:
    """The journal's PITR landing equals the one recomputed from the writes sent to ``node``
    (the server recovered from): overshoot and undershoot counts exactly, the error to the
    clocks' resolution. Returns the truth that matched."""
    pitr = journal["measured"]["pitr"]
    assert pitr is not None, "the journal has no PITR landing"
    sent = [a for a in log if a.target == node]
    assert any(a.ok for a in sent), f"no acknowledged write was sent to {node!r}"
    target = wall(pitr["target_at"])
    truths = [
        landing_for(log=sent, survivors=survivors, issued_by=i, done_by=d, target=target)
        for i in cuts(sent, target, lambda a: a.issued)
        for d in cuts(sent, target, lambda a: a.done)
    ]
    matching = [
        t
        for t in truths
        if (len(t.overshoot), len(t.undershoot))
        == (pitr["overshoot_writes"], pitr["undershoot_writes"])
        and abs(t.error_s - pitr["error_s"]) <= CLOCK_TOLERANCE_S
    ]
    assert matching, (
        f"journal's landing (overshoot={pitr['overshoot_writes']}, "
        f"undershoot={pitr['undershoot_writes']}, error_s={pitr['error_s']}) differs from the "
        "recomputed "
        + " or ".join(
            f"(overshoot={len(t.overshoot)}, undershoot={len(t.undershoot)}, "
            f"error_s={t.error_s:.4f})"
            for t in truths
        )
    )
    return matching[0]


def replayed_to(log: Sequence[Ack], survivors: frozenset[int], *, node: str, target: float) -> None:
    """By design of an exact PITR: of the acknowledged writes sent to ``node``, those finished
    by the target survive and those issued after it are lost, and nothing else is lost; only a
    write in flight at the target (its commit lies between its issue and its acknowledgment)
    may go either way."""
    sent = [a for a in log if a.ok and a.target == node]
    kept = {a.seq for a in sent if a.done < target - CLOCK_TOLERANCE_S}
    gone = {a.seq for a in sent if a.issued > target + CLOCK_TOLERANCE_S}
    in_flight = {a.seq for a in sent} - kept - gone
    assert kept and gone, f"no write on both sides of the target ({len(kept)}, {len(gone)})"
    assert kept <= survivors, f"missing before the target: {ranges(kept - survivors)}"
    assert not gone & survivors, f"replayed past the target: {ranges(gone & survivors)}"
    others = acked(log) - survivors - gone - in_flight
    assert not others, f"lost although not after the target: {ranges(others)}"


def check_pitr(journal: dict[str, Any], log: Sequence[Ack], survivors: frozenset[int]) -> Landing:
    """An exact PITR, recomputed: the journal's landing equals the truth, which is neither an
    overshoot nor an undershoot, and the loss is exactly the writes after the target."""
    node = incident(journal)["target"]
    truth = check_landing(journal, log, survivors, node=node)
    assert not truth.overshoot and not truth.undershoot, truth
    replayed_to(log, survivors, node=node, target=wall(journal["measured"]["pitr"]["target_at"]))
    return truth


# -- replication -------------------------------------------------------------------------------
# Streaming replication's lag at 50 writes/s on one host is milliseconds; the standby stops
# receiving when it is stopped (docker stop: up to its 10 s timeout) after the fault began.
REPLICATION_LAG_ALLOWANCE_S = 0.5
DOCKER_STOP_TIMEOUT_S = 10.0


def check_stale_promotion(log: Sequence[Ack], t: Loss, *, broke_at: float) -> None:
    """The promoted standby stopped at one point after the break: the loss is every write the
    primary acknowledged from that point to its death, a tail with no holes."""
    on_primary = sorted(a.seq for a in log if a.ok and a.target == "primary")
    assert t.lost and not t.holes
    first = min(t.lost)
    assert t.lost == {s for s in on_primary if s >= first}, "the loss is not one tail"
    issued = next(a.issued for a in log if a.seq == first)
    assert broke_at - REPLICATION_LAG_ALLOWANCE_S <= issued <= broke_at + DOCKER_STOP_TIMEOUT_S


def first_write_to(log: Sequence[Ack], node: str) -> float:
    """When the writer first wrote to ``node``: the clients moved there once it was verified."""
    issued = [a.issued for a in log if a.target == node]
    assert issued, f"no write was sent to {node!r}"
    return min(issued)


# -- survivors, read from the recovered database --------------------------------------------------
class SurvivorTap:
    """Reads the writer's rows in the recovered database with the test's own SQL, on the
    connection and at the moment the harness reads them for its own measurement.

    The only harness internals it touches are the drill's engine adapter and its
    ``write_seqs(conn)`` (the one call through which the harness sees the survivors).
    """

    def __init__(self, drill: Any) -> None:
        self.reads: list[frozenset[int]] = []
        engine = drill.engine
        harness_read = engine.write_seqs

        def tapped(conn: Any) -> set[int]:
            found: set[int] = harness_read(conn)
            cur = conn.cursor()
            try:
                cur.execute(f"SELECT seq FROM {WRITES_TABLE}")
                rows = [int(r[0]) for r in cur.fetchall()]
            finally:
                cur.close()
            assert len(rows) == len(set(rows)), "a writer row is present twice"
            self.reads.append(frozenset(rows))
            return found

        engine.write_seqs = tapped

    @property
    def survivors(self) -> frozenset[int]:
        """The sequence numbers in the recovered database; fails if the harness never read
        them (a drill that recovered nothing has no survivors to compare with)."""
        assert len(self.reads) == 1, f"the recovered database was read {len(self.reads)} times"
        return self.reads[0]


class RecordedTap(SurvivorTap):
    """The reads a ``SurvivorTap`` made in another process (a drill run by ``parallel.py``)."""

    def __init__(self, reads: list[frozenset[int]]) -> None:
        self.reads = list(reads)


_TAPS: dict[str, SurvivorTap] = {}


def keep_tap(run_id: str, tap: SurvivorTap) -> None:
    """Remember ``tap`` as the survivors of run ``run_id`` (for ``tap_of``)."""
    _TAPS[run_id] = tap


def run_tapped(drill: Any) -> Any:
    """``drill.run()`` with its survivors tapped; the result's loss can then be recomputed."""
    tap = SurvivorTap(drill)
    result = drill.run()
    _TAPS[result.run_id] = tap
    return result


def tap_of(result: Any) -> SurvivorTap:
    return _TAPS[result.run_id]


def recomputed(result: Any, *, exact_pitr: bool = False) -> Loss:
    """The journal's loss, and its PITR landing where it has one, checked against the ones
    recomputed from acks.jsonl and the rows the test read back; returns the loss. With
    ``exact_pitr`` the landing must also be exact (no overshoot, no undershoot, the loss is
    the writes after the target)."""
    journal = result.journal
    log, kept = read_acks(result.journal_path.parent), tap_of(result).survivors
    if exact_pitr:
        check_pitr(journal, log, kept)
    elif journal["measured"]["pitr"] is not None:
        check_landing(journal, log, kept, node=incident(journal)["target"])
    return check_loss(journal, log, kept)
