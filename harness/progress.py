"""Live progress of drills: a rich display on a terminal, plain timestamped lines elsewhere.

On a terminal one status line shows the drill (and its place in a plan), the phase, the time
in the drill and in the phase, and the writes acknowledged so far. In CI logs every phase is
one line, and a long phase prints a heartbeat line now and then, so a slow restore never looks
like a hang.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Protocol, TextIO

from rich.console import Console
from rich.live import Live
from rich.text import Text

Counts = Callable[[], dict[str, int]]
HEARTBEAT_S = 15.0


class Progress(Protocol):
    """What the runner (and the CLI, for plans) reports while drills run."""

    def position(self, index: int, total: int) -> None: ...
    def begin(self, title: str) -> None: ...
    def phase(self, name: str) -> None: ...
    def watch(self, counts: Counts | None) -> None: ...
    def end(self) -> None: ...


class NullProgress:
    """Reports nothing (library use, tests)."""

    def position(self, index: int, total: int) -> None: ...
    def begin(self, title: str) -> None: ...
    def phase(self, name: str) -> None: ...
    def watch(self, counts: Counts | None) -> None: ...
    def end(self) -> None: ...


class _Base:
    def __init__(self) -> None:
        self.title = ""
        self.current = ""
        self.started = time.monotonic()
        self.phase_started = self.started
        self.counts: Counts | None = None
        self.place = ""

    def position(self, index: int, total: int) -> None:
        """The next drill is number ``index`` (from 1) of ``total``."""
        self.place = f"[{index}/{total}] " if total > 1 else ""

    def watch(self, counts: Counts | None) -> None:
        self.counts = counts

    def _writes(self) -> str:
        if self.counts is None:
            return ""
        c = self.counts()
        return (
            f"writes acked {c.get('ok', 0)}, failed {c.get('failed', 0)}, "
            f"unknown {c.get('unknown', 0)}"
        )


class PlainProgress(_Base):
    """One line per phase, plus a heartbeat during long phases: readable in CI logs."""

    def __init__(self, stream: TextIO | None = None, *, heartbeat_s: float = HEARTBEAT_S) -> None:
        super().__init__()
        self.stream = stream or sys.stderr
        self.heartbeat_s = heartbeat_s
        self._lock = threading.Lock()
        self._last_line = time.monotonic()
        self._stop: threading.Event | None = None

    def begin(self, title: str) -> None:
        self.title, self.started, self.current = title, time.monotonic(), "starting"
        self.phase_started = self.started
        self.counts = None
        self._line(f"begin {title}")
        if self.heartbeat_s > 0:
            self._stop = threading.Event()
            threading.Thread(
                target=self._beat, args=(self._stop,), name="progress-heartbeat", daemon=True
            ).start()

    def phase(self, name: str) -> None:
        self.current, self.phase_started = name, time.monotonic()
        writes = self._writes()
        self._line(name + (f" ({writes})" if writes else ""))

    def end(self) -> None:
        if self._stop is not None:
            self._stop.set()
            self._stop = None
        writes = self._writes()
        self._line("end" + (f" ({writes})" if writes else ""))

    def _beat(self, stop: threading.Event) -> None:
        while not stop.wait(min(1.0, self.heartbeat_s)):
            if time.monotonic() - self._last_line >= self.heartbeat_s:
                in_phase = time.monotonic() - self.phase_started
                writes = self._writes()
                self._line(
                    f"still {self.current} after {in_phase:.0f} s"
                    + (f" ({writes})" if writes else "")
                )

    def _line(self, text: str) -> None:
        with self._lock:
            elapsed = time.monotonic() - self.started
            print(
                f"[{elapsed:7.2f}s] {self.place}{self.title}: {text}", file=self.stream, flush=True
            )
            self._last_line = time.monotonic()


class RichProgress(_Base):
    """A live status line: drill, phase, elapsed time, writes so far."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console
        self.live: Live | None = None

    def _render(self) -> Text:
        now = time.monotonic()
        text = Text()
        if self.place:
            text.append(self.place, style="bold magenta")
        text.append(f"{self.title} ", style="bold")
        text.append(f"{now - self.started:6.1f}s ", style="cyan")
        text.append(self.current, style="yellow")
        text.append(f" ({now - self.phase_started:.0f}s)", style="dim yellow")
        writes = self._writes()
        if writes:
            text.append(f"  {writes}", style="dim")
        return text

    def begin(self, title: str) -> None:
        self.title, self.started, self.current = title, time.monotonic(), "starting"
        self.phase_started = self.started
        self.counts = None
        self.live = Live(
            get_renderable=self._render, console=self.console, refresh_per_second=8, transient=True
        )
        self.live.start()

    def phase(self, name: str) -> None:
        self.current, self.phase_started = name, time.monotonic()
        elapsed = self.phase_started - self.started
        self.console.log(f"[dim]{elapsed:6.2f}s[/dim] {self.place}{name}", highlight=False)

    def end(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


def make_progress(console: Console, *, quiet: bool = False) -> Progress:
    """Rich on a terminal, plain lines otherwise, nothing when quiet."""
    if quiet:
        return NullProgress()
    if console.is_terminal:
        return RichProgress(console)
    return PlainProgress()
