"""The two clocks: monotonic for every duration, UTC wall time for reports."""

from __future__ import annotations

import datetime as dt
import time

MONOTONIC_RESOLUTION_S = time.get_clock_info("monotonic").resolution
DURATIONS_CLOCK = "time.monotonic"
WALL_CLOCK = "UTC (time.time), for reports only"


def iso_utc(epoch_s: float) -> str:
    """Wall time as ISO 8601 UTC with milliseconds."""
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).isoformat(timespec="milliseconds")
