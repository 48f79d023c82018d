"""The command line: exit codes and messages for input problems, before any Docker is touched.

Commands run in-process through typer's CliRunner, so the autouse guard in conftest.py proves
that no input problem reaches Docker. Two tests run the installed console script, to check the
real entry point prints problems and no traceback.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from harness import cli
from harness.engines import engine_names

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "scenarios").rglob("*.yaml"))
QUICKSTART = REPO / "scenarios" / "quickstart.yaml"
CONSOLE_SCRIPT = Path(sys.executable).parent / "recovery-drill"

MALFORMED = """\
name: Bad Name
summary: s
engines: [postgres]
timeline:
  - fault: kill
    at_s: soon
objectives:
  rto: 30
  rpo_s: 10
"""


@pytest.fixture(autouse=True)
def _restore_sigterm() -> Iterator[None]:
    """`run` installs a SIGTERM handler; do not leave it behind in the test process."""
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.fixture
def malformed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bad scenario under a short relative path, so no problem line is long enough to wrap."""
    monkeypatch.chdir(tmp_path)
    path = Path("malformed.yaml")
    path.write_text(MALFORMED, encoding="utf-8")
    return path


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli.app, [str(a) for a in args])


def assert_problem_lines(text: str, path: Path) -> list[str]:
    lines = text.strip().splitlines()
    assert lines, "no problems printed"
    for line in lines:
        assert re.match(rf"{re.escape(str(path))}:\d+: ", line), line
    assert "Traceback" not in text
    return lines


# -- validate ------------------------------------------------------------------------------


def test_validate_accepts_the_shipped_scenarios() -> None:
    result = invoke("validate", *SHIPPED)
    assert result.exit_code == 0, result.output
    for path in SHIPPED:
        assert f"{path}: ok" in result.stdout


def test_validate_reports_every_problem_and_exits_2(malformed: Path) -> None:
    result = invoke("validate", malformed)
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    lines = assert_problem_lines(result.stderr, malformed)
    # name pattern, at_s type, unknown rto, missing rto_s: four problems at once.
    assert len(lines) == 4
    assert result.stdout == ""


def test_validate_with_one_bad_file_among_good_ones_exits_2(malformed: Path) -> None:
    result = invoke("validate", QUICKSTART, malformed)
    assert result.exit_code == 2
    assert_problem_lines(result.stderr, malformed)


def test_validate_a_missing_file_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = invoke("validate", missing)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{missing}:")
    assert "cannot read file" in result.stderr
    assert "Traceback" not in result.output


def test_long_problem_lines_are_not_wrapped(tmp_path: Path) -> None:
    key = "k" * 170
    path = tmp_path / "long.yaml"
    path.write_text(QUICKSTART.read_text(encoding="utf-8") + f"{key}: 1\n", encoding="utf-8")
    result = invoke("validate", path)
    assert result.exit_code == 2
    [line] = assert_problem_lines(result.stderr, path)
    assert line.endswith(f"{key}: unknown key '{key}'")


def test_list_shows_the_shipped_scenarios() -> None:
    result = invoke("list", REPO / "scenarios")
    assert result.exit_code == 0, result.output
    assert "quickstart" in result.stdout


# -- run: input problems stop before Docker ------------------------------------------------


def test_run_on_a_malformed_file_exits_2_without_docker(
    malformed: Path, tmp_path: Path, no_docker_or_databases: list[str]
) -> None:
    result = invoke("run", "--quiet", "--out", tmp_path / "reports", malformed)
    assert result.exit_code == 2
    assert_problem_lines(result.stderr, malformed)
    assert no_docker_or_databases == []
    assert not (tmp_path / "reports").exists()


def test_run_with_an_engine_the_scenario_does_not_list_exits_2(tmp_path: Path) -> None:
    result = invoke("run", "--quiet", "--out", tmp_path, "--engine", "oracle", QUICKSTART)
    assert result.exit_code == 2
    assert "oracle" in result.stderr
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("image", ["bogus", "oracle=oracle:23", "postgres=", "=postgres:16"])
def test_run_with_a_bad_image_option_exits_2(tmp_path: Path, image: str) -> None:
    result = invoke("run", "--quiet", "--out", tmp_path, "--image", image, QUICKSTART)
    assert result.exit_code == 2
    assert f"--image {image!r}" in result.stderr
    for name in engine_names():
        assert name in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_valid_run_reaches_for_docker_and_the_guard_stops_it(
    tmp_path: Path, no_docker_or_databases: list[str]
) -> None:
    """The guard covers the path a real run takes (so the tests above prove something)."""
    result = invoke("run", "--quiet", "--engine", "postgres", "--out", tmp_path, QUICKSTART)
    # The drill records the unexpected error (exit 3, journal with the reason) and cleans up.
    assert result.exit_code == 3
    assert no_docker_or_databases == ["docker.from_env"]
    journal = next(tmp_path.glob("*/journal.json")).read_text()
    assert "must not touch Docker/databases" in journal
    no_docker_or_databases.clear()


# -- exit codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ([0, 4, 1, 3], 3),
        ([3, 0], 3),
        ([4, 1, 0], 1),
        ([1, 4], 1),
        ([0, 4, 0], 4),
        ([0, 0], 0),
        ([0], 0),
        ([], 0),
    ],
)
def test_worst_exit_code(codes: list[int], expected: int) -> None:
    assert cli.worst(codes) == expected


def test_verdicts_map_to_the_documented_exit_codes() -> None:
    assert {v.value: code for v, code in cli.VERDICT_EXIT.items()} == {
        "pass": 0,
        "fail": 1,
        "inconclusive": 4,
        "error": 3,
        "unrecoverable": 0,
    }


# -- the installed console script ----------------------------------------------------------


def run_console_script(*args: str | Path) -> subprocess.CompletedProcess[str]:
    if not CONSOLE_SCRIPT.exists():
        pytest.skip(f"{CONSOLE_SCRIPT} is not installed")
    # validate never needs Docker; point DOCKER_HOST nowhere in case that ever changes.
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *(str(a) for a in args)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_console_script_validates_the_shipped_scenarios() -> None:
    done = run_console_script("validate", *SHIPPED)
    assert done.returncode == 0, done.stderr


def test_console_script_reports_problems_without_a_traceback(malformed: Path) -> None:
    done = run_console_script("validate", malformed)
    assert done.returncode == 2
    assert_problem_lines(done.stderr, malformed)


def test_validate_never_crashes_on_bad_yaml_tags(tmp_path: Path) -> None:
    path = tmp_path / "tagged.yaml"
    path.write_text(QUICKSTART.read_text().replace("at_s: 2", "at_s: !!float soon"))
    result = invoke("validate", path)
    assert result.exit_code == 2, result.exception
    assert_problem_lines(result.stderr, path)
