"""The host's load while a drill ran: an RTO measured on a saturated host is flagged.

Timings taken while the host's CPUs were oversubscribed (parallel drills, a busy CI runner)
measure the host as much as the recovery: four parallel drills on 2 cores raise the
quickstart's RTO about threefold. A sampler thread reads the 1-minute load average
(``os.getloadavg``) every ``interval_s`` for the drill's whole run; the drill is flagged
*saturated* when the highest sample exceeds the number of CPUs the process may use
(``os.sched_getaffinity``, else ``os.cpu_count``). The 1-minute average trails the real
load by tens of seconds, so the flag is a warning about the figures, not a measurement.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from harness.record import HostLoad

SAMPLE_INTERVAL_S = 1.0


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def load_1m() -> float | None:
    """The 1-minute load average, or None where the platform has none."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def saturated(max_load: float | None, cpus: int) -> bool:
    """True when the load exceeded the CPUs: runnable work waited for a core."""
    return max_load is not None and max_load > cpus


def summarize(samples: list[float], cpus: int, *, jobs: int = 1) -> HostLoad:
    """The journal's record of the host's load from the samples taken during a drill."""
    if not samples:
        return HostLoad(cpus=cpus, jobs=jobs)
    peak = max(samples)
    return HostLoad(
        cpus=cpus,
        jobs=jobs,
        load_1m_start=round(samples[0], 2),
        load_1m_max=round(peak, 2),
        load_1m_mean=round(sum(samples) / len(samples), 2),
        samples=len(samples),
        saturated=saturated(peak, cpus),
    )


@dataclass
class HostLoadSampler:
    """Samples the load average in a daemon thread between ``start()`` and ``stop()``."""

    jobs: int = 1
    interval_s: float = SAMPLE_INTERVAL_S

    def __post_init__(self) -> None:
        self.cpus = cpu_count()
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        value = load_1m()
        if value is not None:
            self.samples.append(value)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def start(self) -> HostLoadSampler:
        self._sample()
        self._thread = threading.Thread(target=self._loop, name="host-load", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> HostLoad:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=self.interval_s * 2)
            self._thread = None
            self._sample()
        return self.summary()

    def summary(self) -> HostLoad:
        return summarize(list(self.samples), self.cpus, jobs=self.jobs)
