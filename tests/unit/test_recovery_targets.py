"""Recovery targets: rounding to an engine's time resolution, and the MariaDB delayed-replica
stopping point read from a relay-log listing (pure logic; the drills are in integration)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from harness.engines.mariadb import MariaDBEngine
from harness.recovery.restore import recovery_target
from harness.scenario.model import PitrTarget

# As `mariadb-binlog` prints a relay log (a tab before the event type).
LISTING = """\
#261121  7:34:39 server id 1  end_log_pos 785 CRC32 0x71647411 \tGTID 0-1-231 trans
#261121  7:34:39 server id 1  end_log_pos 964 CRC32 0x67bb5304 \tXid = 114
#261121  7:34:39 server id 1  end_log_pos 1006 CRC32 0x273f53bd \tGTID 0-1-232 trans
#261121  7:34:40 server id 1  end_log_pos 1227 CRC32 0x273f53be \tGTID 0-1-233 trans
#261121  7:34:41 server id 1  end_log_pos 1448 CRC32 0x273f53bf \tGTID 0-1-234 ddl
#700101  0:00:00 server id 1  end_log_pos 743 CRC32 0x5a0ed866 \tGtid list [0-1-2]
"""


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def test_last_gtid_before_takes_the_last_transaction_stamped_before_the_target() -> None:
    last = MariaDBEngine.last_gtid_before
    assert last(LISTING, at("2026-11-21 07:34:41")) == "0-1-233"
    # Events stamped in the target's own second are at or after it: not applied.
    assert last(LISTING, at("2026-11-21 07:34:40")) == "0-1-232"
    assert last(LISTING, at("2026-11-21 07:34:39")) is None
    assert last(LISTING, at("2026-11-21 08:00:00")) == "0-1-234"
    assert last("", at("2026-11-21 08:00:00")) is None


@given(st.floats(min_value=1.7e9, max_value=1.8e9, allow_nan=False))
def test_whole_second_engines_round_a_time_target_down(incident: float) -> None:
    target, wall = recovery_target(
        PitrTarget(before_fault=True), incident_wall=incident, resolution_s=1.0
    )
    assert wall is not None and wall == int(incident) and wall <= incident
    assert target.time is not None and dt.datetime.fromisoformat(target.time).microsecond == 0


@given(st.floats(min_value=1.7e9, max_value=1.8e9, allow_nan=False))
def test_microsecond_engines_keep_the_target(incident: float) -> None:
    _, wall = recovery_target(PitrTarget(before_fault=True, offset_s=-0.25), incident_wall=incident)
    assert wall == incident - 0.25
