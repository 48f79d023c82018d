"""Cross-version migration drills: the primary moves to a server of another major version.

The scenario's ``migration:`` section names the method and the new version. What happens:

* prepare (right after the writer starts): resolve the new version's image; for the methods
  that copy while the old server keeps serving (dump and restore needs an empty new server,
  logical replication and MariaDB replication a following copy), start the new server now;
* cutover (at ``migration.at_s``): writes stop on the old server (read-only, or the server
  stopped for pg_upgrade and an in-place upgrade): the RTO clock starts; the copy is made or
  caught up; its fidelity is checked against the old server's truth taken just before (every
  table's digest and every schema object, with the team's-own-database catalogue code:
  harness.runner.migration_fidelity; the logical replication traps by name); the gate, if
  any, may block the cutover; the new server is verified with a read and a write, and the
  clients move to it: the RTO clock stops;
* decommission (``decommission_old``): the old server and its data are destroyed, after the
  gate (if any) passed again.

Every step is journaled with its duration (the recovery steps of the record); the migration
itself is the drill's incident, so lost acknowledged writes and table fidelity are measured on
the new server as for any recovery. The rollback question (is the old server still usable once
the new one has started?) is answered per method in the migration's evidence.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.engines import get_engine
from harness.engines.mariadb import migration as mdb
from harness.engines.migrations import ROLLBACK
from harness.engines.postgres import migration as pgm
from harness.errors import HarnessError, InfrastructureError, first_line
from harness.faults import FaultOutcome
from harness.faults.base import FaultEffect
from harness.lab.helpers import run_helper
from harness.lab.images import ResolvedImage, resolve_image
from harness.polling import poll_until
from harness.recovery.context import Recovered, RecoveryContext, StepOutcome
from harness.runner import migration_fidelity as fidelity_check
from harness.runner.gate import gate_check
from harness.runner.recover import recovery_context
from harness.runner.state import Incident, MigrationFidelity, RunState, Stage, Workers
from harness.scenario.model import MIGRATION_TARGET, Migration
from harness.seeding import Seeded
from harness.server.node import Node, provision

log = logging.getLogger(__name__)

# Shell scripts of a migration (a dump, pg_upgrade, mariadb-upgrade) end within the
# migration's timeout; polls of a following copy run this often.
POLL_S = 0.2
# How long the old server gets to shut down cleanly before pg_upgrade or an in-place upgrade.
STOP_TIMEOUT_S = 30
# Methods that stop the old server: its truth is taken just before.
STOPPING = frozenset({"pg_upgrade_copy", "pg_upgrade_link", "inplace_upgrade"})


@dataclass
class MigrationRun:
    """A migration under way: its servers, the new version's image and what was found."""

    spec: Migration
    old: Node
    image: ResolvedImage
    ctx: RecoveryContext
    do: Callable[[str], None]
    errors: tuple[type[BaseException], ...]
    new: Node | None = None
    old_version: str = "?"
    new_version: str = "?"
    findings: list[str] = field(default_factory=list)
    missing_rows: int = 0
    # pg_upgrade: the new cluster's volume and, for --link, its PGDATA inside the old volume.
    upgraded_volume: str | None = None
    upgraded_pgdata: str | None = None
    fidelity: MigrationFidelity | None = None


def prepare_migration(stage: Stage, state: RunState) -> MigrationRun:
    """Resolve the new version's image; start the copy where the method copies ahead."""
    spec = stage.scenario.migration
    assert spec is not None
    target = get_engine(spec.to_version)
    stage.do(f"resolving the image of {spec.to_version}")
    image = resolve_image(
        stage.lab.client,
        engine=spec.to_version,
        requested=stage.scenario.images.get(spec.to_version),
        default=target.default_image,
        local_build=target.local_image,
    )
    old = stage.topology.primary
    ctx = state.ledger.recovery = recovery_context(
        stage, state.ledger.catalog, failed=old, incident_wall=time.time()
    )
    run = MigrationRun(
        spec, old, image, ctx, stage.do, (HarnessError, *stage.engine.driver_errors())
    )
    run.old_version = _version(stage, old)
    # One verified read and write on the old server (it also uses the probe's sequence).
    ctx.wait_verified(old, timeout_s=spec.timeout_s)
    if spec.method in {"dump_restore", "logical_replication", "replication"}:
        _step(run, "start new server", lambda: _start_fresh(stage, run))
    if spec.method == "logical_replication":
        _step(run, "subscribe", lambda: _subscribe(stage, run))
    if spec.method == "replication":
        _step(run, "replicate", lambda: _replicate(stage, run))
    return run


def run_cutover(
    stage: Stage, seeded: Seeded, workers: Workers, state: RunState, run: MigrationRun
) -> Incident:
    """Stop writes on the old server, finish the copy, check it, and move the clients."""
    spec, ctx = run.spec, run.ctx
    rollback, why = ROLLBACK[spec.method]
    stage.do(
        f"migrating {stage.engine.name} {run.old_version} -> {spec.to_version} by {spec.method}"
    )
    fault_wall, fault_mono = time.time(), time.monotonic()
    try:
        _freeze_or_stop(stage, run)
        state.migration_fidelity = run.fidelity
        _copy(stage, run)
        if spec.lost_fraction:
            _step(run, "copy loses rows (silently)", lambda: _lose_rows(stage, run))
        _check_fidelity(stage, run)
        assert run.new is not None
        if spec.gate is not None:
            gate_mono, gate_wall = time.monotonic(), time.time()
            result = gate_check(stage, seeded.reference, state.ledger.catalog, spec.gate)
            ctx.record(
                "gate before cutover",
                StepOutcome.OK if result.passed else StepOutcome.REJECTED,
                gate_mono,
                gate_wall,
                "passed" if result.passed else result.reason,
            )
            if not result.passed:
                if run.fidelity is not None:
                    run.fidelity.cut_over = False
                _unfreeze(stage, run)
                verified = ctx.wait_verified(run.old, timeout_s=spec.timeout_s)
                _journal(
                    state,
                    workers,
                    fault_wall,
                    fault_mono,
                    FaultEffect.BLOCKED,
                    f"cutover to {spec.to_version} blocked by the migration gate: {result.reason}; "
                    f"the old server serves again",
                )
                return Incident(
                    run.old.name, fault_mono, fault_mono, Recovered(run.old, verified, verified)
                )
        restored = time.monotonic()
        started, wall = time.monotonic(), time.time()
        verified = ctx.wait_verified(run.new, timeout_s=spec.timeout_s)
        run.new_version = _version(stage, run.new)
        ctx.record("cutover", StepOutcome.OK, started, wall, f"clients move to {run.new.name}")
    except run.errors as exc:
        ctx.record("cutover", StepOutcome.FAILED, time.monotonic(), time.time(), first_line(exc))
        _journal(
            state,
            workers,
            fault_wall,
            fault_mono,
            FaultEffect.TOOK_EFFECT,
            f"{spec.method} {run.old_version} -> {spec.to_version} failed: {first_line(exc)}; "
            + "; ".join(run.findings),
        )
        return Incident(run.old.name, fault_mono, fault_mono, None, unrecoverable=False)
    if spec.decommission_old:
        _decommission(stage, seeded, state, run)
    evidence = (
        f"{spec.method}: {stage.engine.name} {run.old_version} -> {run.new_version}; "
        f"rollback after cutover: {'yes' if rollback else 'no'} ({why})"
    )
    if run.missing_rows:
        evidence += f"; {run.missing_rows} rows of {', '.join(spec.tables)} never arrived"
    if run.findings:
        evidence += "; " + "; ".join(run.findings)
    _journal(state, workers, fault_wall, fault_mono, FaultEffect.TOOK_EFFECT, evidence)
    return Incident(
        run.old.name, fault_mono, fault_mono, Recovered(run.new, restored, verified, step="cutover")
    )


# --- steps --------------------------------------------------------------------------------


def _step(run: MigrationRun, name: str, action: Any) -> None:
    """Run one step; journal it with its duration; a failure ends the migration."""
    started, wall = time.monotonic(), time.time()
    run.do(f"migration: {name}")
    try:
        detail = action() or ""
    except run.errors as exc:
        run.ctx.record(name, StepOutcome.FAILED, started, wall, first_line(exc, limit=300))
        if isinstance(exc, HarnessError):
            raise
        raise InfrastructureError(f"{name}: {first_line(exc)}") from exc
    run.ctx.record(name, StepOutcome.OK, started, wall, str(detail))


def _exec(stage: Stage, node: Node, script: str, *, what: str, timeout_s: float) -> str:
    result = stage.lab.exec(node.container_id, ["bash", "-c", script], timeout_s=timeout_s)
    if not result.ok:
        raise InfrastructureError(f"{what} failed: {result.tail()}")
    return result.stdout.strip()[-300:]


def _sql(stage: Stage, node: Node, statements: list[str]) -> str:
    conn = stage.connect(node)
    try:
        for statement in statements:
            _execute(conn, statement)
    finally:
        conn.close()
    return f"{len(statements)} statement(s) on {node.name}"


def _execute(conn: Any, statement: str) -> None:
    if hasattr(conn, "execute"):  # psycopg
        conn.execute(statement.encode())
    else:  # PyMySQL
        with conn.cursor() as cur:
            cur.execute(statement)


def _query(stage: Stage, node: Node, fn: Any) -> Any:
    conn = stage.connect(node)
    try:
        return fn(conn)
    finally:
        conn.close()


def _version(stage: Stage, node: Node) -> str:
    reader = pgm.server_version if stage.engine.name == "postgres" else mdb.server_version
    errors: tuple[type[BaseException], ...] = (HarnessError, *stage.engine.driver_errors())
    try:
        return str(_query(stage, node, reader))
    except errors:
        return "?"


def _start_fresh(stage: Stage, run: MigrationRun) -> str:
    run.new = provision(
        stage.lab,
        stage.engine,
        image=run.image.name,
        name=MIGRATION_TARGET,
        command=stage.engine.server_command(),
        data_volume=stage.lab.volume(f"data-{MIGRATION_TARGET}", role="database-data"),
    )
    stage.topology.replicas[MIGRATION_TARGET] = run.new
    run.new_version = _version(stage, run.new)
    return f"{run.image.name} ({run.new_version}), empty"


def _subscribe(stage: Stage, run: MigrationRun) -> str:
    """PostgreSQL: schema copied, publication on the old server, subscription on the new."""
    assert run.new is not None
    c, old = stage.engine.credentials, run.old.name
    timeout = run.spec.timeout_s
    _exec(
        stage,
        run.new,
        pgm.schema_copy_script(c, source_host=old, skip=tuple(run.spec.skip)),
        what="schema copy",
        timeout_s=timeout,
    )
    _exec(stage, run.new, pgm.pgpass_script(c, source_host=old), what="pgpass", timeout_s=30)
    _sql(stage, run.old, pgm.publish_statements())
    _sql(stage, run.new, [pgm.subscribe_statement(c, source_host=old)])
    new = run.new
    poll_until(
        lambda: True if _query(stage, new, pgm.initial_sync_done) else None,
        what="the subscription's initial copy",
        timeout_s=timeout,
        interval_s=POLL_S,
        retry_on=(HarnessError, *stage.engine.driver_errors()),
    )
    return "schema by pg_dump --schema-only; publication FOR ALL TABLES; initial copy done"


def _replicate(stage: Stage, run: MigrationRun) -> str:
    """MariaDB: a consistent dump with its GTID position, then replication old -> new."""
    assert run.new is not None
    script = mdb.replica_seed_script(
        _root_client(stage),
        database=stage.engine.credentials.database,
        source_host=run.old.name,
        skip=tuple(run.spec.skip),
    )
    _exec(stage, run.new, script, what="replication seed", timeout_s=run.spec.timeout_s)
    return "mariadb-dump --master-data --gtid loaded; following the old server by GTID"


def _root_client(stage: Stage) -> str:
    return str(stage.engine.root_client())  # type: ignore[attr-defined]


def _source_truth(stage: Stage, run: MigrationRun) -> None:
    """The old server's truth, the fidelity check's reference (writes frozen, or just before
    the server stops)."""

    def take() -> str:
        truth = fidelity_check.truth_of(stage, run.old)
        run.fidelity = MigrationFidelity(truth)
        return f"{len(truth.tables)} tables, {len(truth.objects)} objects on {run.old.name}"

    _step(run, "source truth", take)


def _freeze_or_stop(stage: Stage, run: MigrationRun) -> None:
    spec, engine = run.spec, stage.engine
    if spec.method in STOPPING:
        _source_truth(stage, run)
    if spec.method in {"pg_upgrade_copy", "pg_upgrade_link"}:
        _step(run, "stop old server", lambda: _stop(stage, run, "fast shutdown"))
    elif spec.method == "inplace_upgrade":

        def slow_stop() -> str:
            _exec(
                stage,
                run.old,
                f'{_root_client(stage)} -e "{mdb.slow_shutdown_sql()}"',
                what="innodb_fast_shutdown=0",
                timeout_s=30,
            )
            return _stop(stage, run, "innodb_fast_shutdown=0, clean shutdown")

        _step(run, "stop old server", slow_stop)
    elif engine.name == "postgres":
        _step(run, "freeze writes", lambda: _sql(stage, run.old, pgm.freeze_statements()))
    else:
        _step(
            run,
            "freeze writes",
            lambda: _exec(
                stage,
                run.old,
                f'{_root_client(stage)} -e "{mdb.freeze_sql(engine.credentials.user)}"',
                what="read_only",
                timeout_s=30,
            ),
        )
    if spec.method not in STOPPING:
        _source_truth(stage, run)


def _unfreeze(stage: Stage, run: MigrationRun) -> None:
    if stage.engine.name == "postgres":
        _step(run, "unfreeze old server", lambda: _sql(stage, run.old, pgm.unfreeze_statements()))
    else:
        _step(
            run,
            "unfreeze old server",
            lambda: _exec(
                stage,
                run.old,
                f'{_root_client(stage)} -e "{mdb.unfreeze_sql(stage.engine.credentials.user)}"',
                what="read_only off",
                timeout_s=30,
            ),
        )


def _stop(stage: Stage, run: MigrationRun, how: str) -> str:
    stage.lab.stop(run.old.container_id, timeout_s=STOP_TIMEOUT_S)
    return f"{run.old.name} stopped ({how})"


def _copy(stage: Stage, run: MigrationRun) -> None:
    spec, engine, c = run.spec, stage.engine, stage.engine.credentials
    timeout = spec.timeout_s
    if spec.method in {"pg_upgrade_copy", "pg_upgrade_link"}:
        _step(run, "pg_upgrade", lambda: _pg_upgrade(stage, run))
        _step(run, "start new server", lambda: _start_upgraded(stage, run))
    elif spec.method == "inplace_upgrade":
        _step(run, "start new server on the old data", lambda: _start_upgraded(stage, run))
        assert run.new is not None
        new = run.new
        _step(
            run,
            "mariadb-upgrade",
            lambda: _exec(
                stage,
                new,
                mdb.upgrade_script(_root_client(stage)),
                what="mariadb-upgrade",
                timeout_s=timeout,
            ),
        )
    elif spec.method == "dump_restore":
        assert run.new is not None
        new = run.new
        script = (
            pgm.dump_restore_script(c, source_host=run.old.name, skip=tuple(spec.skip))
            if engine.name == "postgres"
            else mdb.dump_restore_script(
                _root_client(stage),
                database=c.database,
                source_host=run.old.name,
                skip=tuple(spec.skip),
            )
        )
        tools = "pg_dump | pg_restore" if engine.name == "postgres" else "mariadb-dump | mariadb"

        def dump_restore() -> str:
            _exec(stage, new, script, what="dump and restore", timeout_s=timeout)
            return f"{tools} ({run.image.name} tools reading the old server)"

        _step(run, "dump and restore", dump_restore)
    else:  # logical_replication, replication: wait until the copy has every write
        _step(run, "catch up", lambda: _caught_up(stage, run))
        assert run.new is not None
        new = run.new
        if spec.method == "logical_replication":

            def detach() -> str:
                _sql(stage, new, pgm.drop_subscription_statements())
                _sql(stage, run.old, pgm.drop_slot_statements())
                return "subscription dropped; its slot on the old server dropped"

            _step(run, "detach", detach)
        else:
            _step(
                run,
                "detach",
                lambda: (
                    _exec(
                        stage,
                        new,
                        f'{_root_client(stage)} -e "{"; ".join(mdb.stop_following_sql())}"',
                        what="stop replication",
                        timeout_s=30,
                    )
                    or "replication stopped, reset"
                ),
            )


def _caught_up(stage: Stage, run: MigrationRun) -> str:
    """The copy holds exactly the writes the (frozen) old server holds."""
    assert run.new is not None
    new, engine = run.new, stage.engine
    wanted = _query(stage, run.old, engine.write_seqs)

    def same() -> bool | None:
        return True if _query(stage, new, engine.write_seqs) == wanted else None

    try:
        poll_until(
            same,
            what=f"{MIGRATION_TARGET} to hold the old server's {len(wanted)} writes",
            timeout_s=run.spec.timeout_s,
            interval_s=POLL_S,
            retry_on=(HarnessError, *engine.driver_errors()),
        )
    except HarnessError as exc:
        if engine.name != "mariadb":
            raise
        status = stage.lab.exec(
            new.container_id,
            ["bash", "-c", f"{_root_client(stage)} -e 'SHOW SLAVE STATUS\\G' | {mdb.STATUS_LINES}"],
            timeout_s=30,
        )
        raise InfrastructureError(
            f"{first_line(exc)}; replica: {' '.join(status.lines())}"
        ) from exc
    return f"{len(wanted)} writes on both servers"


def _pg_upgrade(stage: Stage, run: MigrationRun) -> str:
    spec, engine = run.spec, stage.engine
    link = spec.method == "pg_upgrade_link"
    old_major = run.old_version.split(".")[0]
    new_major = spec.to_version.partition("@")[2] or "17"
    assert run.old.data_volume is not None
    mounts = {run.old.data_volume: engine.datadir}
    if link:
        new_dir = f"{engine.datadir}/{pgm.LINK_SUBDIR}"
        new_volume = run.old.data_volume
    else:
        new_dir = "/var/lib/postgresql/upgraded"
        new_volume = stage.lab.volume(f"data-{MIGRATION_TARGET}", role="database-data")
        mounts[new_volume] = new_dir
    script = pgm.upgrade_script(
        engine.credentials,
        old_major=old_major,
        new_major=new_major,
        new_dir=new_dir,
        link=link,
        initdb_args=getattr(engine, "initdb_args", ""),
    )
    result = run_helper(
        stage.lab,
        image=run.image.name,
        name="pg-upgrade",
        mounts=mounts,
        script=f'export POSTGRES_PASSWORD="$PGPASSWORD"; {script}',
        env=engine.tool_env(),
        timeout_s=spec.timeout_s,
    )
    if not result.ok:
        raise InfrastructureError(f"pg_upgrade failed: {result.tail()}")
    run.findings.append(
        "pg_upgrade leaves the planner statistics behind: run vacuumdb --analyze-in-stages"
    )
    run.upgraded_volume = new_volume
    run.upgraded_pgdata = new_dir if link else None
    return f"pg_upgrade {'--link' if link else '--copy'} {old_major} -> {new_major}"


def _start_upgraded(stage: Stage, run: MigrationRun) -> str:
    """The new version's server on the upgraded (or, in place, the old) data directory."""
    engine, lab = stage.engine, stage.lab
    if run.spec.method == "inplace_upgrade":
        assert run.old.data_volume is not None
        volume, pgdata = run.old.data_volume, None
    else:
        assert run.upgraded_volume is not None
        volume, pgdata = run.upgraded_volume, run.upgraded_pgdata
    container = engine.container(run.image.name, wait=False)
    if pgdata is not None:
        container.with_env("PGDATA", pgdata)
    container.with_volume_mapping(volume, engine.datadir, mode="rw")
    container.with_command(engine.server_command())
    started = lab.start(container, role="database", alias=MIGRATION_TARGET)
    run.new = Node(
        name=MIGRATION_TARGET,
        container=started,
        container_id=started.get_wrapped_container().id,
        data_volume=volume,
        mounts={volume: engine.datadir},
    )
    stage.topology.replicas[MIGRATION_TARGET] = run.new
    new = run.new

    def up() -> bool | None:
        conn = stage.connect(new)
        conn.close()
        return True

    poll_until(
        up,
        what=f"{MIGRATION_TARGET} to accept connections",
        timeout_s=run.spec.timeout_s,
        interval_s=POLL_S,
        retry_on=(HarnessError, *engine.driver_errors()),
    )
    run.new_version = _version(stage, new)
    return f"{run.image.name} ({run.new_version}) serves"


def _lose_rows(stage: Stage, run: MigrationRun) -> str:
    """Part of the copy never arrives: every n-th row of ``tables`` gone on the new server."""
    assert run.new is not None
    spec, engine = run.spec, stage.engine
    every = max(1, round(1 / spec.lost_fraction))
    conn = stage.connect(run.new)
    try:
        before = sum(engine.count_rows(conn, t) for t in spec.tables)
        engine.run_sql(conn, [f"DELETE FROM {t} WHERE id % {every} = 0" for t in spec.tables])
        after = sum(engine.count_rows(conn, t) for t in spec.tables)
    finally:
        conn.close()
    run.missing_rows = before - after
    return f"{run.missing_rows} rows never arrived (nobody is told)"


def _check_fidelity(stage: Stage, run: MigrationRun) -> None:
    """Every table and schema object of the old server (its truth before the cutover) on the
    new one; the differences named (with the logical replication traps). Logical replication
    leaves every sequence where the schema copy put it: the usual cutover (``sync_sequences``)
    copies their values, so the first insert after the cutover cannot collide."""
    assert run.new is not None and run.fidelity is not None
    fidelity, new = run.fidelity, run.new
    started, wall = time.monotonic(), time.time()
    try:
        comparison = fidelity_check.check(stage, run, fidelity)
    except run.errors as exc:
        run.ctx.record("fidelity check", StepOutcome.FAILED, started, wall, first_line(exc))
        raise
    text = fidelity_check.detail(comparison)
    if comparison.ok:
        run.ctx.record("fidelity check", StepOutcome.OK, started, wall, text)
        return
    run.findings.extend(d.reason for d in comparison.differences[: fidelity_check.DETAIL_LIMIT])
    run.ctx.record("fidelity check", StepOutcome.FAILED, started, wall, text)
    behind = fidelity_check.behind_sequences(fidelity)
    if behind and run.spec.method == "logical_replication" and run.spec.sync_sequences:
        _step(
            run,
            "copy sequence values",
            lambda: _sql(
                stage, new, [pgm.setval_statement(n, v) for n, v in sorted(behind.items())]
            ),
        )
        fidelity.repaired.extend(sorted(behind))
        run.findings.append(f"{len(behind)} sequence value(s) copied at the cutover")


def _decommission(stage: Stage, seeded: Seeded, state: RunState, run: MigrationRun) -> None:
    """Destroy the old server and its data (after the gate, if any, passed again)."""
    spec = run.spec
    if spec.gate is not None and run.old.name in stage.topology.nodes:
        gate_mono, gate_wall = time.monotonic(), time.time()
        result = gate_check(stage, seeded.reference, state.ledger.catalog, spec.gate)
        run.ctx.record(
            "gate before decommission",
            StepOutcome.OK if result.passed else StepOutcome.REJECTED,
            gate_mono,
            gate_wall,
            "passed" if result.passed else result.reason,
        )
        if not result.passed:
            run.findings.append(f"old server kept: {result.reason}")
            return

    def destroy() -> str:
        stage.lab.remove(run.old.container_id)
        shared = run.new is not None and run.new.data_volume == run.old.data_volume
        if run.old.data_volume is not None and not shared:
            stage.lab.remove_volume(run.old.data_volume)
        return f"{run.old.name} and its data destroyed"

    _step(run, "decommission old server", destroy)


def _journal(
    state: RunState,
    workers: Workers,
    at_wall: float,
    at_mono: float,
    effect: FaultEffect,
    evidence: str,
) -> None:
    state.ledger.faults.append(
        FaultOutcome(
            "migration",
            f"primary -> {MIGRATION_TARGET}",
            at_wall,
            at_mono - workers.t0,
            effect,
            evidence,
        )
    )
