"""The `report` command, and `run`/`validate` given drill plans: outputs and exit codes."""

from __future__ import annotations

import json
import signal
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from harness import cli
from harness.report.history import History
from harness.report.journal import record_from_dict

REPO = Path(__file__).resolve().parents[2]
JOURNALS = Path(__file__).parent / "data" / "journals"


@pytest.fixture(autouse=True)
def _restore_sigterm() -> Iterator[None]:
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli.app, [str(a) for a in args])


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = tmp_path / "history.sqlite"
    with History.open(path) as h:
        for j in sorted(JOURNALS.glob("*.json")):
            h.record(record_from_dict(json.loads(j.read_text(encoding="utf-8"))), plan="nightly")
    return path


def test_report_writes_all_four_formats_into_out(history: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("report", "--history", history, "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "junit.xml",
        "report.html",
        "report.json",
        "report.md",
    ]
    for path in out.iterdir():
        assert f"report: {path}" in result.stdout


def test_one_format_goes_to_standard_output(history: Path) -> None:
    result = invoke("report", "--history", history, "--format", "junit")
    assert result.exit_code == 0, result.output
    assert ET.fromstring(result.stdout).get("tests") == "4"


def test_one_format_to_a_file_name(history: Path, tmp_path: Path) -> None:
    target = tmp_path / "ci" / "drills.xml"
    result = invoke("report", "--history", history, "-f", "junit", "--out", target)
    assert result.exit_code == 0, result.output
    assert ET.parse(target).getroot().tag == "testsuites"


def test_since_filters_runs(history: Path) -> None:
    result = invoke("report", "--history", history, "-f", "json", "--since", "2026-11-21T05:20")
    assert result.exit_code == 0, result.output
    assert {r["scenario"] for r in json.loads(result.stdout)["runs"]} == {
        "kill-restart",
        "empty-backup",
        "wrong-path-wipe",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "pdf"], "--format 'pdf'"),
        (["--since", "yesterday"], "--since 'yesterday'"),
        (["--run", "nope", "-f", "json"], "--run nope"),
        (["-f", "html", "-f", "md", "--out", "-"], "one --format only"),
    ],
)
def test_report_input_problems_exit_2(history: Path, args: list[str], message: str) -> None:
    result = invoke("report", "--history", history, *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_report_without_a_history_exits_2_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite"
    result = invoke("report", "--history", missing)
    assert result.exit_code == 2
    assert "no history at" in result.stderr
    assert not missing.exists()


def test_report_on_an_unsupported_history_url_exits_2(tmp_path: Path) -> None:
    result = invoke("report", "--history", "mysql://u@127.0.0.1/h")
    assert result.exit_code == 2
    assert "postgresql://" in result.stderr


def test_run_on_an_invalid_plan_exits_2_before_docker(
    tmp_path: Path, no_docker_or_databases: list[str]
) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("plan: p\nsummary: s\ndrills:\n  - scenario: nope.yaml\n", encoding="utf-8")
    result = invoke("run", "-q", "--out", tmp_path / "o", "--history", tmp_path / "h.sqlite", plan)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{plan}:4: drills[0].scenario: no such scenario file")
    assert not (tmp_path / "h.sqlite").exists() and not (tmp_path / "o").exists()
    assert no_docker_or_databases == []


def test_run_with_an_engine_no_plan_entry_uses_exits_2(tmp_path: Path) -> None:
    result = invoke(
        "run",
        "-q",
        "--history",
        tmp_path / "h.sqlite",
        "-e",
        "nosuch",
        REPO / "drills" / "nightly.yaml",
    )
    assert result.exit_code == 2
    assert "has no drill on nosuch" in result.stderr


def test_run_with_a_bad_history_location_exits_2_before_docker(
    tmp_path: Path, no_docker_or_databases: list[str]
) -> None:
    result = invoke(
        "run", "-q", "--history", "s3://bucket/h", REPO / "scenarios" / "quickstart.yaml"
    )
    assert result.exit_code == 2
    assert "s3://bucket/h" in result.stderr
    assert no_docker_or_databases == []


def test_validate_accepts_plans(tmp_path: Path) -> None:
    result = invoke(
        "validate", REPO / "drills" / "nightly.yaml", REPO / "drills" / "quarterly.yaml"
    )
    assert result.exit_code == 0, result.output
    assert "plan nightly: quickstart on postgres" in result.stdout
