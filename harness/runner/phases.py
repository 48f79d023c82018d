"""The order of a drill's phases: start the servers, seed, clone replicas, run the timeline,
write to the recovered server, measure.

Each phase's result goes into its slot of the run state as soon as it is known, so that a
later failure still journals it; durations go into the ledger's ``timings``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from harness.backups.catalog import Verification
from harness.engines.base import Engine
from harness.engines.byo import byo_of
from harness.lab.images import ResolvedImage
from harness.lab.lab import Lab
from harness.measurement.fidelity import (
    Measured,
    measure_recovered,
    measure_unrecoverable,
    table_states,
)
from harness.measurement.latency import writer_latency
from harness.progress import Progress
from harness.runner.state import Incident, RunState, Stage, Workers
from harness.runner.team import judge_unrecovered, load_team_data, measure_team
from harness.runner.timeline import run_timeline, start_workers
from harness.scenario.model import Scenario
from harness.seeding import Seeded, per_table, seed
from harness.server.topology import add_replica, build


def run_phases(
    scenario: Scenario,
    engine: Engine,
    lab: Lab,
    *,
    image: ResolvedImage,
    state: RunState,
    progress: Progress,
    do: Callable[[str], None],
    scenario_dir: Path | None = None,
    s3_image: str | None = None,
) -> None:
    """Run every phase of the drill in ``lab``, filling ``state``; a team's own dataset file
    is found relative to ``scenario_dir``; ``s3_image`` is the lab's S3 server image."""
    s, timings = scenario, state.ledger.timings
    since = time.monotonic()
    do("starting the primary server" + (" and the backup agent" if s.stores else ""))
    topo = build(lab, engine, s, image=image.name, s3_image=s3_image)
    timings["containers_start_s"] = _since(since)
    stage = Stage(s, engine, lab, image, topo, progress, do)

    since = time.monotonic()
    if s.dataset.file is not None:
        seeded, state.team = load_team_data(stage, scenario_dir)
        state.seeded = seeded
        timings["load_s"] = state.team.loaded.took_s
        timings["truth_s"] = state.team.truth.took_s
    else:
        do(f"seeding {s.dataset.tables} tables x {s.dataset.rows_per_table} rows")
        seeded = state.seeded = _seed(stage)
    timings["seed_s"] = _since(since)

    if s.topology.replicas:
        since = time.monotonic()
        _clone_replicas(stage)
        timings["replicas_start_s"] = _since(since)

    do("starting the writer")
    workers = state.workers = start_workers(stage, state.acks_path)
    run_timeline(stage, seeded, workers, state)

    incident = state.incident
    recovered = incident.recovered if incident else None
    if recovered is not None:
        target = recovered.node
        workers.writer.retarget(target.name, target.endpoint(lab, engine))
        do(f"writing to {target.name} for {s.workload.after_recovery_s:g} s")
        time.sleep(s.workload.after_recovery_s)
    do("stopping the writer")
    workers.writer.stop()
    state.latency = writer_latency(
        workers.writer.log,
        start_mono=workers.t0,
        fault_mono=incident.fault_mono if incident else None,
        recovered_mono=recovered.verified_mono if recovered else None,
        recovered_target=recovered.node.name if recovered else None,
        end_mono=time.monotonic(),
    )
    workers.monitor.stop()
    if workers.reader is not None:
        workers.reader.stop()
    if incident is not None and incident.recovered is not None:
        state.measured = _measure(stage, seeded, workers, incident, timings)
        if state.team is not None:
            since = time.monotonic()
            measure_team(stage, incident.recovered.node, state.team)
            timings["recovered_truth_s"] = _since(since)
    elif incident is not None and incident.unrecoverable:
        state.measured = measure_unrecoverable(
            workers.writer.records(), seeded.reference, fault_mono=incident.fault_mono
        )
        if state.team is not None:
            judge_unrecovered(stage, state.team)


def _seed(stage: Stage) -> Seeded:
    conn = stage.connect(stage.topology.primary)
    try:
        primary = stage.topology.primary
        return seed(
            stage.engine, conn, stage.scenario.dataset, connect=lambda: stage.connect(primary)
        )
    finally:
        conn.close()


def _clone_replicas(stage: Stage) -> None:
    for replica in stage.scenario.topology.replicas:
        stage.do(f"cloning the primary into replica {replica.name}")
        add_replica(
            stage.lab,
            stage.engine,
            stage.topology,
            replica,
            image=stage.image.name,
            connect=stage.connect,
        )


def _measure(
    stage: Stage,
    seeded: Seeded,
    workers: Workers,
    incident: Incident,
    timings: dict[str, float],
) -> Measured:
    recovered, engine = incident.recovered, stage.engine
    assert recovered is not None and incident.detected_mono is not None
    stage.do("measuring lost writes and data fidelity")
    since = time.monotonic()
    conn = stage.connect(recovered.node)
    try:
        surviving = surviving_writes(stage, conn)
        node = recovered.node
        recovered_fps = {
            t: state
            for part in per_table(
                conn,
                lambda: stage.connect(node),
                lambda c, t: table_states(engine, c, [t]),
                list(seeded.reference),
            )
            for t, state in part.items()
        }
    finally:
        conn.close()
    timings["measure_s"] = _since(since)
    landing = recovered.landing
    measured = measure_recovered(
        workers.writer.records(),
        surviving,
        recovered_fps,
        fault_mono=incident.fault_mono,
        detected_mono=incident.detected_mono,
        restored_mono=recovered.restored_mono,
        verified_mono=recovered.verified_mono,
        incident_node=incident.node,
        pitr_target_wall=landing.target_wall if landing is not None else None,
        pitr_tolerance_s=landing.tolerance_s if landing is not None else 0.0,
    )
    source = recovered.restored_from
    if source is not None and recovered_fps == seeded.reference:
        source.verification = Verification.RESTORE_TESTED
        source.checks.append("restore_tested")
    return measured


def surviving_writes(stage: Stage, conn: object) -> set[int]:
    """The writer's sequence numbers on the recovered server: its own table's, or with a
    custom transaction those in the team's table and column (workload.transaction)."""
    tx = stage.scenario.workload.transaction
    if tx is None:
        return stage.engine.write_seqs(conn)
    return byo_of(stage.engine).seqs_in(conn, tx.table, tx.seq_column)


def _since(since: float) -> float:
    return round(time.monotonic() - since, 4)
