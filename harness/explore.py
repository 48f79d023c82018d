"""`recovery-drill explore`: a hypothesis search for the schedule that breaks recovery.

A scenario's ``explore:`` section bounds the search: each entry of ``vary`` is a dotted path
into the scenario (list items by index or by ``name``: ``backups.nightly.at_s``,
``timeline.0.at_s``, ``timeline.0.fault``, ``workload.rate_per_s``,
``recovery.probe_interval_s``, ``topology.replicas.0.delay_s``) and either a range
``{min, max, step}`` or a list of choices. Every example hypothesis draws is a real drill. A
drill that breaks one of the ``properties`` is a failure; hypothesis then shrinks it towards
the low end of every range and the first of every list of choices, and the smallest failing
scenario is written as YAML that ``recovery-drill run`` reproduces.

Properties:
    expectations_met    the verdict is pass (or unrecoverable, as expected)
    objectives_met      RTO, RPO and lost writes within the scenario's objectives
    no_unexpected_rows  no row the writer never had acknowledged is found after recovery
    pitr_on_target      a point-in-time recovery landed within its tolerance
    lost_writes_within  lost acknowledged writes within objectives.max_lost_writes
    faults_took_effect  every fault took effect (no silently absent fault)

**Budget.** ``budget`` counts real drills, shrinking included: once it is spent, examples not
yet run count as not failing, so shrinking stops with the smallest failure *actually run*.
Identical examples are run once (the results are cached by the values drawn). A drill that
ends in ``error`` (the infrastructure failed) stops the search.

**Resuming.** Hypothesis keeps its example database in ``OUT/hypothesis/``: a second search
with the same output folder replays the failure found before first.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import Unsatisfiable

from harness.errors import InputError, ScenarioError
from harness.measurement.verdict import Verdict
from harness.record import DrillRecord
from harness.report.journal import write_atomic
from harness.runner import Drill, DrillResult
from harness.scenario.loader import _Located, read_yaml
from harness.scenario.model import Explore, ExploreRange, Scenario
from harness.validation import scenario_from

Values = dict[str, Any]


def broken(record: DrillRecord, verdict: Verdict, properties: list[str]) -> list[str]:
    """The properties this drill broke, each with what showed it."""
    m, out = record.measured, []
    for name in properties:
        if name == "expectations_met" and verdict not in (Verdict.PASS, Verdict.UNRECOVERABLE):
            out.append(f"expectations_met: verdict {verdict.value}: {'; '.join(record.reasons)}")
        elif name == "objectives_met" and not record.objectives.met:
            out.append(f"objectives_met: missed {', '.join(record.objectives.missed) or '?'}")
        elif name == "no_unexpected_rows" and m.unexpected:
            out.append(f"no_unexpected_rows: {m.unexpected} rows never acknowledged")
        elif name == "pitr_on_target" and m.pitr is not None and not m.pitr.within_tolerance:
            out.append(f"pitr_on_target: landed {m.pitr.error_s:+.3f} s from the target")
        elif name == "lost_writes_within":
            limit = record.objectives.max_lost_writes
            if limit is not None and (m.lost_writes or 0) > limit:
                out.append(f"lost_writes_within: {m.lost_writes} lost > {limit}")
        elif name == "faults_took_effect":
            silent = [f.type for f in record.faults if not f.took_effect and not f.blocked_by_gate]
            if silent:
                out.append(f"faults_took_effect: {', '.join(silent)} did not take effect")
    return out


def apply(data: Any, path: str, value: Any) -> None:
    """Set ``path`` (dotted; list items by index or name) in the scenario data to ``value``."""
    parts = path.split(".")
    node = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if part.isdigit() and int(part) < len(node):
                index = int(part)
            else:
                names = [item.get("name") if isinstance(item, dict) else None for item in node]
                if part not in names:
                    raise InputError(f"explore.vary: {path}: no list item {part!r}")
                index = names.index(part)
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            elif part in node:
                node = node[part]
            else:
                raise InputError(f"explore.vary: {path}: the scenario has no {part!r} there")
        else:
            raise InputError(f"explore.vary: {path}: {part!r} is inside a plain value")


def strategy_for(bound: ExploreRange | list[Any]) -> st.SearchStrategy[Any]:
    """Values of one varied key; shrinking goes to ``min`` (or the first choice)."""
    if isinstance(bound, list):
        return st.sampled_from(bound)
    steps = round((bound.max - bound.min) / bound.step)
    if steps < 0:
        raise InputError(f"explore.vary: a range with min {bound.min} above max {bound.max}")
    whole = all(float(v).is_integer() for v in (bound.min, bound.max, bound.step))

    def value(k: int) -> float | int:
        number = round(bound.min + k * bound.step, 6)
        return int(number) if whole else number

    return st.integers(0, max(steps, 0)).map(value)


@dataclass
class Trial:
    """One real drill of the search."""

    values: Values
    verdict: str
    broken: list[str]
    journal: str
    rto_s: float | None
    rpo_s: float | None
    lost_writes: int | None


@dataclass
class Search:
    """The search's state: drills run, the cache of results by values, and what it found."""

    source: Path
    data: dict[str, Any]
    explore: Explore
    engine: str
    out: Path
    budget: int
    on_trial: Callable[[Trial, int], None] = lambda trial, n: None
    trials: list[Trial] = field(default_factory=list)
    cache: dict[str, Trial] = field(default_factory=dict)
    rejected: int = 0

    def variant(self, values: Values) -> dict[str, Any]:
        data = copy.deepcopy(self.data)
        data.pop("explore", None)
        for path, value in values.items():
            apply(data, path, value)
        return data

    def breaks(self, values: Values) -> bool:
        """Run the drill of ``values`` (once) and say whether it broke a property."""
        key = json.dumps(values, sort_keys=True)
        if key in self.cache:
            return bool(self.cache[key].broken)
        if len(self.trials) >= self.budget:
            return False  # budget spent: not run, so not a failure
        data = self.variant(values)
        try:
            scenario = scenario_from(data, _Located(str(self.source)))
        except ScenarioError:
            self.rejected += 1
            return False  # not a valid scenario (e.g. a fault before its backup is allowed)
        result = self._run(scenario)
        if result.verdict is Verdict.ERROR:
            raise InfrastructureStop(result)
        trial = Trial(
            values=values,
            verdict=result.verdict.value,
            broken=broken(result.record, result.verdict, list(self.explore.properties)),
            journal=str(result.journal_path),
            rto_s=result.record.measured.rto_s,
            rpo_s=result.record.measured.rpo_s,
            lost_writes=result.record.measured.lost_writes,
        )
        self.trials.append(trial)
        self.cache[key] = trial
        self.on_trial(trial, len(self.trials))
        return bool(trial.broken)

    def _run(self, scenario: Scenario) -> DrillResult:
        return Drill(
            scenario, source=self.source, engine=self.engine, out_dir=self.out / "drills"
        ).run()


class InfrastructureStop(Exception):
    """A drill of the search ended in ``error``: the search stops (exit 3)."""

    def __init__(self, result: DrillResult) -> None:
        super().__init__(f"{'; '.join(result.record.reasons)} (journal {result.journal_path})")
        self.result = result


@dataclass(frozen=True)
class Outcome:
    """How a search ended."""

    found: Values | None
    trial: Trial | None
    minimal_path: Path | None
    drills: int
    wall_s: float
    trials: list[Trial]


def explore(
    path: Path,
    *,
    engine: str | None,
    budget: int,
    seed: int | None,
    out: Path,
    on_trial: Callable[[Trial, int], None] = lambda trial, n: None,
) -> Outcome:
    """Search the variations of the scenario at ``path`` for one that breaks a property."""
    data, located = read_yaml(path)
    scenario = scenario_from(data, located)
    if scenario.explore is None:
        raise InputError(f"{path}: no explore: section (what to vary, which properties)")
    chosen = engine or scenario.engines[0]
    if chosen not in scenario.engines:
        raise InputError(f"{path}: scenario {scenario.name!r} does not support engine {chosen!r}")
    search = Search(path, data, scenario.explore, chosen, out, budget, on_trial)
    for key in scenario.explore.vary:  # every path must exist before any drill runs
        first = scenario.explore.vary[key]
        search.variant({key: first[0] if isinstance(first, list) else first.min})
    strategy = st.fixed_dictionaries(
        {key: strategy_for(bound) for key, bound in scenario.explore.vary.items()}
    )
    config = settings(
        database=DirectoryBasedExampleDatabase(str(out / "hypothesis")),
        max_examples=budget,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        derandomize=False,
        report_multiple_bugs=False,
    )
    started = time.monotonic()
    found = _search(
        strategy,
        search.breaks,
        config,
        seed=seed,
        key=f"recovery-drill explore {scenario.name} {chosen}".encode(),
    )
    wall = time.monotonic() - started
    trial = search.cache.get(json.dumps(found, sort_keys=True)) if found is not None else None
    minimal = None
    if found is not None and trial is not None:
        minimal = out / f"{scenario.name}-minimal.yaml"
        write_atomic(minimal, _minimal_yaml(search, found, trial, seed), mode=0o644)
    outcome = Outcome(found, trial, minimal, len(search.trials), wall, search.trials)
    write_atomic(out / "explore.json", _summary(outcome, scenario, chosen, seed), mode=0o644)
    return outcome


class _Found(Exception):
    """Raised inside the hypothesis test when a drill broke a property."""


def _search(
    strategy: st.SearchStrategy[Values],
    breaks: Callable[[Values], bool],
    config: settings,
    *,
    seed: int | None,
    key: bytes,
) -> Values | None:
    """The smallest values ``breaks`` holds for (hypothesis shrinks), or None.

    Like ``hypothesis.find``, but a seed does not switch the example database off
    (``find(random=...)`` and ``@seed`` do): a seeded search can still be resumed and replayed.
    """
    last: list[Values] = []

    @config
    @given(strategy)
    def test(values: Values) -> None:
        if breaks(values):
            last[:] = [values]
            raise _Found

    if seed is not None:
        test._hypothesis_internal_use_seed = seed  # type: ignore[attr-defined]
    test._hypothesis_internal_database_key = key  # type: ignore[attr-defined]
    try:
        test()
    except _Found:
        return last[0] if last else None
    except Unsatisfiable:
        return None
    return None


def _minimal_yaml(search: Search, values: Values, trial: Trial, seed: int | None) -> str:
    data = search.variant(values)
    header = [
        f"# Found by `recovery-drill explore {search.source}"
        f"{f' --seed {seed}' if seed is not None else ''}`: the smallest variation",
        "# (after shrinking) that broke a property. `recovery-drill run` on this file",
        "# reproduces it. Values varied:",
        *(f"#   {k}: {v}" for k, v in values.items()),
        "# Broken:",
        *(f"#   {b}" for b in trial.broken),
        f"# Journal of the run that broke it: {trial.journal}",
    ]
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(header) + "\n" + body


def _summary(outcome: Outcome, scenario: Scenario, engine: str, seed: int | None) -> str:
    return (
        json.dumps(
            {
                "scenario": scenario.name,
                "engine": engine,
                "seed": seed,
                "drills": outcome.drills,
                "wall_s": round(outcome.wall_s, 1),
                "found": outcome.found,
                "broken": outcome.trial.broken if outcome.trial else None,
                "minimal_scenario": str(outcome.minimal_path) if outcome.minimal_path else None,
                "trials": [t.__dict__ for t in outcome.trials],
            },
            indent=2,
        )
        + "\n"
    )
