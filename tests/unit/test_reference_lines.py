"""Dangling names are reported at the line that names them, for every key that can name one."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.validation import load_scenario

INCIDENTS = Path(__file__).resolve().parents[2] / "scenarios" / "incidents"


def problems(tmp_path: Path, source: str, old: str, new: str) -> tuple[str, list[str]]:
    text = (INCIDENTS / source).read_text()
    assert text.count(old) >= 1
    text = text.replace(old, new, 1)
    path = tmp_path / source
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return text, [str(p) for p in caught.value.problems]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_a_cutover_gate_naming_no_server_is_refused_at_its_line(tmp_path: Path) -> None:
    text, found = problems(
        tmp_path, "myspace-2019-twin.yaml", "compare_with: new-server", "compare_with: nowhere"
    )
    line = line_of(text, "compare_with: nowhere")
    assert any(p.startswith(f"{tmp_path}/myspace-2019-twin.yaml:{line}: ") for p in found)
    assert any("timeline[0].gate.compare_with: unknown node 'nowhere'" in p for p in found)


def test_a_dangling_name_in_a_backups_list_is_reported_at_its_item(tmp_path: Path) -> None:
    text, found = problems(
        tmp_path,
        "gitlab-2017.yaml",
        "backups: [nightly-1, nightly-2]",
        "backups: [nightly-1,\n      nightly-9]",
    )
    line = line_of(text, "nightly-9]")
    [problem] = [p for p in found if "nightly-9" in p]
    assert problem.startswith(f"{tmp_path}/gitlab-2017.yaml:{line}: timeline[")
    assert "].backups[1]: unknown backup 'nightly-9'" in problem
