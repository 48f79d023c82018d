"""The one polling primitive: call a probe until it succeeds or a deadline passes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from harness.errors import CommandTimeout

T = TypeVar("T")


def poll_until(
    probe: Callable[[], T | None],
    *,
    what: str,
    timeout_s: float,
    retry_on: tuple[type[BaseException], ...],
    interval_s: float = 0.2,
    hint: str = "",
    stop_on: tuple[type[BaseException], ...] = (),
) -> T:
    """Call ``probe`` every ``interval_s`` until it returns a value other than None.

    An exception from the probe of a type in ``retry_on`` counts as "not yet" (the last one is
    quoted if the deadline passes); those in ``stop_on``, and any other, end the wait at once.
    Raises CommandTimeout naming what was waited for.
    """
    deadline = time.monotonic() + timeout_s
    last = ""
    while True:
        started = time.monotonic()
        try:
            result = probe()
            if result is not None:
                return result
        except stop_on:
            raise
        except retry_on as exc:  # the probe failing the expected way is the "not yet" case
            last = f"{type(exc).__name__}: {exc}"
        if started >= deadline:
            raise CommandTimeout(what, timeout_s=timeout_s, last_output=last, hint=hint)
        time.sleep(max(0.0, min(interval_s, deadline - time.monotonic())))
