"""Live progress of a drill: a rich display on a terminal, plain timestamped lines elsewhere."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Protocol, TextIO

from rich.console import Console
from rich.live import Live
from rich.text import Text

Counts = Callable[[], dict[str, int]]


class Progress(Protocol):
    """What the runner reports while a drill runs."""

    def begin(self, title: str) -> None: ...
    def phase(self, name: str) -> None: ...
    def watch(self, counts: Counts | None) -> None: ...
    def end(self) -> None: ...


class NullProgress:
    """Reports nothing (library use, tests)."""

    def begin(self, title: str) -> None: ...
    def phase(self, name: str) -> None: ...
    def watch(self, counts: Counts | None) -> None: ...
    def end(self) -> None: ...


class _Base:
    def __init__(self) -> None:
        self.title = ""
        self.current = ""
        self.started = time.monotonic()
        self.counts: Counts | None = None

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
    """One line per phase: readable in CI logs."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.stream = stream or sys.stderr

    def begin(self, title: str) -> None:
        self.title, self.started = title, time.monotonic()
        self._line(f"begin {title}")

    def phase(self, name: str) -> None:
        self.current = name
        writes = self._writes()
        self._line(name + (f" ({writes})" if writes else ""))

    def end(self) -> None:
        writes = self._writes()
        self._line("end" + (f" ({writes})" if writes else ""))

    def _line(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:7.2f}s] {self.title}: {text}", file=self.stream, flush=True)


class RichProgress(_Base):
    """A live status line: drill, phase, elapsed time, writes so far."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console
        self.live: Live | None = None

    def _render(self) -> Text:
        elapsed = time.monotonic() - self.started
        text = Text()
        text.append(f"{self.title} ", style="bold")
        text.append(f"{elapsed:6.1f}s ", style="cyan")
        text.append(self.current, style="yellow")
        writes = self._writes()
        if writes:
            text.append(f"  {writes}", style="dim")
        return text

    def begin(self, title: str) -> None:
        self.title, self.started, self.current = title, time.monotonic(), "starting"
        self.live = Live(
            get_renderable=self._render, console=self.console, refresh_per_second=8, transient=True
        )
        self.live.start()

    def phase(self, name: str) -> None:
        self.current = name
        elapsed = time.monotonic() - self.started
        self.console.log(f"[dim]{elapsed:6.2f}s[/dim] {name}")

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
