"""The acknowledgment log: every write the writer issued, streamed to the run folder as it
completes and kept in memory in compact columns.

On disk (``acks.jsonl`` in the run folder): one JSON line per write, in sequence order (seq,
status, issue time, latency, target, error). Writes of concurrent clients complete out of order;
a write waits in a small reorder buffer (at most one per client) until every smaller sequence
number is written, so the file reads like a single writer's log. Lines are flushed about every
``flush_every_s`` seconds and when the log is closed.

In memory: one fixed-size entry per write in typed arrays (status, issue and completion times
on the monotonic clock, issue wall time, target index): 26 bytes a write, about 26 MB for a
million writes. The error text goes to the file only. ``records()`` turns the columns back into
``WriteRecord``s one at a time for the measurement.
"""

from __future__ import annotations

import json
import threading
import time
from array import array
from collections.abc import Iterator
from io import TextIOWrapper
from pathlib import Path

from harness.clock import iso_utc
from harness.measurement.measure import WriteRecord, WriteStatus

_STATUSES = tuple(WriteStatus)
_CODE = {s: i for i, s in enumerate(_STATUSES)}
_OK = _CODE[WriteStatus.OK]
# Bytes per write in memory: status (1), target index (1), three doubles (24).
BYTES_PER_WRITE = 26


class AckLog:
    """The acknowledgment log of one writer; thread-safe. Sequence numbers are 1, 2, 3, ...
    handed out by ``next_seq`` and each must be completed once with ``add``."""

    def __init__(self, path: Path | None = None, *, flush_every_s: float = 1.0) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._status = array("b")
        self._target = array("B")
        self._issued_mono = array("d")
        self._done_mono = array("d")
        self._issued_wall = array("d")
        self._targets: list[str] = []
        self._target_index: dict[str, int] = {}
        self._counts = dict.fromkeys(WriteStatus, 0)
        self._last_acked = 0
        self._issued = 0  # sequence numbers handed out
        # Writes completed before some smaller sequence number: seq -> (row, line).
        self._pending: dict[int, tuple[tuple[int, int, float, float, float], str]] = {}
        self._file: TextIOWrapper | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("w", encoding="utf-8", buffering=1 << 16)
        self._flush_every_s = flush_every_s
        self._flushed_at = time.monotonic()

    # -- the writer's side -----------------------------------------------------------------
    def next_seq(self) -> tuple[int, float, float]:
        """The next sequence number with its issue time (monotonic, wall), read together
        under the log's lock: issue times grow with the sequence number."""
        with self._lock:
            self._issued += 1
            return self._issued, time.monotonic(), time.time()

    def add(
        self,
        seq: int,
        status: WriteStatus,
        *,
        issued_mono: float,
        done_mono: float,
        issued_wall: float,
        target: str,
        error: str = "",
    ) -> None:
        """Record the outcome of write ``seq`` (handed out by ``next_seq``)."""
        line = _line(seq, status, issued_mono, done_mono, issued_wall, target, error)
        with self._lock:
            index = self._target_index.get(target)
            if index is None:
                index = self._target_index[target] = len(self._targets)
                self._targets.append(target)
            row = (_CODE[status], index, issued_mono, done_mono, issued_wall)
            if seq != len(self._status) + 1:
                if seq <= len(self._status) or seq in self._pending:
                    raise ValueError(f"write {seq} logged twice")
                self._pending[seq] = (row, line)
                return
            self._append(seq, row, line)
            while (nxt := len(self._status) + 1) in self._pending:
                self._append(nxt, *self._pending.pop(nxt))
            now = time.monotonic()
            if self._file is not None and now - self._flushed_at >= self._flush_every_s:
                self._file.flush()
                self._flushed_at = now

    def _append(self, seq: int, row: tuple[int, int, float, float, float], line: str) -> None:
        code, index, issued_mono, done_mono, issued_wall = row
        self._status.append(code)
        self._target.append(index)
        self._issued_mono.append(issued_mono)
        self._done_mono.append(done_mono)
        self._issued_wall.append(issued_wall)
        self._counts[_STATUSES[code]] += 1
        if code == _OK:
            self._last_acked = seq
        if self._file is not None:
            self._file.write(line)

    def close(self) -> None:
        """Write what the reorder buffer still holds (a write never completed leaves a gap
        there: the writes after it are written all the same) and close the file."""
        with self._lock:
            for seq in sorted(self._pending):
                row, line = self._pending.pop(seq)
                while (gap := len(self._status) + 1) < seq:  # a client that never finished
                    issued = row[2]
                    lost = (_CODE[WriteStatus.UNKNOWN], row[1], issued, issued, row[4])
                    self._append(
                        gap,
                        lost,
                        _line(
                            gap,
                            WriteStatus.UNKNOWN,
                            issued,
                            issued,
                            row[4],
                            self._targets[row[1]],
                            "never completed",
                        ),
                    )
                self._append(seq, row, line)
            if self._file is not None:
                self._file.close()
                self._file = None

    def flush(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.flush()

    # -- readers ---------------------------------------------------------------------------
    def __len__(self) -> int:
        with self._lock:
            return len(self._status)

    def counts(self) -> dict[str, int]:
        """Writes logged so far by status."""
        with self._lock:
            return {s.value: n for s, n in self._counts.items()}

    def last_acked_seq(self) -> int:
        """The newest write acknowledged in sequence order (0 when none yet)."""
        with self._lock:
            return self._last_acked

    def acked_seqs(self) -> list[int]:
        """Sequence numbers acknowledged so far."""
        with self._lock:
            return [i + 1 for i, c in enumerate(self._status) if c == _OK]

    def records(self) -> AckRecords:
        """The writes logged so far, in sequence order: a view that yields one
        ``WriteRecord`` at a time and can be iterated more than once."""
        with self._lock:
            return AckRecords(self, len(self._status), tuple(self._targets))

    def latencies(
        self,
        *,
        ok_only: bool = True,
        issued_from: float | None = None,
        issued_to: float | None = None,
        target: str | None = None,
    ) -> array[float]:
        """Latencies (seconds) of the writes issued in [issued_from, issued_to) on the
        monotonic clock, acknowledged ones only unless ``ok_only`` is false."""
        with self._lock:
            n = len(self._status)
            want = self._target_index.get(target, -1) if target is not None else None
        out = array("d")
        lo = float("-inf") if issued_from is None else issued_from
        hi = float("inf") if issued_to is None else issued_to
        status, issued, done, tgt = self._status, self._issued_mono, self._done_mono, self._target
        for i in range(n):
            if ok_only and status[i] != _OK:
                continue
            if want is not None and tgt[i] != want:
                continue
            t = issued[i]
            if lo <= t < hi:
                out.append(done[i] - t)
        return out


class AckRecords:
    """The first ``n`` writes of an ``AckLog`` as ``WriteRecord``s, made one at a time."""

    def __init__(self, log: AckLog, n: int, targets: tuple[str, ...]) -> None:
        self._log, self._n, self._targets = log, n, targets

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[WriteRecord]:
        log, targets = self._log, self._targets
        status, target = log._status, log._target
        issued_mono, done_mono, issued_wall = log._issued_mono, log._done_mono, log._issued_wall
        for i in range(self._n):
            yield WriteRecord(
                seq=i + 1,
                status=_STATUSES[status[i]],
                issued_mono=issued_mono[i],
                done_mono=done_mono[i],
                issued_wall=issued_wall[i],
                target=targets[target[i]],
            )


def _line(
    seq: int,
    status: WriteStatus,
    issued_mono: float,
    done_mono: float,
    issued_wall: float,
    target: str,
    error: str,
) -> str:
    return (
        f'{{"seq": {seq}, "status": "{status.value}", "issued_at": "{iso_utc(issued_wall)}", '
        f'"latency_s": {round(done_mono - issued_mono, 5)}, "target": {json.dumps(target)}, '
        f'"error": {json.dumps(error)}}}\n'
    )
