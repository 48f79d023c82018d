"""Recovery targets: rounding a time target to an engine's resolution (pure logic; the drills
that replay to them are in tests/integration)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from harness.recovery.targets import recovery_target
from harness.scenario.model import PitrTarget


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
