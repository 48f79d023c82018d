"""The progress display when output is not a terminal: plain lines, a heartbeat, plan position."""

from __future__ import annotations

import io
import re
import time

from rich.console import Console

from harness.progress import NullProgress, PlainProgress, RichProgress, make_progress


def test_plain_lines_carry_elapsed_time_position_phase_and_writes() -> None:
    stream = io.StringIO()
    p = PlainProgress(stream, heartbeat_s=0)
    p.position(2, 3)
    p.begin("quickstart on postgres")
    p.phase("seeding")
    counts = {"ok": 7, "failed": 1, "unknown": 0}
    p.watch(lambda: counts)
    p.phase("restoring nightly")
    p.end()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4
    assert all(
        re.match(r"\[\s*\d+\.\d\ds\] \[2/3\] quickstart on postgres: ", line) for line in lines
    )
    assert lines[1].endswith(": seeding")
    assert lines[2].endswith("restoring nightly (writes acked 7, failed 1, unknown 0)")
    assert "\x1b[" not in stream.getvalue()  # no terminal control codes in CI logs


def test_a_single_drill_shows_no_position() -> None:
    stream = io.StringIO()
    p = PlainProgress(stream, heartbeat_s=0)
    p.position(1, 1)
    p.begin("x")
    p.end()
    assert "[1/1]" not in stream.getvalue()


def test_a_long_phase_prints_heartbeats_and_they_stop_at_the_end() -> None:
    stream = io.StringIO()
    p = PlainProgress(stream, heartbeat_s=0.2)
    p.begin("drill")
    p.phase("restoring")
    time.sleep(1.5)
    p.end()
    time.sleep(1.2)
    lines = stream.getvalue().splitlines()
    beats = [line for line in lines if "still restoring after" in line]
    assert beats, lines
    assert lines[-1].endswith(": end")  # nothing after the end


def test_writes_of_the_previous_drill_are_not_shown_for_the_next() -> None:
    stream = io.StringIO()
    p = PlainProgress(stream, heartbeat_s=0)
    p.begin("one")
    p.watch(lambda: {"ok": 5})
    p.end()
    p.begin("two")
    p.phase("starting the primary server")
    assert stream.getvalue().splitlines()[-1].endswith(": starting the primary server")


def test_make_progress_picks_by_terminal() -> None:
    assert isinstance(make_progress(Console(file=io.StringIO()), quiet=True), NullProgress)
    assert isinstance(make_progress(Console(file=io.StringIO())), PlainProgress)
    assert isinstance(make_progress(Console(file=io.StringIO(), force_terminal=True)), RichProgress)


def test_the_rich_status_line_has_phase_elapsed_and_writes() -> None:
    p = RichProgress(Console(file=io.StringIO(), force_terminal=True))
    p.position(1, 2)
    p.begin("kill-restart on postgres")
    p.phase("recovering")
    p.watch(lambda: {"ok": 42})
    text = p._render().plain
    p.end()
    assert text.startswith("[1/2] kill-restart on postgres")
    assert "recovering" in text and "writes acked 42" in text
