"""Drill plans: YAML naming scenario files, engines and objectives in, a list of drills out.

A plan is told apart from a scenario by its top-level ``drills:`` key. Scenario paths are
relative to the plan's folder. Engines come from the entry, else the plan, else the scenario
itself. ``objectives:`` on an entry overrides the scenario's objectives key by key. Every
problem is reported at once as ``FILE:LINE: path: message``, including those inside the
scenario files a plan names, so a plan that validates names only scenarios that exist and
validate, on engines they support.

    plan: nightly
    summary: Fast subset for CI.
    engines: [postgres]
    drills:
      - scenario: ../scenarios/quickstart.yaml
        objectives: {rto_s: 20}
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError

from harness.capabilities import engine_names
from harness.errors import Problem, ScenarioError
from harness.scenario.loader import _Located, format_loc, read_yaml
from harness.scenario.model import (
    EngineRefs,
    Model,
    Name,
    Objectives,
    ObjectiveSeconds,
    PositiveObjectiveSeconds,
    Scenario,
    WriteCount,
    supports_engine,
)
from harness.validation import load_scenario, scenario_from

PLAN_KEY = "drills"


class ObjectivesOverride(Model):
    """Objectives a plan sets for one scenario; keys left out keep the scenario's value."""

    rto_s: PositiveObjectiveSeconds | None = None
    rpo_s: ObjectiveSeconds | None = None
    max_lost_writes: WriteCount | None = None


class PlanEntry(Model):
    """One scenario file of a plan, on some engines, against some objectives."""

    scenario: Annotated[str, Field(min_length=1)]
    engines: Annotated[EngineRefs, Field(min_length=1)] | None = None
    objectives: ObjectivesOverride | None = None


class Plan(Model):
    """A named list of drills, run together and reported together."""

    plan: Name
    summary: Annotated[str, Field(min_length=1, max_length=200)]
    engines: Annotated[EngineRefs, Field(min_length=1)] | None = None
    drills: Annotated[list[PlanEntry], Field(min_length=1)]


_FIELD_NAMES = sorted({n for m in (ObjectivesOverride, PlanEntry, Plan) for n in m.model_fields})


@dataclass(frozen=True)
class PlannedDrill:
    """One scenario on one engine, with the plan's objectives applied."""

    source: Path
    scenario: Scenario
    engine: str
    objectives_overridden: bool = False
    plan: str | None = None


@dataclass(frozen=True)
class DrillPlan:
    """A validated plan and the drills it expands to, in file order."""

    path: Path
    name: str
    summary: str
    drills: tuple[PlannedDrill, ...]


def is_plan_file(path: Path) -> bool:
    """True when ``path`` holds a drill plan (a top-level ``drills:`` key)."""
    try:
        data, _ = read_yaml(path)
    except ScenarioError:
        return False  # the scenario loader reports the problem
    return is_plan(data)


def is_plan(data: Any) -> bool:
    """True for the data of a drill plan (a top-level ``drills:`` key)."""
    return isinstance(data, dict) and PLAN_KEY in data


def _message(error: Any, loc: tuple[str | int, ...]) -> str:
    if error["type"] == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        close = difflib.get_close_matches(key, _FIELD_NAMES, n=1)
        return f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
    if error["type"] == "missing":
        return "required key is missing"
    return str(error["msg"])


def _validate(data: Any, located: _Located) -> Plan | None:
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            line, loc = located.locate(tuple(error["loc"]))
            located.problems.append(
                Problem(located.file, line, format_loc(loc), _message(error, loc))
            )
        return None


def load_plan(path: str | Path) -> DrillPlan:
    """Load a plan and every scenario it names; raise ScenarioError listing every problem."""
    path = Path(path)
    data, located = read_yaml(path)
    return plan_from(path, data, located)


def plan_from(path: Path, data: Any, located: _Located) -> DrillPlan:
    """Validate data already read by read_yaml as a plan, loading the scenarios it names."""
    plan = _validate(data, located) if not located.problems else None
    problems = located.problems

    def problem(loc: tuple[str | int, ...], message: str) -> None:
        line, shown = located.locate(loc)
        problems.append(Problem(located.file, line, format_loc(shown), message))

    drills: list[PlannedDrill] = []
    if plan is not None:
        known = engine_names()
        for j, engine in enumerate(plan.engines or []):
            if engine not in known:
                problem(("engines", j), f"unknown engine {engine!r} (known: {', '.join(known)})")
        seen: dict[tuple[str, str], int] = {}
        for i, entry in enumerate(plan.drills):
            source = Path(os.path.normpath(path.parent / entry.scenario))
            if not _is_file(source):
                problem(
                    ("drills", i, "scenario"),
                    f"no such scenario file {str(source)!r} "
                    "(scenario paths are relative to the plan's folder)",
                )
                continue
            try:
                scenario = load_scenario(source)
            except ScenarioError as exc:
                problems.extend(exc.problems)
                problem(("drills", i, "scenario"), f"scenario {str(source)!r} is invalid")
                continue
            where: tuple[str | int, ...]
            if entry.engines is not None:
                engines, where = entry.engines, ("drills", i, "engines")
            elif plan.engines is not None:
                engines, where = plan.engines, ("engines",)
            else:
                engines, where = scenario.engines, ("drills", i, "scenario")
            objectives = scenario.objectives
            if entry.objectives is not None:
                merged = {
                    **scenario.objectives.model_dump(),
                    **entry.objectives.model_dump(exclude_unset=True),
                }
                try:
                    objectives = Objectives.model_validate(merged)
                except ValidationError as exc:
                    for error in exc.errors():
                        problem(("drills", i, "objectives", *error["loc"]), str(error["msg"]))
                    continue
                scenario = scenario.model_copy(update={"objectives": objectives})
            for j, engine in enumerate(engines):
                at = (*where, j) if where[-1] == "engines" else where
                if engine not in known:
                    problem(at, f"unknown engine {engine!r} (known: {', '.join(known)})")
                    continue
                if not supports_engine(scenario.engines, engine):
                    problem(
                        at,
                        f"scenario {scenario.name!r} does not support engine {engine!r} "
                        f"(it lists {', '.join(scenario.engines)})",
                    )
                    continue
                key = (str(source.resolve()), engine)
                if key in seen:
                    problem(
                        ("drills", i),
                        f"{scenario.name} on {engine} is already planned by drills[{seen[key]}]",
                    )
                    continue
                seen[key] = i
                drills.append(
                    PlannedDrill(
                        source,
                        scenario,
                        engine,
                        objectives_overridden=entry.objectives is not None,
                        plan=plan.plan,
                    )
                )
    if problems or plan is None:
        raise ScenarioError(problems)
    return DrillPlan(path, plan.plan, plan.summary, tuple(drills))


def _is_file(path: Path) -> bool:
    """A regular file; False (not an OSError) for a path too long or otherwise unusable."""
    try:
        return path.is_file()
    except OSError:
        return False


@dataclass(frozen=True)
class Inputs:
    """What the files on a command line ask for: scenarios (each on its own engines) and plans."""

    scenarios: tuple[tuple[Path, Scenario], ...]
    plans: tuple[DrillPlan, ...]


def load_inputs(paths: list[Path]) -> Inputs:
    """Load scenario and plan files alike; raise ScenarioError with the problems of all."""
    scenarios: list[tuple[Path, Scenario]] = []
    plans: list[DrillPlan] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            data, located = read_yaml(path)
            if is_plan(data):
                plans.append(plan_from(path, data, located))
            else:
                scenarios.append((path, scenario_from(data, located)))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    return Inputs(tuple(scenarios), tuple(plans))
