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
from harness.engines.byo import FileKind, byo_engines, inspect_file
from harness.engines.migrations import migration_methods
from harness.errors import InputError, Problem, ScenarioError
from harness.faults import node_fault
from harness.scenario.loader import Loc, _Located, read_yaml, validated
from harness.scenario.model import (
    MIGRATION_TARGET,
    PitrStep,
    ReplayDelayedStep,
    Scenario,
    engine_base,
)
from harness.scenario.references import _engine_sql, one_of
from harness.scenario.transaction import transaction_checks

__all__ = ["load_scenario", "load_scenarios", "scenario_from"]


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate one scenario file; raise ScenarioError listing every problem."""
    data, located = read_yaml(Path(path))
    return scenario_from(data, located)


def scenario_from(data: Any, located: _Located) -> Scenario:
    """Validate data already read by read_yaml as a scenario (one parse per file)."""
    folder = Path(located.file).parent

    def dataset_checks(s: Scenario) -> Iterator[tuple[Loc, str]]:
        return _dataset_checks(s, folder)

    return validated(
        data,
        located,
        extra_checks=(
            _engine_checks,
            _outage_checks,
            migration_checks,
            dataset_checks,
            _transaction_checks,
            _parallel_checks,
        ),
    )


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
        lacking = sorted(needed - CAPABILITIES.get(engine.partition("@")[0], frozenset()))
        if lacking:
            yield (
                ("engines", i),
                (
                    f"engine {engine!r} cannot drill {', '.join(lacking)} (yet); "
                    "remove it from engines or the feature from the scenario"
                ),
            )


def _dataset_checks(s: Scenario, folder: Path) -> Iterator[tuple[Loc, str]]:
    """A team's own dataset file exists, is of a kind each engine loads, and the engines can
    drill a team's database; each check has an expectation of one kind."""
    for i, check in enumerate(s.checks):
        bounded = check.min is not None or check.max is not None
        if sum((check.expect is not None, check.equals is not None, bounded)) > 1:
            yield ("checks", i), "give one of expect: same, equals, or min/max"
    if s.dataset.file is None:
        if s.dataset.database is not None:
            yield ("dataset", "database"), "database is for a team's own file (dataset.file)"
        return
    path = Path(s.dataset.file).expanduser()
    path = path if path.is_absolute() else folder / path
    if not path.exists():
        yield ("dataset", "file"), f"{path} does not exist"
        return
    try:
        kind = inspect_file(path).kind
    except InputError as exc:
        yield ("dataset", "file"), str(exc)
        return
    for i, engine in enumerate(s.engines):
        if engine_base(engine) not in byo_engines():
            yield ("engines", i), f"engine {engine!r} cannot load a team's own dataset (yet)"
        elif kind is not FileKind.SCRIPT and engine_base(engine) != "postgres":
            yield ("dataset", "file"), f"a {kind} loads into postgres only, not {engine}"


def _transaction_checks(s: Scenario) -> Iterator[tuple[Loc, str]]:
    """workload.transaction: SQL for every engine, the sequence number bound (see
    harness.scenario.transaction)."""
    tx = s.workload.transaction
    if tx is None:
        return
    yield from _engine_sql(s, ("workload", "transaction", "sql"), tx.sql)
    if tx.setup is not None:
        yield from _engine_sql(s, ("workload", "transaction", "setup"), tx.setup)
    yield from transaction_checks(s)


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


def _parallel_checks(s: Scenario) -> Iterator[tuple[Loc, str]]:
    """``parallel`` is an option of logical backups (a physical one has its tool's own)."""
    s3 = {store.name for store in s.stores if store.kind == "s3"}
    for i, b in enumerate(s.backups):
        if b.method != "logical" and b.parallel > 1:
            yield (
                ("backups", i, "parallel"),
                f"parallel applies to logical backups; backup {b.name!r} is {b.method}",
            )
        elif b.parallel > 1 and b.store in s3:
            yield (
                ("backups", i, "parallel"),
                f"parallel applies to volume and tmpfs stores; {b.store!r} is an s3 store "
                "(its upload is one stream)",
            )


def capabilities_needed(s: Scenario) -> set[str]:
    """The capabilities (harness.capabilities' names) a scenario asks of its engines."""
    steps = [step for x in s.strategies for step in x.steps] + list(s.recovery.steps)
    needed: set[str] = set()
    if any(b.method == "physical" for b in s.backups):
        needed.add("physical_backup")
    if any(b.method == "logical" and b.parallel > 1 for b in s.backups):
        needed.add("parallel_logical")
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


# Methods that stop the old server before copying: nothing to compare a copy with while it is
# down, so a gate on them could only pass by not looking.
STOPPING_METHODS = frozenset({"pg_upgrade_copy", "pg_upgrade_link", "inplace_upgrade"})


def migration_checks(s: Scenario) -> Iterator[tuple[Loc, str]]:
    """The method exists for every engine, the new version is of the same engine, the gate
    compares with the new server."""
    m = s.migration
    if m is None:
        return
    if m.to_version not in engine_names():
        yield (
            ("migration", "to_version"),
            f"unknown engine {m.to_version!r} (known: {', '.join(engine_names())})",
        )
    for engine in s.engines:
        base = engine_base(engine)
        if base != engine_base(m.to_version):
            yield (
                ("migration", "to_version"),
                f"a migration stays on its engine: {engine!r} cannot migrate to {m.to_version!r}",
            )
        if engine == m.to_version:
            yield ("migration", "to_version"), f"{engine!r} is already the version migrated to"
        methods = migration_methods(base)
        if m.method not in methods:
            yield (
                ("migration", "method"),
                f"engine {base!r} has no migration method {m.method!r}"
                + (f" (it has: {', '.join(sorted(methods))})" if methods else ""),
            )
    if m.skip and m.method in STOPPING_METHODS:
        yield (
            ("migration", "skip"),
            f"{m.method} carries the whole data directory over: it cannot skip {m.skip[0]}; "
            "skip objects with a dump or replication method",
        )
    if "events" in m.skip and any(engine_base(e) == "postgres" for e in s.engines):
        yield ("migration", "skip"), "postgres has no events (skip triggers or routines)"
    if m.gate is not None:
        if m.gate.compare_with != MIGRATION_TARGET:
            yield (
                ("migration", "gate", "compare_with"),
                f"a migration's gate compares the copy, {MIGRATION_TARGET!r}, with the original",
            )
        if m.method in STOPPING_METHODS:
            yield (
                ("migration", "gate"),
                f"{m.method} stops the old server before copying: there is nothing to compare "
                "the copy with; gate a copy-while-serving method, or restore-test a backup",
            )
    if s.timeline and any(f.fault != "silent_empty_backup" for f in s.timeline):
        yield ("timeline",), "a migration is the drill's incident: give no server faults with it"
