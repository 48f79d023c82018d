"""A team's own database in a drill: load it, take its source truth and run its checks
before the timeline; after recovery take the recovered truth, compare, judge the checks.

The drill's database becomes the engine's database for everything that follows (the writer,
the probe, backups, restores), so the writer's table lives beside the team's tables and is
left out of the truth (harness.engines.*.catalogue).
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from pathlib import Path

from harness import record
from harness.engines.base import PROBE_TABLE
from harness.engines.byo import byo_of
from harness.errors import InputError
from harness.measurement.catalogue import compare
from harness.measurement.checks import judge_check, run_query
from harness.measurement.transaction import compare_with_writer, without_writer_rows
from harness.runner.migration_fidelity import reprinted
from harness.runner.state import Stage, TeamData
from harness.scenario.model import sql_for
from harness.seeding import Seeded
from harness.server.byo import load_dataset, take_truth
from harness.server.node import Node

log = logging.getLogger(__name__)


def dataset_path(file: str, scenario_dir: Path | None) -> Path:
    """The team's file, relative to the scenario file's folder (InputError if missing)."""
    path = Path(file).expanduser()
    if not path.is_absolute() and scenario_dir is not None:
        path = scenario_dir / path
    if not path.exists():
        raise InputError(f"dataset.file: {path} does not exist")
    return path


def load_team_data(stage: Stage, scenario_dir: Path | None) -> tuple[Seeded, TeamData]:
    """Load the team's file into the primary, switch the drill to its database, take the
    source truth and run the checks on the source."""
    s, engine = stage.scenario, stage.engine
    assert s.dataset.file is not None
    path = dataset_path(s.dataset.file, scenario_dir)
    stage.do(f"loading {path.name} into the primary")
    loaded = load_dataset(
        stage.lab, engine, stage.topology.primary, path=path, database=s.dataset.database
    )
    engine.credentials = dataclasses.replace(engine.credentials, database=loaded.database)
    engine.probe_read_table = PROBE_TABLE
    conn = stage.connect(stage.topology.primary)
    tx = s.workload.transaction
    counters: set[str] = set()
    try:
        if tx is not None and tx.setup is not None:
            stage.do("preparing the writer's transaction (workload.transaction.setup)")
            engine.run_sql(conn, sql_for(tx.setup, engine.name))
        stage.do(f"taking the source truth of {loaded.database}")
        engine.prepare(conn)
        truth = take_truth(engine, conn, loaded.database)
        if tx is not None:
            byo = byo_of(engine)
            truth = without_writer_rows(byo, conn, truth, tx)
            counters = byo.counters(conn, [tx.table, *tx.also_writes])
        source_bytes = byo_of(engine).database_bytes(conn)
        checks = {c.name: run_query(conn, c.sql, engine.driver_errors()) for c in s.checks}
    finally:
        conn.close()
    if not truth.tables:
        raise InputError(f"{path}: loaded into {loaded.database}, but it holds no table")
    log.info(
        "source truth of %s: %d tables, %d objects in %.2f s",
        loaded.database,
        len(truth.tables),
        len(truth.objects),
        truth.took_s,
    )
    team = TeamData(loaded, truth, checks)
    team.writer_counters = counters
    return Seeded({}, source_bytes), team


def measure_team(stage: Stage, node: Node, team: TeamData) -> None:
    """The recovered truth of ``node``, compared with the source; the checks judged."""
    engine, s = stage.engine, stage.scenario
    conn = stage.connect(node)
    try:
        try:
            recovered = take_truth(engine, conn, team.loaded.database)
            if s.workload.transaction is not None:
                recovered = without_writer_rows(
                    byo_of(engine), conn, recovered, s.workload.transaction
                )
        except engine.driver_errors() as exc:  # e.g. the database itself was not restored
            log.warning("could not take the recovered truth: %s", exc)
            recovered = dataclasses.replace(team.truth, tables={}, objects=[], took_s=0.0)
        runs = {c.name: run_query(conn, c.sql, engine.driver_errors()) for c in s.checks}
    finally:
        conn.close()
    if s.migration is not None:  # another major version prints view queries its own way
        recovered = reprinted(stage, node, team.truth, recovered)
    team.recovered_truth = recovered
    if s.workload.transaction is not None:
        team.comparison = compare_with_writer(team.truth, recovered, team.writer_counters)
    else:
        team.comparison = compare(team.truth, recovered)
    team.checks = [judge_check(c, team.source_checks[c.name], runs[c.name]) for c in s.checks]


def judge_unrecovered(stage: Stage, team: TeamData) -> None:
    """Nothing came back: every check fails as not run."""
    team.checks = [judge_check(c, team.source_checks[c.name], None) for c in stage.scenario.checks]


def team_reasons(team: TeamData | None, limit: int = 8) -> list[str]:
    """Why the team's database is not verified: failing checks by name, then differences."""
    if team is None:
        return []
    reasons = [f"check {c.name} failed: {c.reason}" for c in team.checks if not c.passed]
    if team.comparison is not None:
        reasons += [f"fidelity: {d.reason}" for d in team.comparison.differences[:limit]]
        hidden = len(team.comparison.differences) - limit
        if hidden > 0:
            reasons.append(f"fidelity: {hidden} more differences (see the journal)")
    return reasons


def team_record(team: TeamData | None) -> record.TeamData | None:
    """The journal's account of the team's database (None for seeded tables)."""
    if team is None:
        return None
    truth, comparison = team.truth, team.comparison
    kinds = Counter(e.kind for e in truth.objects)
    return record.TeamData(
        file=team.loaded.file,
        kind=team.loaded.kind,
        gzipped=team.loaded.gzipped,
        file_bytes=team.loaded.bytes,
        database=team.loaded.database,
        load_s=team.loaded.took_s,
        truth_s=truth.took_s,
        recovered_truth_s=team.recovered_truth.took_s if team.recovered_truth else None,
        tables=len(truth.tables),
        objects=len(truth.objects),
        objects_by_kind=dict(sorted(kinds.items())),
        rows=sum(t.rows for t in truth.tables.values()),
        verified=team.verified,
        summary=_summary(team),
        differences=tuple(
            record.TeamDifference(kind=d.kind, name=d.name, status=str(d.status), reason=d.reason)
            for d in (comparison.differences if comparison else [])
        ),
        checks=tuple(
            record.TeamCheck(
                name=c.name,
                expectation=c.expectation,
                source=c.source,
                recovered=c.recovered,
                passed=c.passed,
                reason=c.reason,
            )
            for c in team.checks
        ),
    )


def _summary(team: TeamData) -> str:
    if team.comparison is None:
        return ""
    passed = sum(c.passed for c in team.checks)
    checks = f"; checks {passed}/{len(team.checks)} passed" if team.checks else ""
    return team.comparison.summary() + checks
