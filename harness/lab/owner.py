"""Which process owns a run's resources, and whether it is still alive.

The owner is the host name, the process id and the process's start time (field 22 of
``/proc/<pid>/stat``, clock ticks since boot): a pid that is alive but started at another time
is a reused pid, and its run is dead. ``liveness`` is the pure decision; ``probe_process`` reads
``/proc`` for it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from harness.lab.labels import HOST_LABEL, PID_LABEL, PID_START_LABEL

PROC = Path("/proc")


@dataclass(frozen=True)
class Owner:
    """The process that created a run's resources."""

    host: str
    pid: int
    start_ticks: int | None  # None where /proc is not available

    def labels(self) -> dict[str, str]:
        """The owner as resource labels."""
        labels = {HOST_LABEL: self.host, PID_LABEL: str(self.pid)}
        if self.start_ticks is not None:
            labels[PID_START_LABEL] = str(self.start_ticks)
        return labels

    @classmethod
    def from_labels(cls, labels: Mapping[str, str]) -> Owner | None:
        """The owner a resource's labels name; None when they name none (or not clearly)."""
        host, pid, start = (labels.get(k) for k in (HOST_LABEL, PID_LABEL, PID_START_LABEL))
        if not host or not pid or not pid.isdigit():
            return None
        return cls(host, int(pid), int(start) if start and start.isdigit() else None)


@dataclass(frozen=True)
class ProcessSeen:
    """A process found under a pid: its start time, and whether it runs recovery-drill."""

    start_ticks: int | None
    is_recovery_drill: bool


class Liveness(StrEnum):
    """Whether a run's owner is alive, as far as this host can tell."""

    ALIVE = "alive"
    DEAD = "dead"
    OTHER_HOST = "other host"
    UNKNOWN = "no owner labels"


def liveness(
    owner: Owner | None, *, host: str, probe: Callable[[int], ProcessSeen | None]
) -> Liveness:
    """Decide whether ``owner`` is alive; ``probe`` says what runs under a pid on this host."""
    if owner is None:
        return Liveness.UNKNOWN
    if owner.host != host:
        return Liveness.OTHER_HOST
    seen = probe(owner.pid)
    if seen is None:
        return Liveness.DEAD
    if owner.start_ticks is not None and seen.start_ticks is not None:
        # Same pid, another start time: the owner died and the pid was given out again.
        return Liveness.ALIVE if seen.start_ticks == owner.start_ticks else Liveness.DEAD
    return Liveness.ALIVE if seen.is_recovery_drill else Liveness.DEAD


def probe_process(pid: int) -> ProcessSeen | None:
    """What runs under ``pid`` here (None: no such process)."""
    if pid <= 0:
        return None
    try:
        stat = (PROC / str(pid) / "stat").read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError:
        return _probe_without_proc(pid)
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    start = int(fields[19]) if len(fields) > 19 and fields[19].isdigit() else None
    try:
        cmdline = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        cmdline = b""
    return ProcessSeen(start, b"recovery-drill" in cmdline or b"harness" in cmdline)


def _probe_without_proc(pid: int) -> ProcessSeen | None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # it exists, under another user
    return ProcessSeen(None, is_recovery_drill=True)  # nothing better known: assume alive


def host_name() -> str:
    """This host's name, as the owner label gives it."""
    return socket.gethostname()


def this_process() -> Owner:
    """The owner this process writes on what it creates."""
    return _owner_of(os.getpid())  # keyed by pid: a forked child is another owner


@cache
def _owner_of(pid: int) -> Owner:
    seen = probe_process(pid)
    return Owner(host_name(), pid, seen.start_ticks if seen else None)
