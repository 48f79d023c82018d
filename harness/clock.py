"""The two clocks: monotonic for every duration, UTC wall time for reports."""

from __future__ import annotations

import datetime as dt
import time

MONOTONIC_RESOLUTION_S = time.get_clock_info("monotonic").resolution


def iso_utc(epoch_s: float) -> str:
    """Wall time as ISO 8601 UTC with milliseconds."""
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).isoformat(timespec="milliseconds")


def clock_facts(*, probe_interval_s: float) -> dict[str, object]:
    """What the journal says about how time was measured."""
    return {
        "durations": "time.monotonic",
        "monotonic_resolution_s": MONOTONIC_RESOLUTION_S,
        "wall": "UTC (time.time), for reports only",
        "probe_interval_s": probe_interval_s,
        "rto_uncertainty_s": probe_interval_s,
    }
