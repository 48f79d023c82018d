"""File names and summaries are printed as written: rich markup in them is text, not markup."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness import cli

QUICKSTART = Path(__file__).resolve().parents[2] / "scenarios" / "quickstart.yaml"


@pytest.mark.parametrize("name", ["[/]ok.yaml", "[red]x[/red].yaml", "[bold.yaml"])
def test_validate_prints_odd_file_names_as_written(tmp_path: Path, name: str) -> None:
    path = tmp_path / name  # "[/]ok.yaml" is the file "]ok.yaml" in the folder "["
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(QUICKSTART.read_text())
    result = CliRunner().invoke(cli.app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{path}: ok (quickstart:" in result.output


@pytest.mark.parametrize("name", ["[/]bad.yaml", "[red]x[/red].yaml"])
def test_problems_in_odd_file_names_are_printed_as_written(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("name: x\n")
    result = CliRunner().invoke(cli.app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:1: " in result.stderr


def test_list_prints_a_summary_with_markup_as_written(tmp_path: Path) -> None:
    text = QUICKSTART.read_text()
    summary = next(line for line in text.splitlines() if line.startswith("summary:"))
    (tmp_path / "[").mkdir()
    (tmp_path / "[/]q.yaml").write_text(text.replace(summary, 'summary: "a [/] and [red]b[/red]"'))
    result = CliRunner().invoke(cli.app, ["list", str(tmp_path)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "a [/] and [red]b[/red]" in result.output
    assert "[/]q.yaml" in result.output
