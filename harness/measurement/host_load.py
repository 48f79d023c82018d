"""The host's load while a drill ran: an RTO measured on a saturated host is flagged.

Timings taken while the host's CPUs were oversubscribed (parallel drills, a busy CI runner)
measure the host as much as the recovery: four parallel drills on 2 cores raise the
quickstart's RTO about threefold. Two signals are journaled:

- the CPU pressure stall (Linux PSI, ``/proc/pressure/cpu``, "some" line): the share of the
  drill's wall time during which at least one runnable task waited for a CPU, measured over
  exactly the drill's window. Where the kernel offers it, the drill is flagged *saturated*
  when that share reaches ``STALL_SATURATED`` (half the drill spent with work queued for a
  core; an otherwise idle shared 2-core host measured about 0.12);
- the 1-minute load average (``os.getloadavg``), sampled every ``interval_s``, against the CPUs
  the process may use (``os.sched_getaffinity``). Without PSI the drill is flagged when the
  peak exceeds the CPUs. The average trails the real load by tens of seconds (a drill that
  follows a busy minute inherits it), which is why PSI decides where it exists.

Either way the flag is a warning about the figures, not a measurement.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from harness.record import HostLoad

SAMPLE_INTERVAL_S = 1.0
STALL_SATURATED = 0.5
PSI_CPU = Path("/proc/pressure/cpu")


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


def cpu_stall_us(path: Path = PSI_CPU) -> int | None:
    """Microseconds some task has waited for a CPU since boot (PSI "some total"), or None."""
    try:
        text = path.read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("some "):
            for field in line.split():
                if field.startswith("total="):
                    return int(field.removeprefix("total="))
    return None


def saturated(max_load: float | None, cpus: int, stall_share: float | None = None) -> bool:
    """True when runnable work waited for a core: by PSI's stall share where measured, else
    by the load average's peak above the CPUs."""
    if stall_share is not None:
        return stall_share >= STALL_SATURATED
    return max_load is not None and max_load > cpus


def summarize(
    samples: list[float], cpus: int, *, jobs: int = 1, stall_share: float | None = None
) -> HostLoad:
    """The journal's record of the host's load from the samples taken during a drill."""
    share = None if stall_share is None else round(min(max(stall_share, 0.0), 1.0), 3)
    engine = os.environ.get("DOCKER_HOST") or None  # the Docker engine the drill ran on
    if not samples:
        return HostLoad(
            cpus=cpus,
            jobs=jobs,
            cpu_stall_share=share,
            saturated=saturated(None, cpus, share),
            docker_host=engine,
        )
    peak = max(samples)
    return HostLoad(
        cpus=cpus,
        jobs=jobs,
        load_1m_start=round(samples[0], 2),
        load_1m_max=round(peak, 2),
        load_1m_mean=round(sum(samples) / len(samples), 2),
        samples=len(samples),
        cpu_stall_share=share,
        saturated=saturated(peak, cpus, share),
        docker_host=engine,
    )


@dataclass
class HostLoadSampler:
    """Samples the load average in a daemon thread between ``start()`` and ``stop()``."""

    jobs: int = 1
    interval_s: float = SAMPLE_INTERVAL_S

    def __post_init__(self) -> None:
        self.cpus = cpu_count()
        self.samples: list[float] = []
        self._stall: tuple[int, float] | None = None  # PSI total and monotonic time at start
        self._stall_share: float | None = None
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
        stall = cpu_stall_us()
        self._stall = None if stall is None else (stall, time.monotonic())
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
            stall = cpu_stall_us()
            if self._stall is not None and stall is not None:
                elapsed_us = (time.monotonic() - self._stall[1]) * 1e6
                if elapsed_us > 0:
                    self._stall_share = (stall - self._stall[0]) / elapsed_us
        return self.summary()

    def summary(self) -> HostLoad:
        return summarize(
            list(self.samples), self.cpus, jobs=self.jobs, stall_share=self._stall_share
        )
