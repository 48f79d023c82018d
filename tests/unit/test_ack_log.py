"""The acknowledgment log under concurrent clients: unique sequence numbers, exact outcomes, the
file in sequence order, and bounded memory (compact columns, not one object per write)."""

from __future__ import annotations

import json
import random
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from harness.measurement.acks import BYTES_PER_WRITE, AckLog
from harness.measurement.latency import percentile, percentiles
from harness.measurement.measure import WriteStatus, measure_rpo

STATUSES = (WriteStatus.OK, WriteStatus.FAILED, WriteStatus.UNKNOWN)


def test_concurrent_clients_log_every_write_once_in_seq_order(tmp_path: Path) -> None:
    path = tmp_path / "acks.jsonl"
    log = AckLog(path, flush_every_s=0.001)
    outcomes: dict[int, WriteStatus] = {}
    mutex = threading.Lock()

    def client(k: int) -> None:
        rnd = random.Random(k)
        for _ in range(500):
            seq, issued, wall = log.next_seq()
            status = rnd.choice(STATUSES)
            time.sleep(rnd.random() / 10_000)  # complete out of order
            with mutex:
                outcomes[seq] = status
            log.add(
                seq,
                status,
                issued_mono=issued,
                done_mono=issued + 0.001 * k,
                issued_wall=wall,
                target=f"node{k % 2}",
                error="" if status is WriteStatus.OK else f"E{seq}",
            )

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()

    assert len(log) == 4000 and sorted(outcomes) == list(range(1, 4001))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [a["seq"] for a in lines] == list(range(1, 4001))
    assert all(a["status"] == outcomes[a["seq"]].value for a in lines)
    assert all((a["error"] == "") == (a["status"] == "ok") for a in lines)
    records = log.records()
    assert [(r.seq, r.status) for r in records] == sorted(outcomes.items())
    assert len(list(records)) == 4000  # the view iterates more than once
    # Issue times grow with the sequence number (taken under the log's lock).
    issued = [r.issued_mono for r in records]
    assert issued == sorted(issued)
    ok = sorted(s for s, st in outcomes.items() if st is WriteStatus.OK)
    assert log.acked_seqs() == ok
    assert log.last_acked_seq() == ok[-1]
    assert log.counts() == {s.value: sum(v is s for v in outcomes.values()) for s in STATUSES}
    # Lost writes against the log, as the measurement sees it: drop some acknowledged ones.
    surviving = set(ok[: len(ok) // 2])
    rpo = measure_rpo(records, surviving, fault_mono=float("inf"))
    assert rpo.lost_writes == len(ok) - len(surviving) > 0
    assert set(rpo.lost_seqs) == set(ok[len(ok) // 2 :])


def test_a_write_logged_twice_is_refused() -> None:
    log = AckLog()
    seq, issued, wall = log.next_seq()
    kw = {"issued_mono": issued, "done_mono": issued, "issued_wall": wall, "target": "p"}
    log.add(seq, WriteStatus.OK, **kw)
    with pytest.raises(ValueError, match="logged twice"):
        log.add(seq, WriteStatus.OK, **kw)


def test_close_writes_a_write_that_never_completed_as_unknown(tmp_path: Path) -> None:
    log = AckLog(tmp_path / "acks.jsonl")
    for _ in range(3):
        log.next_seq()
    log.add(1, WriteStatus.OK, issued_mono=1, done_mono=2, issued_wall=1, target="p")
    log.add(3, WriteStatus.OK, issued_mono=3, done_mono=4, issued_wall=3, target="p")
    assert len(log) == 1  # 3 waits for 2
    log.close()
    lines = [json.loads(x) for x in (tmp_path / "acks.jsonl").read_text().splitlines()]
    assert [(a["seq"], a["status"]) for a in lines] == [(1, "ok"), (2, "unknown"), (3, "ok")]


def test_memory_per_write_is_bounded() -> None:
    """The in-memory part of the log (the file is streamed): 26 bytes a write, measured on
    50,000 writes (the bench measures a million): a million stays under 50 MB."""
    log = AckLog()
    n = 50_000
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(n):
            seq, issued, wall = log.next_seq()
            log.add(
                seq,
                WriteStatus.OK if i % 7 else WriteStatus.UNKNOWN,
                issued_mono=issued,
                done_mono=issued + 0.0005,
                issued_wall=wall,
                target="primary" if i < n // 2 else "replica",
                error="" if i % 7 else "OperationalError: server closed the connection",
            )
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(log) == n
    assert grown * (1_000_000 / n) < 50 * 2**20, f"{grown / 2**20:.1f} MiB for {n} writes"
    assert grown < 2 * BYTES_PER_WRITE * n  # arrays over-allocate by at most about 1/8


def test_latency_percentiles_nearest_rank() -> None:
    values = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    random.Random(1).shuffle(values)
    p = percentiles(values, span_s=2.0)
    assert p is not None
    assert (p.writes, p.acked_per_s) == (100, 50.0)
    assert (p.p50_ms, p.p95_ms, p.p99_ms, p.max_ms) == (50.0, 95.0, 99.0, 100.0)
    assert percentiles([], span_s=1.0) is None
    assert percentile([3.0], 99) == 3.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_latencies_select_window_status_and_target() -> None:
    log = AckLog()
    for i, (status, target) in enumerate(
        [
            (WriteStatus.OK, "a"),
            (WriteStatus.FAILED, "a"),
            (WriteStatus.OK, "b"),
            (WriteStatus.OK, "a"),
        ]
    ):
        seq, _, wall = log.next_seq()
        log.add(
            seq,
            status,
            issued_mono=float(i),
            done_mono=i + 0.1 * (i + 1),
            issued_wall=wall,
            target=target,
        )
    assert [round(x, 3) for x in log.latencies()] == [0.1, 0.3, 0.4]
    assert [round(x, 3) for x in log.latencies(ok_only=False, issued_to=2.0)] == [0.1, 0.2]
    assert [round(x, 3) for x in log.latencies(issued_from=1.0, target="a")] == [0.4]
    assert list(log.latencies(target="nowhere")) == []
