"""Scenario files in, typed model or FILE:LINE: path: message problems out.

Expected line numbers are found in the YAML text the test wrote (``line_of``), never copied
from the loader's output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.engines import engine_names
from harness.errors import InputError, Problem, ScenarioError
from harness.scenario import Scenario
from harness.validation import load_scenario, load_scenarios

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "scenarios").rglob("*.yaml"))

VALID = """\
name: unit-valid
summary: A minimal valid scenario the malformed ones are derived from.
engines: [postgres]
stores:
  - name: offsite
backups:
  - name: nightly
    at_s: 1
    store: offsite
timeline:
  - fault: rm_rf_datadir
    at_s: 5
recovery:
  steps:
    - step: restore_backup
objectives:
  rto_s: 30
  rpo_s: 10
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line of ``text`` containing ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} not in the test's own YAML"
    return hits[occurrence - 1]


def edit(text: str, old: str, new: str) -> str:
    """Replace the one occurrence of ``old`` (so a typo in a test cannot go unnoticed)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.problems, "a ScenarioError must carry at least one problem"
    return [str(p) for p in caught.value.problems]


# -- valid input ---------------------------------------------------------------------------


def test_there_are_shipped_scenarios() -> None:
    assert SHIPPED, f"no scenarios found in {REPO / 'scenarios'}"


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(REPO)) for p in SHIPPED])
def test_every_shipped_scenario_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert set(scenario.engines) <= set(engine_names())


def test_load_scenarios_returns_every_shipped_file_in_order() -> None:
    loaded = load_scenarios(SHIPPED)
    assert [path for path, _ in loaded] == SHIPPED


def test_the_base_of_the_malformed_scenarios_is_valid(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, VALID))
    assert scenario.name == "unit-valid"
    assert scenario.objectives.rto_s == 30
    assert [b.name for b in scenario.backups] == ["nightly"]
    assert [f.fault for f in scenario.timeline] == ["rm_rf_datadir"]


def test_problem_format() -> None:
    assert str(Problem("s.yaml", 7, "timeline[0].at_s", "bad")) == "s.yaml:7: timeline[0].at_s: bad"
    assert str(Problem("s.yaml", 1, "", "file is empty")) == "s.yaml:1: file is empty"


def test_scenario_error_is_an_input_error_and_sorts_its_problems() -> None:
    error = ScenarioError(
        [Problem("b", 1, "", "x"), Problem("a", 9, "", "y"), Problem("a", 2, "", "z")]
    )
    assert isinstance(error, InputError)
    assert [(p.file, p.line) for p in error.problems] == [("a", 2), ("a", 9), ("b", 1)]
    assert str(error) == "a:2: z\na:9: y\nb:1: x"


# -- unknown keys --------------------------------------------------------------------------


def test_unknown_key_near_miss_has_its_line_and_a_hint(tmp_path: Path) -> None:
    text = edit(VALID, "  rpo_s: 10\n", "  rpo_s: 10\n  rto: 30\n")
    path = write(tmp_path, text)
    assert problems_of(path) == [
        f"{path}:{line_of(text, 'rto: 30')}: objectives.rto: "
        "unknown key 'rto' (did you mean 'rto_s'?)"
    ]


def test_unknown_key_without_a_near_miss_has_no_hint(tmp_path: Path) -> None:
    text = VALID + "xyzzy: 1\n"
    path = write(tmp_path, text)
    assert problems_of(path) == [f"{path}:{line_of(text, 'xyzzy')}: xyzzy: unknown key 'xyzzy'"]


def test_misspelt_key_reports_the_unknown_key_and_the_missing_one(tmp_path: Path) -> None:
    text = edit(VALID, "  rto_s: 30", "  rto: 30")
    path = write(tmp_path, text)
    assert problems_of(path) == [
        # The missing key is reported on its parent's line, which comes first.
        f"{path}:{line_of(text, 'objectives:')}: objectives.rto_s: required key is missing",
        f"{path}:{line_of(text, 'rto: 30')}: objectives.rto: "
        "unknown key 'rto' (did you mean 'rto_s'?)",
    ]


# -- types and required keys ---------------------------------------------------------------


def test_wrong_type_is_reported_at_its_line(tmp_path: Path) -> None:
    text = edit(VALID, "    at_s: 1\n", "    at_s: soon\n")
    path = write(tmp_path, text)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(text, 'at_s: soon')}: backups[0].at_s: ")
    assert "number" in problem


def test_wrong_type_inside_a_fault_hides_the_union_tag(tmp_path: Path) -> None:
    text = edit(VALID, "    at_s: 5\n", "    at_s: later\n")
    path = write(tmp_path, text)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(text, 'at_s: later')}: timeline[0].at_s: ")
    assert "number" in problem


def test_negative_seconds_are_rejected(tmp_path: Path) -> None:
    text = edit(VALID, "  rpo_s: 10", "  rpo_s: -1")
    path = write(tmp_path, text)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(text, 'rpo_s: -1')}: objectives.rpo_s: ")


def test_missing_key_is_reported_on_its_parents_line(tmp_path: Path) -> None:
    text = edit(VALID, "    store: offsite\n", "")
    path = write(tmp_path, text)
    assert problems_of(path) == [
        f"{path}:{line_of(text, '- name: nightly')}: backups[0].store: required key is missing"
    ]


def test_missing_top_level_key_is_reported_on_line_1(tmp_path: Path) -> None:
    text = edit(
        VALID, "summary: A minimal valid scenario the malformed ones are derived from.\n", ""
    )
    path = write(tmp_path, text)
    assert problems_of(path) == [f"{path}:1: summary: required key is missing"]


def test_missing_key_of_a_fault(tmp_path: Path) -> None:
    text = edit(VALID, "  - fault: rm_rf_datadir\n    at_s: 5\n", "  - fault: kill\n")
    path = write(tmp_path, text)
    assert problems_of(path) == [
        f"{path}:{line_of(text, 'fault: kill')}: timeline[0].at_s: required key is missing"
    ]


def test_unknown_fault_type(tmp_path: Path) -> None:
    text = edit(VALID, "fault: rm_rf_datadir", "fault: explode")
    path = write(tmp_path, text)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(text, 'fault: explode')}: timeline[0]: ")
    for word in ("explode", "rm_rf_datadir", "kill", "silent_empty_backup"):
        assert word in problem


def test_unknown_recovery_step(tmp_path: Path) -> None:
    text = edit(VALID, "step: restore_backup", "step: pray")
    path = write(tmp_path, text)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(text, 'step: pray')}: recovery.steps[0]: ")
    assert "pray" in problem


# -- YAML-level problems -------------------------------------------------------------------


def test_duplicate_key(tmp_path: Path) -> None:
    text = edit(VALID, "  rpo_s: 10\n", "  rpo_s: 10\n  rpo_s: 5\n")
    path = write(tmp_path, text)
    first, second = line_of(text, "rpo_s: 10"), line_of(text, "rpo_s: 5")
    assert problems_of(path) == [
        f"{path}:{second}: objectives: duplicate key 'rpo_s' (first at line {first})"
    ]


def test_duplicate_top_level_key(tmp_path: Path) -> None:
    text = VALID + "name: again\n"
    path = write(tmp_path, text)
    assert problems_of(path) == [
        f"{path}:{line_of(text, 'name: again')}: duplicate key 'name' (first at line 1)"
    ]


def test_yaml_syntax_error_is_reported_at_its_line(tmp_path: Path) -> None:
    # A key indented under a plain scalar: "mapping values are not allowed here".
    text = edit(VALID, "engines: [postgres]\n", "engines: postgres\n  oops: 1\n")
    path = write(tmp_path, text)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(text, 'oops: 1')}: invalid YAML: ")


def test_unclosed_flow_sequence(tmp_path: Path) -> None:
    text = edit(VALID, "engines: [postgres]", "engines: [postgres")
    path = write(tmp_path, text)
    [problem] = problems_of(path)
    assert f"{path}:" in problem
    assert ": invalid YAML: " in problem
    # The parser notices at or after the unclosed bracket, never before it.
    assert int(problem.split(":")[1]) >= line_of(text, "engines: [postgres")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    assert problems_of(path) == [f"{path}:1: file is empty"]


@pytest.mark.parametrize("text", ["- name: a\n- name: b\n", "just a string\n", "42\n"])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    assert problems_of(path) == [f"{path}:1: the top level must be a mapping of keys"]


def test_unreadable_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:")
    assert "cannot read file" in problem


# -- cross-references ----------------------------------------------------------------------


def test_backup_naming_an_unknown_store(tmp_path: Path) -> None:
    text = edit(VALID, "    store: offsite", "    store: nowhere")
    path = write(tmp_path, text)
    assert problems_of(path) == [
        f"{path}:{line_of(text, 'store: nowhere')}: backups[0].store: "
        "unknown store 'nowhere' (known: offsite)"
    ]


def test_silent_empty_backup_naming_an_unknown_backup(tmp_path: Path) -> None:
    text = edit(
        VALID,
        "timeline:\n",
        "timeline:\n  - fault: silent_empty_backup\n    backup: weekly\n",
    )
    path = write(tmp_path, text)
    assert problems_of(path) == [
        f"{path}:{line_of(text, 'backup: weekly')}: timeline[0].backup: "
        "unknown backup 'weekly' (known: nightly)"
    ]


def test_unknown_engine(tmp_path: Path) -> None:
    text = edit(VALID, "engines: [postgres]", "engines:\n  - postgres\n  - oracle")
    path = write(tmp_path, text)
    known = ", ".join(engine_names())
    assert problems_of(path) == [
        f"{path}:{line_of(text, '- oracle')}: engines[1]: unknown engine 'oracle' (known: {known})"
    ]


def test_backup_at_or_after_the_fault(tmp_path: Path) -> None:
    text = edit(VALID, "    at_s: 1\n", "    at_s: 5\n")
    path = write(tmp_path, text)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(text, 'at_s: 5')}: backups[0].at_s: ")


def test_restore_needs_a_backup(tmp_path: Path) -> None:
    text = edit(VALID, "  - name: nightly\n    at_s: 1\n    store: offsite\n", "")
    text = edit(text, "backups:\n", "backups: []\n")
    path = write(tmp_path, text)
    assert problems_of(path) == [
        f"{path}:{line_of(text, '- step: restore_backup')}: recovery.steps[0]: "
        "restore_backup needs at least one backup"
    ]


# -- everything at once --------------------------------------------------------------------


def test_several_problems_are_reported_at_once_sorted_by_line(tmp_path: Path) -> None:
    text = "colour: blue\n" + VALID  # an unknown key on line 1
    text = edit(text, "    at_s: 1\n", "    at_s: soon\n")  # a wrong type
    text = edit(text, "  rto_s: 30", "  rto: 30")  # a misspelt key, so one is missing
    text = edit(text, "    at_s: 5\n", "")  # a fault's required key missing
    path = write(tmp_path, text)
    problems = problems_of(path)
    expected = [
        (1, "colour"),
        (line_of(text, "at_s: soon"), "backups[0].at_s"),
        (line_of(text, "fault: rm_rf_datadir"), "timeline[0].at_s"),
        (line_of(text, "objectives:"), "objectives.rto_s"),
        (line_of(text, "rto: 30"), "objectives.rto"),
    ]
    assert [p.split(": ")[0:2] for p in problems] == [
        [f"{path}:{line}", loc] for line, loc in sorted(expected)
    ]


def test_several_reference_problems_are_reported_at_once_sorted_by_line(tmp_path: Path) -> None:
    text = edit(VALID, "engines: [postgres]", "engines: [oracle]")
    text = edit(text, "    store: offsite", "    store: nowhere")
    text = text + "expect:\n  restored_from: monthly\n"
    path = write(tmp_path, text)
    known = ", ".join(engine_names())
    assert problems_of(path) == [
        f"{path}:{line_of(text, 'oracle')}: engines[0]: unknown engine 'oracle' (known: {known})",
        f"{path}:{line_of(text, 'nowhere')}: backups[0].store: "
        "unknown store 'nowhere' (known: offsite)",
        f"{path}:{line_of(text, 'monthly')}: expect.restored_from: "
        "unknown backup 'monthly' (known: nightly)",
    ]


def test_load_scenarios_reports_every_bad_file(tmp_path: Path) -> None:
    bad_type = write(tmp_path, edit(VALID, "  rpo_s: 10", "  rpo_s: lots"), "a.yaml")
    good = write(tmp_path, VALID, "b.yaml")
    bad_ref = write(tmp_path, edit(VALID, "    store: offsite", "    store: nowhere"), "c.yaml")
    with pytest.raises(ScenarioError) as caught:
        load_scenarios([bad_ref, good, bad_type])
    files = [p.file for p in caught.value.problems]
    assert files == [str(bad_type), str(bad_ref)]
    assert str(caught.value).splitlines()[0].startswith(f"{bad_type}:")


# -- known bugs ----------------------------------------------------------------------------


def test_unconvertible_tagged_scalar_is_a_problem(tmp_path: Path) -> None:
    text = edit(VALID, "    at_s: 1\n", "    at_s: !!float soon\n")
    path = write(tmp_path, text)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(text, '!!float soon')}: ")


def test_recursive_alias_is_a_problem(tmp_path: Path) -> None:
    text = VALID + "narrative: &loop [*loop]\n"
    path = write(tmp_path, text)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(text, '&loop')}: ")


def test_unknown_tag_is_reported_at_its_line(tmp_path: Path) -> None:
    text = edit(VALID, "    at_s: 1\n", '    at_s: !!python/name:os.system ""\n')
    path = write(tmp_path, text)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(text, 'os.system')}: ")


def test_duplicate_key_and_type_error_are_reported_together(tmp_path: Path) -> None:
    text = edit(VALID, "  rpo_s: 10\n", "  rpo_s: 10\n  rpo_s: 5\n")
    text = edit(text, "    at_s: 1\n", "    at_s: soon\n")
    path = write(tmp_path, text)
    problems = problems_of(path)
    assert [p.split(": ")[0] for p in problems] == [
        f"{path}:{line_of(text, 'at_s: soon')}",
        f"{path}:{line_of(text, 'rpo_s: 5')}",
    ]
