"""Drill plans: the shipped plans, every problem at once with FILE:LINE, objective overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.plan import is_plan_file, load_inputs, load_plan
from harness.scenario.model import supports_engine
from harness.validation import load_scenario

REPO = Path(__file__).resolve().parents[2]
DRILLS = REPO / "drills"
SCENARIOS = REPO / "scenarios"
PLANS = sorted(DRILLS.glob("*.yaml"))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def plan_dir(tmp_path: Path) -> Path:
    """A plan folder beside a copy of the shipped scenarios (paths are relative to the plan)."""
    for src in SCENARIOS.glob("*.yaml"):
        write(tmp_path / "scenarios" / src.name, src.read_text(encoding="utf-8"))
    return tmp_path / "drills"


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_plan(path)
    return [str(p) for p in info.value.problems]


# -- the shipped plans -----------------------------------------------------------------------------
def test_plans_are_shipped() -> None:
    assert {p.name for p in PLANS} >= {"nightly.yaml", "quarterly.yaml"}


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.name)
def test_every_scenario_a_shipped_plan_names_exists_and_validates(path: Path) -> None:
    plan = load_plan(path)  # raises with every problem, including the scenarios' own
    assert plan.drills
    for drill in plan.drills:
        assert drill.source.is_file()
        assert supports_engine(load_scenario(drill.source).engines, drill.engine)
        assert drill.plan == plan.name


def library() -> list[Path]:
    """Every scenario file, less the calibrations of the measuring instrument itself."""
    return [p for p in SCENARIOS.rglob("*.yaml") if "calibration" not in p.parts]


def test_quarterly_runs_the_whole_library_on_every_engine_each_scenario_lists() -> None:
    plan = load_plan(DRILLS / "quarterly.yaml")
    planned = {(d.source.resolve(), d.engine) for d in plan.drills}
    expected = {
        (path.resolve(), engine) for path in library() for engine in load_scenario(path).engines
    }
    assert len(library()) > 4
    assert planned == expected
    # Objectives are set per scenario in the quarterly plan, except for the incident replays,
    # whose own objectives are part of the story (a replay is expected to miss them).
    assert all(d.objectives_overridden or d.source.parent.name == "incidents" for d in plan.drills)
    assert any(d.source.parent.name == "incidents" for d in plan.drills)


def test_nightly_is_a_fast_subset() -> None:
    plan = load_plan(DRILLS / "nightly.yaml")
    names = {d.scenario.name for d in plan.drills}
    assert {"quickstart", "empty-backup", "kill-restart"} <= names
    assert "postgres" in {d.engine for d in plan.drills}


# -- objectives flow into the scenario the runner gets ---------------------------------------------
def test_objective_overrides_change_only_the_keys_given(plan_dir: Path) -> None:
    path = write(
        plan_dir / "p.yaml",
        "plan: p\nsummary: s\nengines: [postgres]\ndrills:\n"
        "  - scenario: ../scenarios/kill-restart.yaml\n"
        "    objectives: {rto_s: 12, max_lost_writes: null}\n"
        "  - scenario: ../scenarios/quickstart.yaml\n",
    )
    kill, quick = load_plan(path).drills
    original = load_scenario(plan_dir.parent / "scenarios" / "kill-restart.yaml")
    assert kill.scenario.objectives.rto_s == 12
    assert kill.scenario.objectives.rpo_s == original.objectives.rpo_s
    assert (
        original.objectives.max_lost_writes == 0
        and kill.scenario.objectives.max_lost_writes is None
    )
    assert kill.scenario.timeline == original.timeline  # everything else unchanged
    assert kill.objectives_overridden and not quick.objectives_overridden
    assert quick.scenario == load_scenario(plan_dir.parent / "scenarios" / "quickstart.yaml")


def test_engines_come_from_the_entry_then_the_plan_then_the_scenario(plan_dir: Path) -> None:
    path = write(
        plan_dir / "p.yaml",
        "plan: p\nsummary: s\nengines: [postgres]\ndrills:\n"
        "  - scenario: ../scenarios/quickstart.yaml\n"
        "  - scenario: ../scenarios/kill-restart.yaml\n    engines: [postgres]\n",
    )
    assert [(d.scenario.name, d.engine) for d in load_plan(path).drills] == [
        ("quickstart", "postgres"),
        ("kill-restart", "postgres"),
    ]


# -- every problem at once, FILE:LINE: path: message -----------------------------------------------
def test_every_problem_is_reported_at_once_with_its_line(plan_dir: Path) -> None:
    path = write(
        plan_dir / "bad.yaml",
        "plan: Bad Name\n"  # 1
        "summary: s\n"  # 2
        "engines: [postgres]\n"  # 3
        "drils: []\n"  # 4
        "drills:\n"  # 5
        "  - scenario: ../scenarios/quickstart.yaml\n"  # 6
        "    objectives: {rto_s: -1, rpo: 3}\n",  # 7
    )
    found = problems(path)
    assert len(found) == 4, found
    assert any(f.startswith(f"{path}:1: plan: ") for f in found)
    assert f"{path}:4: drils: unknown key 'drils' (did you mean 'drills'?)" in found
    assert any(f.startswith(f"{path}:7: drills[0].objectives.rto_s: ") for f in found)
    assert any(f.startswith(f"{path}:7: drills[0].objectives.rpo: unknown key") for f in found)


def test_references_are_checked_together(plan_dir: Path) -> None:
    write(plan_dir.parent / "scenarios" / "broken.yaml", "name: broken\nsummary: s\n")
    path = write(
        plan_dir / "refs.yaml",
        "plan: refs\n"  # 1
        "summary: s\n"  # 2
        "drills:\n"  # 3
        "  - scenario: ../scenarios/missing.yaml\n"  # 4
        "  - scenario: ../scenarios/quickstart.yaml\n"  # 5
        "    engines: [oracle]\n"  # 6
        "  - scenario: ../scenarios/broken.yaml\n"  # 7
        "  - scenario: ../scenarios/quickstart.yaml\n"  # 8
        "  - scenario: ../scenarios/quickstart.yaml\n"  # 9
        "    objectives: {rto_s: 5}\n",  # 10
    )
    found = problems(path)
    text = "\n".join(found)
    assert f"{path}:4: drills[0].scenario: no such scenario file" in text
    assert f"{path}:6: drills[1].engines[0]: unknown engine 'oracle'" in text
    assert f"{path}:7: drills[2].scenario: scenario" in text and "is invalid" in text
    # The broken scenario's own problems, in its own file.
    broken = plan_dir.parent / "scenarios" / "broken.yaml"
    assert any(f.startswith(f"{broken}:") and "engines" in f for f in found)
    assert f"{path}:9: drills[4]: quickstart on postgres is already planned by drills[3]" in text


def test_an_engine_the_scenario_does_not_list_is_a_problem(plan_dir: Path) -> None:
    scenario = plan_dir.parent / "scenarios" / "pg-only.yaml"
    text = (SCENARIOS / "kill-restart.yaml").read_text(encoding="utf-8")
    lines = [
        "engines: [postgres]" if line.startswith("engines:") else line for line in text.splitlines()
    ]
    write(scenario, "\n".join(lines) + "\n")
    from harness.engines import engine_names

    others = [e for e in engine_names() if e != "postgres"]
    if not others:
        pytest.skip("only one engine is registered")
    path = write(
        plan_dir / "p.yaml",
        f"plan: p\nsummary: s\nengines: [postgres, {others[0]}]\n"
        "drills:\n  - scenario: ../scenarios/pg-only.yaml\n",
    )
    [found] = problems(path)
    assert found.startswith(f"{path}:3: engines[1]: scenario 'kill-restart' does not support")


def test_plans_are_told_apart_from_scenarios(plan_dir: Path) -> None:
    assert is_plan_file(DRILLS / "nightly.yaml")
    assert not is_plan_file(SCENARIOS / "quickstart.yaml")
    assert not is_plan_file(plan_dir / "missing.yaml")
    inputs = load_inputs([SCENARIOS / "quickstart.yaml", DRILLS / "nightly.yaml"])
    assert [s.name for _, s in inputs.scenarios] == ["quickstart"]
    assert [p.name for p in inputs.plans] == ["nightly"]


def test_load_inputs_collects_the_problems_of_every_file(plan_dir: Path) -> None:
    bad_plan = write(plan_dir / "p.yaml", "plan: p\nsummary: s\ndrills: []\n")
    bad_scenario = write(plan_dir / "s.yaml", "name: s\n")
    with pytest.raises(ScenarioError) as info:
        load_inputs([bad_plan, bad_scenario])
    files = {p.file for p in info.value.problems}
    assert files == {str(bad_plan), str(bad_scenario)}
