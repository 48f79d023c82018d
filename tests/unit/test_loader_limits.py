"""The loader's limits and odd inputs: each is a FILE:LINE problem, never a traceback or a hang."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.plan import load_inputs
from harness.scenario.reader import MAX_DEPTH, MAX_FILE_BYTES
from harness.validation import load_scenario

QUICKSTART = Path(__file__).resolve().parents[2] / "scenarios" / "quickstart.yaml"


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return [str(p) for p in caught.value.problems]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 400, 1500])
def test_deep_nesting_is_refused_with_the_limit(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * depth + "]" * depth + "\n")
    [problem] = problems_of(path)
    assert problem == f"{path}:1: document too large: nested deeper than {MAX_DEPTH} levels"


def test_nesting_at_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    depth = MAX_DEPTH - 2  # the top-level mapping and the key's value are levels too
    path.write_text("a: " + "[" * depth + "]" * depth + "\n")
    assert not any("too large" in p for p in problems_of(path))


def test_file_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("- a\n" * (MAX_FILE_BYTES // 4 + 1))
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:1: file too large (")
    assert f"the limit is {MAX_FILE_BYTES} bytes" in problem


@pytest.mark.timeout(10)
def test_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    assert problems_of(path) == [
        f"{path}:1: cannot read file: not a regular file (only regular files are read)"
    ]


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/null"])
def test_devices_are_refused(special: str) -> None:
    [problem] = problems_of(Path(special))
    assert problem.startswith(f"{special}:1: cannot read file: not a regular file")


def test_directory_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == [
        f"{tmp_path}:1: cannot read file: a directory (only regular files are read)"
    ]


def test_unclosed_quote_is_reported_where_it_opened(tmp_path: Path) -> None:
    text = QUICKSTART.read_text().replace("name: quickstart", 'name: "quickstart', 1)
    path = tmp_path / "quote.yaml"
    path.write_text(text)
    [problem] = problems_of(path)
    opened = line_of(text, 'name: "quickstart')
    assert problem.startswith(f"{path}:{opened}: invalid YAML: ")
    assert "quoted scalar opened here" in problem
    assert f"at line {text.count(chr(10)) + 1}" in problem  # where the parser gave up


def test_invalid_utf8_is_reported_at_its_line(tmp_path: Path) -> None:
    raw = QUICKSTART.read_bytes()
    at = raw.index(b"engines:")
    path = tmp_path / "latin1.yaml"
    path.write_bytes(raw[:at] + b"\xff" + raw[at:])
    [problem] = problems_of(path)
    line = raw[:at].count(b"\n") + 1
    assert problem == f"{path}:{line}: not UTF-8: byte 0xff (invalid start byte)"


@pytest.mark.parametrize("char", ["\x00", "\x07"])
def test_control_character_is_reported_at_its_line(tmp_path: Path, char: str) -> None:
    text = QUICKSTART.read_text()
    text = text.replace("engines:", f"{char}engines:", 1)
    path = tmp_path / "ctl.yaml"
    path.write_text(text)
    [problem] = problems_of(path)
    assert problem == (
        f"{path}:{line_of(text, char)}: invalid YAML: unacceptable character #x{ord(char):04x}"
    )


def test_plan_naming_an_overlong_path_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("plan: p\nsummary: s\ndrills:\n  - scenario: " + "x" * 300 + ".yaml\n")
    with pytest.raises(ScenarioError) as caught:
        load_inputs([path])
    [problem] = [str(p) for p in caught.value.problems]
    assert problem.startswith(f"{path}:4: drills[0].scenario: no such scenario file")
