"""The exit-code decision (harness/exit_codes.py): every documented code, and the order of
severity when several drills run. Mutated by `make mutate`."""

from __future__ import annotations

import itertools

import pytest

from harness import exit_codes
from harness.errors import (
    ContainerGone,
    EngineUnavailable,
    HarnessError,
    InfrastructureError,
    InputError,
    SafetyError,
    ScenarioError,
)
from harness.exit_codes import error_exit, run_exit, worst
from harness.measurement.verdict import Verdict


def test_the_documented_numbers() -> None:
    assert (
        exit_codes.EXIT_OK,
        exit_codes.EXIT_FAIL,
        exit_codes.EXIT_INPUT,
        exit_codes.EXIT_INFRA,
        exit_codes.EXIT_INCONCLUSIVE,
        exit_codes.EXIT_INTERRUPTED,
    ) == (0, 1, 2, 3, 4, 130)


@pytest.mark.parametrize(
    ("verdict", "code"),
    [
        (Verdict.PASS, 0),
        (Verdict.FAIL, 1),
        (Verdict.INCONCLUSIVE, 4),
        (Verdict.ERROR, 3),
        (Verdict.UNRECOVERABLE, 0),
    ],
)
def test_one_drill(verdict: Verdict, code: int) -> None:
    assert run_exit([verdict]) == code
    assert run_exit([verdict], [0]) == code


def test_every_verdict_has_a_code() -> None:
    assert set(exit_codes.VERDICT_EXIT) == set(Verdict)


def test_no_drill_is_exit_0() -> None:
    assert run_exit([]) == 0
    assert worst([]) == 0


RANK = {3: 0, 1: 1, 4: 2, 0: 3}  # 3, then 1, then 4, then 0


@pytest.mark.parametrize("codes", list(itertools.product([0, 1, 3, 4], repeat=3)))
def test_worst_is_the_most_severe_of_any_combination(codes: tuple[int, ...]) -> None:
    expected = min(codes, key=RANK.__getitem__)
    assert worst(list(codes)) == expected
    assert worst(list(reversed(codes))) == expected


def test_a_failed_history_write_is_exit_3_even_when_every_drill_passed() -> None:
    assert run_exit([Verdict.PASS, Verdict.UNRECOVERABLE], [0, 3]) == 3
    assert run_exit([Verdict.FAIL], [3]) == 3
    assert run_exit([Verdict.INCONCLUSIVE], [0]) == 4
    assert run_exit([Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE]) == 1
    assert run_exit(iter([Verdict.PASS]), iter([0])) == 0


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (KeyboardInterrupt(), 130),
        (InputError("bad"), 2),
        (ScenarioError([]), 2),
        (InfrastructureError("no engine"), 3),
        (EngineUnavailable("no image"), 3),
        (ContainerGone("gone"), 3),
        (SafetyError("refused"), 3),
        (HarnessError("other"), 3),
        (RuntimeError("a bug"), 3),
    ],
)
def test_errors_at_the_entry_point(exc: BaseException, code: int) -> None:
    assert error_exit(exc) == code
