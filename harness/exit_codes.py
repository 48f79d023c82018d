"""The exit codes of the command line, and how drill outcomes and errors map to them.

0 every drill met its expectations (including ``unrecoverable``: the drill proved, as
expected, that the data cannot come back); 1 a drill missed them; 2 invalid input or usage;
3 infrastructure failure; 4 inconclusive (a fault did not take effect); 130 interrupted
(Ctrl-C or SIGTERM). Several drills: the most severe code wins, in the order 3, 1, 4, 0.
Only ``harness/cli.py`` uses this module; it is kept apart so that `make mutate` can mutate
the whole decision quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.errors import InputError
from harness.measurement.verdict import Verdict

if TYPE_CHECKING:
    from collections.abc import Iterable

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_INFRA, EXIT_INCONCLUSIVE, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
VERDICT_EXIT = {
    Verdict.PASS: EXIT_OK,
    Verdict.FAIL: EXIT_FAIL,
    Verdict.INCONCLUSIVE: EXIT_INCONCLUSIVE,
    Verdict.ERROR: EXIT_INFRA,
    Verdict.UNRECOVERABLE: EXIT_OK,  # expected: the drill proved the data cannot come back
}
SEVERITY = [EXIT_INFRA, EXIT_FAIL, EXIT_INCONCLUSIVE, EXIT_OK]


def worst(codes: list[int]) -> int:
    """The most severe exit code of several drills (3, then 1, then 4, then 0)."""
    for code in SEVERITY:
        if code in codes:
            return code
    return EXIT_OK


def run_exit(verdicts: Iterable[Verdict], codes: Iterable[int] = ()) -> int:
    """The exit code of a `run`: the worst of its drills' verdicts and of the other steps'
    codes (a history that could not be written, a plan report that could not be written)."""
    return worst([VERDICT_EXIT[v] for v in verdicts] + list(codes))


def error_exit(exc: BaseException) -> int:
    """The exit code for an error that reached the entry point: 130 for an interruption,
    2 for bad input, 3 for anything else."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    return EXIT_INPUT if isinstance(exc, InputError) else EXIT_INFRA
