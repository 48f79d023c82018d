"""Scenario files validated in full: the scenario package's own checks (YAML, the model, the
cross-references inside a file) plus those that need the engines and the faults.

The scenario package knows neither: which engines exist and what each can drill come from
harness.capabilities (derived from the engines' collaborators), and whether an incident takes
a server down comes from its fault class (harness.faults), which says it once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.capabilities import CAPABILITIES, engine_names
from harness.errors import Problem, ScenarioError
from harness.faults import node_fault
from harness.scenario.loader import Loc, _Located, read_yaml, validated
from harness.scenario.model import PitrStep, ReplayDelayedStep, Scenario
from harness.scenario.references import one_of

__all__ = ["load_scenario", "load_scenarios", "scenario_from"]


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate one scenario file; raise ScenarioError listing every problem."""
    data, located = read_yaml(Path(path))
    return scenario_from(data, located)


def scenario_from(data: Any, located: _Located) -> Scenario:
    """Validate data already read by read_yaml as a scenario (one parse per file)."""
    return validated(data, located, extra_checks=(_engine_checks, _outage_checks))


def load_scenarios(paths: list[Path]) -> list[tuple[Path, Scenario]]:
    """Load several files, collecting the problems of all of them before raising."""
    loaded: list[tuple[Path, Scenario]] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            loaded.append((path, load_scenario(path)))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    return loaded


def _engine_checks(s: Scenario) -> Iterator[tuple[Loc, str]]:
    """Every engine exists and can drill what the scenario asks of it."""
    engines = engine_names()
    needed = capabilities_needed(s)
    for i, engine in enumerate(s.engines):
        if engine not in engines:
            yield ("engines", i), one_of(engine, engines, "engine")
            continue
        lacking = sorted(needed - CAPABILITIES.get(engine, frozenset()))
        if lacking:
            yield (
                ("engines", i),
                (
                    f"engine {engine!r} cannot drill {', '.join(lacking)} (yet); "
                    "remove it from engines or the feature from the scenario"
                ),
            )


def _outage_checks(s: Scenario) -> Iterator[tuple[Loc, str]]:
    """An incident that takes a server down needs recovery steps."""
    incident = s.incident
    if incident is None or s.strategies or s.recovery.steps:
        return
    if node_fault(incident).causes_outage:
        yield (
            ("recovery", "steps"),
            "the incident causes an outage but no recovery steps are given",
        )


def capabilities_needed(s: Scenario) -> set[str]:
    """The capabilities (harness.capabilities' names) a scenario asks of its engines."""
    steps = [step for x in s.strategies for step in x.steps] + list(s.recovery.steps)
    needed: set[str] = set()
    if any(b.method == "physical" for b in s.backups):
        needed.add("physical_backup")
    if s.topology.wal_archive is not None:
        needed.add("wal_archive")
    if s.topology.archive_tool == "pgbackrest" or any(b.method == "pgbackrest" for b in s.backups):
        needed.add("pgbackrest")
    if s.topology.replicas:
        needed.add("replicas")
    if any(isinstance(step, PitrStep) for step in steps):
        needed.add("pitr")
    targets = [step.target for step in steps if isinstance(step, (PitrStep, ReplayDelayedStep))]
    if any(t.lsn is not None for t in targets):
        needed.add("lsn_target")
    if any(t.name is not None for t in targets):
        needed.add("restore_point")
    return needed
