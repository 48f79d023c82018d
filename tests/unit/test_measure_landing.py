"""Point-in-time recovery judged against its target from the acknowledgment log (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.measurement.measure import WriteRecord, WriteStatus, measure_landing

T0 = 1_700_000_000.0  # wall clock of the first write
STEP = 0.02  # one write every 20 ms
LATENCY = 0.005


def log(n: int) -> list[WriteRecord]:
    return [
        WriteRecord(
            seq=i,
            status=WriteStatus.OK,
            issued_mono=i * STEP,
            done_mono=i * STEP + LATENCY,
            issued_wall=T0 + i * STEP,
            target="primary",
        )
        for i in range(1, n + 1)
    ]


@given(cut=st.integers(min_value=5, max_value=95))
def test_stopping_exactly_at_the_target_lands_within_one_write(cut: int) -> None:
    records = log(100)
    target = T0 + cut * STEP + STEP / 2  # between write `cut` and write `cut + 1`
    landing = measure_landing(records, set(range(1, cut + 1)), target_wall=target, tolerance_s=1)
    assert landing.overshoot_writes == 0 and landing.undershoot_writes == 0
    assert landing.within_tolerance
    assert -STEP <= landing.error_s <= 0  # the newest surviving write finished just before


@given(cut=st.integers(min_value=5, max_value=80), extra=st.integers(min_value=1, max_value=15))
def test_replaying_past_the_target_is_an_overshoot(cut: int, extra: int) -> None:
    records = log(100)
    target = T0 + cut * STEP + STEP / 2
    landing = measure_landing(
        records, set(range(1, cut + extra + 1)), target_wall=target, tolerance_s=1
    )
    assert landing.overshoot_writes == extra
    assert not landing.within_tolerance  # never a pass, however small the overshoot
    assert landing.error_s == pytest.approx(
        (cut + extra) * STEP - (cut * STEP + STEP / 2), abs=1e-6
    )


@given(cut=st.integers(min_value=20, max_value=95), short=st.integers(min_value=1, max_value=15))
def test_ending_early_is_an_undershoot(cut: int, short: int) -> None:
    records = log(100)
    target = T0 + cut * STEP + STEP / 2
    landing = measure_landing(
        records, set(range(1, cut - short + 1)), target_wall=target, tolerance_s=1
    )
    assert landing.undershoot_writes == short
    assert not landing.within_tolerance
    assert landing.error_s < 0


def test_unacknowledged_writes_do_not_count_either_way() -> None:
    records = log(10)
    records[9] = WriteRecord(
        seq=10,
        status=WriteStatus.UNKNOWN,
        issued_mono=10 * STEP,
        done_mono=10 * STEP + 1,
        issued_wall=T0 + 10 * STEP,
        target="primary",
    )
    target = T0 + 9 * STEP + STEP / 2
    landing = measure_landing(records, set(range(1, 11)), target_wall=target, tolerance_s=1)
    assert landing.overshoot_writes == 0 and landing.within_tolerance
