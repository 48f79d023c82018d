"""first_line: the one way an error is quoted in a record; it never raises."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import CommandTimeout, first_line


@pytest.mark.parametrize(
    ("given_", "expected"),
    [
        (ValueError("boom\nsecond line"), "boom"),
        (ValueError("  \n padded \n"), "padded"),
        (ValueError(""), "ValueError"),
        (KeyError(), "KeyError"),
        ("", ""),
        ("   \n  ", ""),
        ("text only", "text only"),
        (CommandTimeout("x", timeout_s=1.0), "timed out after 1.0 s waiting for x"),
    ],
)
def test_first_line(given_: BaseException | str, expected: str) -> None:
    assert first_line(given_) == expected


def test_limit_cuts_the_line() -> None:
    assert first_line(RuntimeError("abcdef"), limit=3) == "abc"


@given(st.text())
def test_never_raises_and_is_one_line_of_the_message(text: str) -> None:
    for given_ in (text, RuntimeError(text)):
        line = first_line(given_, limit=300)
        assert "\n" not in line and "\r" not in line
        assert len(line) <= 300
        if text.strip():
            assert line and line in text
