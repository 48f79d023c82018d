"""The writer: a thread that keeps inserting numbered rows and logs every outcome.

Each write carries a sequence number and the client's timestamp. Its outcome is ``ok`` when
the commit was acknowledged, ``failed`` when it definitely did not apply (no connection could
be made, or the server rejected it), and ``unknown`` when the connection broke mid-statement.
The runner can point the writer at another server (the recovered one) at any time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from typing import Any

from harness.engines.base import Endpoint, Engine
from harness.errors import first_line
from harness.measurement.measure import WriteRecord, WriteStatus

log = logging.getLogger(__name__)


class Writer:
    """Writes at ``rate_per_s`` to the current target until stopped."""

    def __init__(
        self, engine: Engine, *, rate_per_s: float, connect_timeout_s: float = 1.0
    ) -> None:
        self.engine = engine
        self.interval_s = 1.0 / rate_per_s
        self.connect_timeout_s = connect_timeout_s
        self._records: list[WriteRecord] = []
        self._lock = threading.Lock()
        self._target: tuple[str, Endpoint] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seq = 0

    # -- control ---------------------------------------------------------------------------
    def retarget(self, name: str, endpoint: Endpoint) -> None:
        """Send the following writes to ``endpoint`` (named ``name`` in the log)."""
        with self._lock:
            self._target = (name, endpoint)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="drill-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    # -- results ---------------------------------------------------------------------------
    def records(self) -> list[WriteRecord]:
        with self._lock:
            return list(self._records)

    def counts(self) -> dict[str, int]:
        """Writes so far by status (for the progress display)."""
        with self._lock:
            out = {s.value: 0 for s in WriteStatus}
            for r in self._records:
                out[r.status.value] += 1
            return out

    def acked_seqs(self) -> list[int]:
        """Sequence numbers acknowledged so far."""
        with self._lock:
            return [r.seq for r in self._records if r.status is WriteStatus.OK]

    def last_acked_seq(self) -> int:
        with self._lock:
            return max((r.seq for r in self._records if r.status is WriteStatus.OK), default=0)

    # -- the loop --------------------------------------------------------------------------
    def _run(self) -> None:
        conn: Any = None
        conn_for: Endpoint | None = None
        next_at = time.monotonic()
        try:
            while not self._stop.is_set():
                with self._lock:
                    target = self._target
                if target is None:
                    time.sleep(self.interval_s)
                    continue
                name, endpoint = target
                if conn is not None and conn_for != endpoint:
                    _close(conn)
                    conn = None
                self._seq += 1
                record, conn = self._write_one(self._seq, name, endpoint, conn)
                conn_for = endpoint
                with self._lock:
                    self._records.append(record)
                next_at = max(next_at + self.interval_s, time.monotonic() - self.interval_s)
                self._stop.wait(max(0.0, next_at - time.monotonic()))
        finally:
            _close(conn)

    def _write_one(
        self, seq: int, name: str, endpoint: Endpoint, conn: Any
    ) -> tuple[WriteRecord, Any]:
        issued_wall = time.time()
        issued = time.monotonic()
        errors = self.engine.driver_errors()
        if conn is None:
            try:
                conn = self.engine.connect(endpoint, timeout_s=self.connect_timeout_s)
            except errors as exc:
                # Never sent: a definite failure.
                return self._record(seq, WriteStatus.FAILED, issued, issued_wall, name, exc), None
        try:
            self.engine.insert_write(conn, seq, dt.datetime.fromtimestamp(issued_wall, dt.UTC))
        except errors as exc:
            status = (
                WriteStatus.FAILED if self.engine.is_definite_failure(exc) else WriteStatus.UNKNOWN
            )
            _close(conn)
            return self._record(seq, status, issued, issued_wall, name, exc), None
        return self._record(seq, WriteStatus.OK, issued, issued_wall, name, None), conn

    @staticmethod
    def _record(
        seq: int,
        status: WriteStatus,
        issued: float,
        issued_wall: float,
        name: str,
        exc: BaseException | None,
    ) -> WriteRecord:
        error = f"{type(exc).__name__}: {first_line(str(exc))}" if exc else ""
        return WriteRecord(
            seq=seq,
            status=status,
            issued_mono=issued,
            done_mono=time.monotonic(),
            issued_wall=issued_wall,
            target=name,
            error=error,
        )


def _close(conn: Any) -> None:
    if conn is not None:
        with contextlib.suppress(Exception):
            conn.close()


class Reader:
    """An old system that keeps reading one table; counts reads that worked and that failed."""

    def __init__(
        self, engine: Engine, endpoint: Endpoint, *, table: str, rate_per_s: float = 5.0
    ) -> None:
        self.engine = engine
        self.endpoint = endpoint
        self.table = table
        self.interval_s = 1.0 / rate_per_s
        self.ok = 0
        self.failed = 0
        self.first_failure_mono: float | None = None
        self.first_error = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drill-old-reader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        errors = self.engine.driver_errors()
        while not self._stop.wait(self.interval_s):
            try:
                conn = self.engine.connect(self.endpoint, timeout_s=1)
                try:
                    self.engine.count_rows(conn, self.table)
                finally:
                    _close(conn)
                self.ok += 1
            except errors as exc:
                self.failed += 1
                if self.first_failure_mono is None:
                    self.first_failure_mono = time.monotonic()
                    self.first_error = first_line(str(exc), limit=200)
