"""poll_until: the one polling primitive, with a deadline and evidence when it passes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from harness.errors import CommandTimeout, InfrastructureError
from harness.polling import poll_until

TICK_S = 0.001


def scripted(*outcomes: object) -> tuple[Callable[[], object], list[int]]:
    """A probe giving ``outcomes`` in turn (exceptions are raised), then the last one again."""
    calls: list[int] = []
    script: Iterator[object] = iter(outcomes)
    last: list[object] = [None]

    def probe() -> object:
        calls.append(1)
        last[0] = next(script, last[0])
        if isinstance(last[0], BaseException):
            raise last[0]
        return last[0]

    return probe, calls


def test_returns_the_first_value_that_is_not_none() -> None:
    probe, calls = scripted(None, None, "ready", "later")
    assert poll_until(probe, what="x", timeout_s=5, interval_s=TICK_S, retry_on=()) == "ready"
    assert len(calls) == 3


@pytest.mark.parametrize("falsy", [0, False, "", []])
def test_a_falsy_value_is_still_a_result(falsy: object) -> None:
    probe, calls = scripted(None, falsy)
    assert poll_until(probe, what="x", timeout_s=5, interval_s=TICK_S, retry_on=()) == falsy
    assert len(calls) == 2


def test_exceptions_mean_not_yet() -> None:
    probe, calls = scripted(ConnectionError("refused"), OSError("reset"), None, 42)
    assert (
        poll_until(
            probe, what="x", timeout_s=5, interval_s=TICK_S, retry_on=(ConnectionError, OSError)
        )
        == 42
    )
    assert len(calls) == 4


def test_deadline_raises_command_timeout_with_the_last_error() -> None:
    calls = 0

    def probe() -> None:
        nonlocal calls
        calls += 1
        raise ValueError(f"boom {calls}")

    started = time.monotonic()
    with pytest.raises(CommandTimeout) as caught:
        poll_until(
            probe,
            what="the probe table",
            timeout_s=0.05,
            interval_s=0.005,
            hint="check it",
            retry_on=(ValueError,),
        )
    elapsed = time.monotonic() - started
    error = caught.value
    assert isinstance(error, InfrastructureError)
    assert calls >= 2
    assert error.what == "the probe table"
    assert error.timeout_s == 0.05
    assert error.last_output == f"ValueError: boom {calls}"
    message = str(error)
    assert "waiting for the probe table" in message
    assert f"ValueError: boom {calls}" in message
    assert "hint: check it" in message
    assert 0.05 <= elapsed < 2


def test_deadline_without_errors_has_no_last_output() -> None:
    probe, calls = scripted(None)
    with pytest.raises(CommandTimeout) as caught:
        poll_until(probe, what="nothing", timeout_s=0.02, interval_s=TICK_S, retry_on=())
    assert caught.value.last_output == ""
    assert "last output" not in str(caught.value)
    assert len(calls) >= 2


def test_the_last_error_is_quoted_even_after_a_later_none() -> None:
    probe, _ = scripted(RuntimeError("first"), RuntimeError("second"), None)
    with pytest.raises(CommandTimeout) as caught:
        poll_until(probe, what="x", timeout_s=0.02, interval_s=TICK_S, retry_on=(RuntimeError,))
    assert caught.value.last_output == "RuntimeError: second"


def test_zero_timeout_still_probes_once() -> None:
    probe, calls = scripted("at once")
    assert poll_until(probe, what="x", timeout_s=0, interval_s=1, retry_on=()) == "at once"
    assert len(calls) == 1


def test_does_not_sleep_past_the_deadline() -> None:
    probe, _ = scripted(None)
    started = time.monotonic()
    with pytest.raises(CommandTimeout):
        poll_until(probe, what="x", timeout_s=0.05, interval_s=10, retry_on=())
    assert time.monotonic() - started < 1


def test_an_error_it_was_not_told_to_retry_ends_the_wait() -> None:
    probe, calls = scripted(TypeError("a bug, not a slow server"), "never reached")
    with pytest.raises(TypeError):
        poll_until(probe, what="x", timeout_s=5, interval_s=TICK_S, retry_on=(ConnectionError,))
    assert len(calls) == 1


def test_stop_on_wins_over_retry_on() -> None:
    probe, calls = scripted(ConnectionAbortedError("gone"), "never reached")
    with pytest.raises(ConnectionAbortedError):
        poll_until(
            probe,
            what="x",
            timeout_s=5,
            interval_s=TICK_S,
            retry_on=(OSError,),
            stop_on=(ConnectionAbortedError,),
        )
    assert len(calls) == 1
