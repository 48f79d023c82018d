"""The writer: concurrent clients that keep inserting numbered rows and log every outcome.

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
from collections.abc import Callable
from typing import Any

from harness.engines.base import Endpoint, Engine
from harness.errors import first_line
from harness.measurement.acks import AckLog, AckRecords
from harness.measurement.measure import WriteStatus

log = logging.getLogger(__name__)

# One write on a connection: (connection, sequence number, client timestamp). The default is
# the engine's insert into the writer's own table.
WriteFn = Callable[[Any, int, dt.datetime], None]


class Writer:
    """Writes at ``rate_per_s`` in total, over ``clients`` connections, to the current target
    until stopped; every outcome goes to ``log`` (the acknowledgment log).

    The clients share one schedule: each takes the next free slot, so a client held up by a
    slow commit does not slow the others down. Each write is its own transaction on its
    client's connection; its sequence number and issue time are taken together under the log's
    lock just before it is sent, so sequence numbers are unique and grow with the issue time.
    The clients are threads: the drivers (psycopg, PyMySQL) release the GIL while they wait on
    the server, which is where a write spends its time.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        rate_per_s: float,
        clients: int = 1,
        log: AckLog | None = None,
        connect_timeout_s: float = 1.0,
        write: WriteFn | None = None,
    ) -> None:
        if clients < 1:
            raise ValueError(f"clients must be at least 1, not {clients}")
        self.engine = engine
        self.clients = clients
        self.interval_s = 1.0 / rate_per_s
        self.connect_timeout_s = connect_timeout_s
        self.log = log if log is not None else AckLog()
        self._write = write if write is not None else engine.insert_write
        self._lock = threading.Lock()
        self._target: tuple[str, Endpoint] | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._next_at = 0.0

    # -- control ---------------------------------------------------------------------------
    def retarget(self, name: str, endpoint: Endpoint) -> None:
        """Send the following writes to ``endpoint`` (named ``name`` in the log)."""
        with self._lock:
            self._target = (name, endpoint)

    def start(self) -> None:
        self._next_at = time.monotonic()
        for i in range(self.clients):
            thread = threading.Thread(target=self._run, name=f"drill-writer-{i + 1}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        """Stop every client (each finishes and logs the write it has in flight) and close
        the acknowledgment log's file."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        if not any(t.is_alive() for t in self._threads):
            self.log.close()
        else:
            self.log.flush()

    # -- results ---------------------------------------------------------------------------
    def records(self) -> AckRecords:
        """The writes logged so far, in sequence order (iterable more than once)."""
        return self.log.records()

    def counts(self) -> dict[str, int]:
        """Writes so far by status (for the progress display)."""
        return self.log.counts()

    def acked_seqs(self) -> list[int]:
        """Sequence numbers acknowledged so far."""
        return self.log.acked_seqs()

    def last_acked_seq(self) -> int:
        return self.log.last_acked_seq()

    # -- the clients -----------------------------------------------------------------------
    def _slot(self) -> float:
        """The next moment a write is due (a late client may catch up by one interval)."""
        with self._lock:
            slot = max(self._next_at, time.monotonic() - self.interval_s)
            self._next_at = slot + self.interval_s
            return slot

    def _run(self) -> None:
        conn: Any = None
        conn_for: Endpoint | None = None
        try:
            while not self._stop.is_set():
                with self._lock:
                    target = self._target
                if target is None:
                    self._stop.wait(self.interval_s)
                    continue
                if self._stop.wait(max(0.0, self._slot() - time.monotonic())):
                    break
                with self._lock:
                    target = self._target
                assert target is not None
                name, endpoint = target
                if conn is not None and conn_for != endpoint:
                    _close(conn)
                    conn = None
                conn = self._write_one(name, endpoint, conn)
                conn_for = endpoint
        finally:
            _close(conn)

    def _write_one(self, name: str, endpoint: Endpoint, conn: Any) -> Any:
        """One write, logged whatever happens; returns the connection to reuse (or None)."""
        seq, issued, issued_wall = self.log.next_seq()
        status, error = WriteStatus.UNKNOWN, "the client stopped mid-write"
        errors = self.engine.driver_errors()
        try:
            if conn is None:
                try:
                    conn = self.engine.connect(endpoint, timeout_s=self.connect_timeout_s)
                except errors as exc:
                    # Never sent: a definite failure.
                    status, error = WriteStatus.FAILED, _error(exc)
                    return None
            try:
                self._write(conn, seq, dt.datetime.fromtimestamp(issued_wall, dt.UTC))
            except errors as exc:
                definite = self.engine.is_definite_failure(exc)
                status = WriteStatus.FAILED if definite else WriteStatus.UNKNOWN
                error = _error(exc)
                _close(conn)
                return None
            status, error = WriteStatus.OK, ""
            return conn
        finally:
            self.log.add(
                seq,
                status,
                issued_mono=issued,
                done_mono=time.monotonic(),
                issued_wall=issued_wall,
                target=name,
                error=error,
            )


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {first_line(str(exc))}"


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
