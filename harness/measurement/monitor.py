"""A background sampler of the primary's log archiving and replication lag during a drill."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from harness.engines.base import Engine
from harness.engines.collaborators import archive_of, replication_of
from harness.errors import first_line
from harness.record import Lag

log = logging.getLogger(__name__)

# How long stop() waits for a sample in flight (a connect or a query) to end.
STOP_TIMEOUT_S = 10


class LagMonitor:
    """Samples archive and replication status every ``interval_s`` until stopped."""

    def __init__(
        self,
        engine: Engine,
        connect: Callable[[], Any],
        *,
        t0: float,
        archive: bool,
        replicas: bool,
        interval_s: float = 1.0,
    ) -> None:
        self.engine = engine
        self.connect = connect
        self.t0 = t0
        self.archive = archive
        self.replicas = replicas
        self.interval_s = interval_s
        self.samples: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drill-lag-monitor", daemon=True)

    def start(self) -> LagMonitor:
        if self.archive or self.replicas:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_TIMEOUT_S)

    def sample(self) -> None:
        """Take one sample now (errors are recorded, not raised: the primary may be down)."""
        if not (self.archive or self.replicas):
            return  # nothing to sample: do not even connect
        entry: dict[str, Any] = {"at_s": round(time.monotonic() - self.t0, 3)}
        try:
            conn = self.connect()
        except Exception as exc:
            entry["error"] = first_line(str(exc), limit=160) or "down"
            self.samples.append(entry)
            return
        try:
            if self.archive:
                entry["archive"] = archive_of(self.engine).status(conn)
            if self.replicas:
                entry["replication"] = replication_of(self.engine).status(conn)
        except Exception as exc:
            entry["error"] = first_line(exc, limit=160)
        finally:
            with contextlib.suppress(Exception):
                conn.close()
        self.samples.append(entry)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def summary(self) -> Lag:
        """Maxima and the samples themselves, for the drill record."""
        archive_lags = [
            s["archive"]["lag_bytes"]
            for s in self.samples
            if s.get("archive") and s["archive"].get("lag_bytes") is not None
        ]
        replica_lags: dict[str, int] = {}
        for s in self.samples:
            for name, status in (s.get("replication") or {}).items():
                lag = status.get("replay_lag_bytes")
                if lag is not None:
                    replica_lags[name] = max(replica_lags.get(name, 0), int(lag))
        return Lag(
            interval_s=self.interval_s,
            max_archive_lag_bytes=max(archive_lags, default=None),
            max_replay_lag_bytes=replica_lags,
            archive_failures=max(
                (s["archive"]["failed_count"] for s in self.samples if s.get("archive")), default=0
            ),
            samples=tuple(self.samples),
        )
