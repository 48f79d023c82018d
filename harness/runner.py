"""Orchestration of one drill: provision, seed, write, back up, break, recover, measure, judge.

The runner keeps a ``current action`` breadcrumb, so any failure is recorded as "failed while
<action> (<first line of the error>)". Faults are reverted and the lab (every container,
network and volume of the run) is removed in ``finally``, also on Ctrl-C.

Timeline: backups and faults run at their ``at_s`` (seconds after the writer starts). Faults
before the last one are preconditions (a broken standby, a damaged archive, a corrupt backup);
the last one is the incident: it starts the RTO and RPO clocks, and the recovery procedure
answers it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.backups.catalog import Catalog, Verification
from harness.backups.logical import dump_job, take_logical_backup
from harness.backups.physical import take_physical_backup
from harness.backups.verify import verify_stored
from harness.clock import clock_facts, iso_utc
from harness.dataset import Fingerprint, reference_fingerprint, table_names
from harness.engines import get_engine
from harness.engines.base import Engine
from harness.errors import HarnessError, InfrastructureError, first_line
from harness.faults import FaultContext, FaultOutcome, NodeFault, SilentEmptyBackup, node_fault
from harness.faults.base import Effect
from harness.lab.docker_client import docker_client
from harness.lab.images import ResolvedImage, resolve_image
from harness.lab.lab import Lab
from harness.measurement.measure import (
    Landing,
    RpoResult,
    RtoResult,
    measure_landing,
    measure_rpo,
    measure_rto,
    to_ranges,
)
from harness.measurement.monitor import LagMonitor
from harness.measurement.verdict import Outcome, Verdict, decide, objectives_met
from harness.measurement.workload import Reader, Writer
from harness.polling import poll_until
from harness.progress import NullProgress, Progress
from harness.recovery.context import Recovered, RecoveryContext, StepOutcome
from harness.recovery.gate import GateResult, check_gate
from harness.recovery.pipeline import run_recovery
from harness.report.journal import JOURNAL_VERSION, write_journal
from harness.scenario.model import (
    Backup,
    BadMigration,
    MigrationCutover,
    MigrationGate,
    PitrStep,
    Scenario,
    ServerFault,
)
from harness.server.health import healthy_within
from harness.server.node import Node
from harness.server.topology import Topology, add_replica, build

log = logging.getLogger(__name__)


def new_run_id() -> str:
    """A run id that sorts by time and is safe in container, network and volume names."""
    now = dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass
class DrillResult:
    """How one drill ended and where its journal is."""

    run_id: str
    scenario: str
    engine: str
    verdict: Verdict
    journal_path: Path
    journal: dict[str, Any]
    strategy: str | None = None


@dataclass
class _State:
    """What the drill learned as it went; turned into the journal at the end."""

    image: ResolvedImage | None = None
    topology: Topology | None = None
    reference: dict[str, Fingerprint] = field(default_factory=dict)
    source_bytes: int = 0
    catalog: Catalog = field(default_factory=Catalog)
    faults: list[FaultOutcome] = field(default_factory=list)
    pending_reverts: list[tuple[NodeFault, FaultContext]] = field(default_factory=list)
    recovery: RecoveryContext | None = None
    recovered: Recovered | None = None
    incident_node: str = "primary"
    fault_mono: float | None = None
    fault_position: tuple[str, float] | None = None
    detected_mono: float | None = None
    recovered_fps: dict[str, Fingerprint | None] | None = None
    rpo: RpoResult | None = None
    rto: RtoResult | None = None
    landing: Landing | None = None
    timings: dict[str, float] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    gate_blocked: bool = False
    unrecoverable: bool = False
    writer: Writer | None = None
    reader: Reader | None = None
    monitor: LagMonitor | None = None


class Drill:
    """One scenario on one engine (and, for a strategy comparison, one strategy)."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        source: Path,
        engine: str,
        out_dir: Path,
        image: str | None = None,
        progress: Progress | None = None,
        strategy: str | None = None,
    ) -> None:
        self.strategy = strategy
        self.scenario = scenario.for_strategy(strategy) if strategy else scenario
        self.source = source
        self.engine_name = engine
        self.engine: Engine = get_engine(engine)
        self.image_override = image or scenario.images.get(engine)
        self.run_id = new_run_id()
        self.run_dir = out_dir / self.run_id
        self.journal_path = self.run_dir / "journal.json"
        self.progress = progress or NullProgress()
        self.action = "starting"
        self.error_detail = ""
        self.state = _State()
        self._started_wall = time.time()
        self._started_mono = time.monotonic()
        self._t0 = self._started_mono  # the writer's start, once it has started

    # -- the breadcrumb ---------------------------------------------------------------------
    def _do(self, action: str) -> None:
        self.action = action
        self.progress.phase(action)
        log.debug("%s: %s", self.run_id, action)

    def _timed(self, name: str, since: float) -> None:
        self.state.timings[name] = round(time.monotonic() - since, 4)

    # -- entry point ------------------------------------------------------------------------
    def run(self) -> DrillResult:
        """Run the drill; never raises HarnessError (it becomes verdict ``error``)."""
        title = f"{self.scenario.name}{f' [{self.strategy}]' if self.strategy else ''}"
        self.progress.begin(f"{title} on {self.engine_name}")
        self._save("started")
        status, verdict, error = "done", Verdict.ERROR, ""
        reasons: list[str] = []
        checks: list[Any] = []
        try:
            self._execute()
            verdict, checks, reasons = self._judge()
        except HarnessError as exc:
            status, error = "failed", f"failed while {self.action} ({first_line(exc)})"
            reasons = [error]
            self.error_detail = str(exc)[-4000:]
            log.error("%s: %s", self.scenario.name, error)
        except Exception as exc:  # a bug, not an outcome: record it, clean up, report exit 3
            status = "failed"
            error = f"internal error while {self.action} ({type(exc).__name__}: {exc})"
            reasons = [error]
            log.exception("%s: %s", self.scenario.name, error)
        except KeyboardInterrupt:
            status, error = "interrupted", f"interrupted while {self.action}"
            self._save(status, verdict=Verdict.ERROR, reasons=[error], error=error)
            raise
        finally:
            self.progress.end()
        journal = self._save(status, verdict=verdict, reasons=reasons, checks=checks, error=error)
        return DrillResult(
            self.run_id,
            self.scenario.name,
            self.engine_name,
            verdict,
            self.journal_path,
            journal,
            self.strategy,
        )

    def _execute(self) -> None:
        engine, st = self.engine, self.state
        self._do("connecting to the Docker engine")
        client = docker_client()
        self._do("resolving the engine image")
        st.image = resolve_image(
            client,
            engine=engine.name,
            requested=self.image_override,
            default=engine.default_image,
            local_build=engine.local_image,
        )
        with Lab(self.run_id, client=client) as lab:
            try:
                self._drill(lab)
            finally:
                for worker in (st.writer, st.reader, st.monitor):
                    if worker is not None:
                        worker.stop()
                for fault, fctx in reversed(st.pending_reverts):
                    with contextlib.suppress(HarnessError, *engine.driver_errors()):
                        fault.revert(fctx)
                # Not a breadcrumb: a failure above must stay "failed while <its action>".
                self.progress.phase("removing the lab (containers, network, volumes)")

    def _drill(self, lab: Lab) -> None:
        s, engine, st = self.scenario, self.engine, self.state
        assert st.image is not None
        since = time.monotonic()
        self._do("starting the primary server" + (" and the backup agent" if s.stores else ""))
        topo = st.topology = build(lab, engine, s, image=st.image.name)
        self._timed("containers_start_s", since)

        since = time.monotonic()
        self._do(f"seeding {s.dataset.tables} tables x {s.dataset.rows_per_table} rows")
        self._seed(lab, topo.primary)
        self._timed("seed_s", since)

        if s.topology.replicas:
            since = time.monotonic()
            for replica in s.topology.replicas:
                self._do(f"cloning the primary into replica {replica.name}")
                add_replica(
                    lab,
                    engine,
                    topo,
                    replica,
                    image=st.image.name,
                    connect=lambda n: self._connect(lab, n),
                )
            self._timed("replicas_start_s", since)

        self._do("starting the writer")
        writer = st.writer = Writer(engine, rate_per_s=s.workload.rate_per_s)
        self.progress.watch(writer.counts)
        writer.retarget(topo.primary.name, topo.primary.endpoint(lab, engine))
        writer.start()
        t0 = self._t0 = time.monotonic()
        st.monitor = LagMonitor(
            engine,
            lambda: self._connect(lab, topo.primary),
            t0=t0,
            archive=topo.archive_volume is not None,
            replicas=bool(topo.replicas),
        ).start()
        reader_table = next(
            (
                f.old_reader_table
                for f in s.timeline
                if isinstance(f, BadMigration) and f.old_reader_table
            ),
            None,
        )
        if reader_table:
            st.reader = Reader(engine, topo.primary.endpoint(lab, engine), table=reader_table)
            st.reader.start()

        incident = s.incident
        events: list[tuple[float, int, Backup | ServerFault]] = [
            (b.at_s, 0, b) for b in s.backups
        ] + [(f.at_s, 1, f) for f in s.server_faults]
        for at_s, _, event in sorted(events, key=lambda e: (e[0], e[1])):
            time.sleep(max(0.0, t0 + at_s - time.monotonic()))
            if isinstance(event, Backup):
                self._backup(event)
            else:
                self._fault(lab, event, t0, incident=event is incident)

        if st.recovered is not None:
            target = st.recovered.node
            writer.retarget(target.name, target.endpoint(lab, engine))
            self._do(f"writing to {target.name} for {s.workload.after_recovery_s:g} s")
            time.sleep(s.workload.after_recovery_s)
        self._do("stopping the writer")
        writer.stop()
        if st.monitor is not None:
            st.monitor.stop()
        if st.reader is not None:
            st.reader.stop()
        if st.recovered is not None:
            self._measure(lab, st.recovered.node)
        elif st.unrecoverable and st.fault_mono is not None:
            # Nothing came back: every acknowledged write and every seeded row is lost.
            st.rpo = measure_rpo(writer.records(), set(), fault_mono=st.fault_mono)
            st.recovered_fps = {t: None for t in st.reference}

    # -- phases ---------------------------------------------------------------------------------
    def _seed(self, lab: Lab, primary: Node) -> None:
        s, engine, st = self.scenario, self.engine, self.state
        tables = table_names(s.dataset.tables)
        conn = self._connect(lab, primary)
        try:
            engine.prepare(conn)
            engine.seed(conn, s.dataset)
            seeded = engine.fingerprints(conn, tables)
            st.source_bytes = engine.source_bytes(conn, tables)
        finally:
            conn.close()
        st.reference = {
            t: reference_fingerprint(
                seed=s.dataset.seed, table_index=i, count=s.dataset.rows_per_table
            )
            for i, t in enumerate(tables, start=1)
        }
        if seeded != st.reference:
            raise InfrastructureError(
                f"seeded data does not match its reference fingerprints: {seeded} != {st.reference}"
            )

    def _backup(self, backup: Backup) -> None:
        st, engine = self.state, self.engine
        assert st.writer is not None and st.topology is not None
        agent, primary = st.topology.agent, st.topology.primary
        assert agent is not None
        self._do(f"taking {backup.method} backup {backup.name}")
        spec = self.scenario.backup_fault(backup.name)
        fault = SilentEmptyBackup(spec) if spec is not None else None
        at_wall, at_mono = time.time(), time.monotonic()
        if backup.method == "physical":
            record = take_physical_backup(
                agent,
                engine,
                backup,
                source_host=primary.name,
                source_bytes=st.source_bytes,
                last_acked_seq=st.writer.last_acked_seq(),
                source_volume=primary.data_volume,
                image=st.image.name if st.image else "",
            )
        else:
            job = dump_job(engine, backup, source_host=primary.name)
            if fault is not None:
                job = fault.broken(job)
            record = take_logical_backup(
                agent,
                engine,
                backup,
                job,
                source_bytes=st.source_bytes,
                last_acked_seq=st.writer.last_acked_seq(),
            )
        record.faulted = fault is not None
        verify_stored(agent, engine, record)
        st.catalog.add(record)
        if record.verification < Verification.CHECKSUM_MATCHES:
            log.warning(
                "backup %s failed verification: %s", record.name, record.verification_failure
            )
            if self.scenario.monitoring.backup_alerts:
                st.alerts.append(
                    {
                        "at_s": round(at_mono - self._t0, 3),
                        "backup": record.name,
                        "reason": record.verification_failure,
                    }
                )
        if st.monitor is not None:
            st.monitor.sample()
        if fault is not None:
            effect = fault.took_effect(record)
            st.faults.append(
                FaultOutcome(
                    fault.type,
                    f"backup:{backup.name}",
                    at_wall,
                    at_mono - self._t0,
                    effect.kind,
                    effect.evidence,
                )
            )
            fault.revert()

    def _fault_context(self, lab: Lab, spec: ServerFault) -> FaultContext:
        st, engine = self.state, self.engine
        assert st.topology is not None and st.writer is not None
        topo = st.topology
        target_name = getattr(spec, "target", topo.primary.name)
        node = topo.nodes.get(target_name, topo.primary)
        return FaultContext(
            lab=lab,
            engine=engine,
            target=node.target(),
            connect=lambda: self._connect(lab, node),
            acked_seqs=st.writer.acked_seqs,
            connect_primary=lambda: self._connect(lab, topo.primary),
            agent=topo.agent,
            catalog=st.catalog,
            archive_store=self.scenario.topology.wal_archive,
            damaged_tables=lambda name: self._damaged_tables(lab, topo.nodes[name]),
            node_names=tuple(topo.nodes),
            reachable_mounts=tuple(topo.reachable_mounts),
            gate_check=lambda gate: self._gate_check(lab, gate),
        )

    def _wants_fault_position(self) -> bool:
        s = self.scenario
        steps = [step for x in s.strategies for step in x.steps] + list(s.recovery.steps)
        return any(isinstance(step, PitrStep) and step.target.fault_position for step in steps)

    def _read_position(self, lab: Lab, primary: Node) -> tuple[str, float] | None:
        """The primary's log position now, and when it was read (None if unreadable)."""
        errors: tuple[type[BaseException], ...] = (HarnessError, *self.engine.driver_errors())
        try:
            conn = self._connect(lab, primary)
            try:
                position = self.engine.position(conn)
            finally:
                conn.close()
        except errors as exc:
            log.warning("could not read the primary's log position before the fault: %s", exc)
            return None
        return (position, time.time()) if position else None

    def _fault(self, lab: Lab, spec: ServerFault, t0: float, *, incident: bool) -> None:
        st, engine, s = self.state, self.engine, self.scenario
        assert st.topology is not None
        fault: NodeFault = node_fault(spec)
        fctx = self._fault_context(lab, spec)
        where = str(
            getattr(spec, "target", None)
            or getattr(spec, "backup", None)
            or getattr(spec, "store", "")
        )
        if incident and self._wants_fault_position():
            st.fault_position = self._read_position(lab, st.topology.primary)
        self._do(f"injecting {spec.fault} into {where}")
        # The fault's moment is when its injection starts: the damage begins there (wiping or
        # encrypting takes time, and writes acknowledged meanwhile are part of the loss).
        fault_mono, fault_wall = time.monotonic(), time.time()
        incident_wall = fault_wall
        fault.inject(fctx)
        injection_s = time.monotonic() - fault_mono
        if not incident:
            effect = self._record_fault(
                fault, fctx, spec, where, fault_wall, fault_mono - t0, injection_s
            )
            st.pending_reverts.append((fault, fctx))
            if isinstance(spec, MigrationCutover) and effect.took_effect and st.writer is not None:
                # The migration moved the clients: from now on they write to the new server.
                new = st.topology.nodes[spec.target]
                st.writer.retarget(new.name, new.endpoint(lab, engine))
            return
        st.fault_mono = fault_mono
        st.incident_node = fctx.target.name
        failed = st.topology.nodes.get(fctx.target.name, st.topology.primary)
        try:
            if fault.causes_outage:
                # Detection first: the harness's own check of the damage must not count as RTO.
                self._do("detecting the outage")
                st.detected_mono = self._detect(lab, failed)
            else:
                st.detected_mono = fault_mono  # a logical error: the server never went down
            effect = self._record_fault(
                fault, fctx, spec, where, fault_wall, fault_mono - t0, injection_s
            )
            if effect.blocked:
                # A safety gate stopped the incident: the service never went down.
                st.gate_blocked = True
                st.detected_mono = fault_mono
                st.recovered = Recovered(failed, fault_mono, fault_mono, step="gate")
                return
            if not effect.took_effect:
                log.warning("fault %s did not take effect: %s", spec.fault, effect.evidence)
                return
            if st.detected_mono is None:
                return
            if not fault.causes_outage and not s.recovery.steps:
                st.recovered = Recovered(failed, fault_mono, fault_mono)
                return
            self._do("recovering")
            ctx = st.recovery = self._recovery_context(
                lab, failed=failed, incident_wall=incident_wall
            )
            result = run_recovery(ctx, s.recovery.steps)
            st.recovered = result if isinstance(result, Recovered) else None
            st.unrecoverable = st.recovered is None
        finally:
            fault.revert(fctx)
            actual = getattr(fault, "actual_outage_s", None)
            if actual is not None and st.faults:
                # Known only once the fault is over (a pause's real frozen time): journal it.
                last = st.faults[-1]
                st.faults[-1] = dataclasses.replace(
                    last, evidence=f"{last.evidence}; server was frozen for {actual:.3f} s"
                )

    def _record_fault(
        self,
        fault: NodeFault,
        fctx: FaultContext,
        spec: ServerFault,
        where: str,
        at_wall: float,
        at_s: float,
        injection_s: float,
    ) -> Effect:
        """Check whether a fault took effect and put it in the journal."""
        st = self.state
        effect = fault.took_effect(fctx)
        if injection_s >= 0.5:
            effect = Effect(effect.kind, f"{effect.evidence} (injection took {injection_s:.1f} s)")
        st.faults.append(
            FaultOutcome(
                spec.fault,
                where,
                at_wall,
                at_s,
                effect.kind,
                effect.evidence,
            )
        )
        st.gate_blocked = st.gate_blocked or effect.blocked
        if st.monitor is not None and spec is not self.scenario.incident:
            # Not on the incident: a synchronous sample of a frozen server would delay recovery.
            st.monitor.sample()
        return effect

    def _recovery_context(self, lab: Lab, *, failed: Node, incident_wall: float) -> RecoveryContext:
        st, s = self.state, self.scenario
        assert st.topology is not None
        return RecoveryContext(
            lab=lab,
            engine=self.engine,
            image=st.image.name if st.image else "",
            agent=st.topology.agent,
            catalog=st.catalog,
            failed=failed,
            probe_interval_s=s.recovery.probe_interval_s,
            announce=self.progress.phase,
            nodes=st.topology.nodes,
            incident_wall=incident_wall,
            fault_position=st.fault_position,
            archive_volume=st.topology.archive_volume,
            connect=lambda n: self._connect(lab, n),
        )

    def _gate_check(self, lab: Lab, gate: MigrationGate) -> GateResult:
        """The migration safety gate (recovery/gate.py) on this drill's servers."""
        st = self.state
        assert st.topology is not None
        self._do("checking the migration safety gate")
        old = st.topology.primary
        return check_gate(
            gate,
            original=old,
            copy=st.topology.nodes[gate.compare_with],
            reference=st.reference,
            catalog=st.catalog,
            table_states=lambda n: self._table_states_of(lab, n),
            restore_context=lambda: self._recovery_context(
                lab, failed=old, incident_wall=time.time()
            ),
        )

    def _table_states_of(self, lab: Lab, node: Node) -> dict[str, Fingerprint | None]:
        conn = self._connect(lab, node)
        try:
            return self._table_states(conn)
        finally:
            conn.close()

    def _detect(self, lab: Lab, node: Node) -> float | None:
        """The moment a probe (with its own deadline) first fails, or None if it never does."""
        engine, rec = self.engine, self.scenario.recovery

        def down() -> float | None:
            if healthy_within(lab, engine, node, timeout_s=rec.probe_timeout_s):
                return None
            return time.monotonic()

        try:
            return poll_until(
                down,
                what="the probe to notice the outage",
                timeout_s=rec.detect_timeout_s,
                interval_s=rec.probe_interval_s,
                retry_on=(),
            )
        except HarnessError as exc:
            log.warning("outage not detected: %s", exc)
            return None

    def _table_states(self, conn: Any) -> dict[str, Fingerprint | None]:
        """Each seeded table's fingerprint now, None where it cannot be read (dropped)."""
        states: dict[str, Fingerprint | None] = {}
        for table in self.state.reference:
            try:
                states[table] = self.engine.fingerprints(conn, [table])[table]
            except self.engine.driver_errors():
                states[table] = None
        return states

    def _damaged_tables(self, lab: Lab, node: Node) -> list[str]:
        conn = self._connect(lab, node)
        try:
            now = self._table_states(conn)
        finally:
            conn.close()
        return [t for t, fp in self.state.reference.items() if now.get(t) != fp]

    def _measure(self, lab: Lab, node: Node) -> None:
        st, engine = self.state, self.engine
        assert st.writer is not None and st.fault_mono is not None and st.detected_mono is not None
        assert st.recovered is not None
        self._do("measuring lost writes and data fidelity")
        since = time.monotonic()
        conn = self._connect(lab, node)
        try:
            surviving = engine.write_seqs(conn)
            st.recovered_fps = self._table_states(conn)
        finally:
            conn.close()
        self._timed("measure_s", since)
        records = st.writer.records()
        st.rpo = measure_rpo(records, surviving, fault_mono=st.fault_mono)
        st.rto = measure_rto(
            fault_mono=st.fault_mono,
            detected_mono=st.detected_mono,
            restored_mono=st.recovered.restored_mono,
            verified_mono=st.recovered.verified_mono,
        )
        landing = st.recovered.landing
        if landing is not None and landing.target_wall is not None:
            before = [r for r in records if r.target == st.incident_node]
            st.landing = measure_landing(
                before, surviving, target_wall=landing.target_wall, tolerance_s=landing.tolerance_s
            )
        source = st.recovered.restored_from
        if source is not None and st.recovered_fps == st.reference:
            source.verification = Verification.RESTORE_TESTED
            source.checks.append("restore_tested")

    def _connect(self, lab: Lab, node: Node) -> Any:
        engine = self.engine
        try:
            return engine.connect(node.endpoint(lab, engine), timeout_s=10)
        except engine.driver_errors() as exc:
            raise InfrastructureError(f"could not connect to {node.name}: {exc}") from exc

    # -- verdict and journal ----------------------------------------------------------------
    def _outcome(self) -> Outcome:
        st = self.state
        rejected = frozenset(
            r.backup
            for r in (st.recovery.records if st.recovery else [])
            if r.outcome is StepOutcome.REJECTED and r.backup
        )
        return Outcome(
            faults_took_effect=all(f.took_effect or f.blocked for f in st.faults),
            detected=st.detected_mono is not None,
            recovered=st.recovered is not None,
            rto=st.rto,
            rpo=st.rpo,
            data_verified=(st.recovered_fps == st.reference)
            if st.recovered_fps is not None
            else None,
            restored_from=st.recovered.restored_from.name
            if st.recovered and st.recovered.restored_from
            else None,
            rejected_backups=rejected,
            landing=st.landing,
            alerted=bool(st.alerts),
            gate_blocked=st.gate_blocked,
        )

    def _judge(self) -> tuple[Verdict, list[Any], list[str]]:
        verdict, checks, reasons = decide(
            self.scenario.expect, self.scenario.objectives, self._outcome()
        )
        return verdict, [c.as_dict() for c in checks], reasons

    def _save(
        self,
        status: str,
        *,
        verdict: Verdict | None = None,
        reasons: list[str] | None = None,
        checks: list[Any] | None = None,
        error: str = "",
    ) -> dict[str, Any]:
        journal = self._journal(status, verdict, reasons or [], checks or [], error)
        write_journal(self.journal_path, journal)
        if status != "started" and self.state.writer is not None:
            self._write_acks()
        return journal

    def _write_acks(self) -> None:
        assert self.state.writer is not None
        lines = [
            json.dumps(
                {
                    "seq": r.seq,
                    "status": r.status.value,
                    "issued_at": iso_utc(r.issued_wall),
                    "latency_s": round(r.done_mono - r.issued_mono, 5),
                    "target": r.target,
                    "error": r.error,
                }
            )
            for r in self.state.writer.records()
        ]
        (self.run_dir / "acks.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _data_loss(self) -> dict[str, Any]:
        """Seeded rows missing after recovery, and the tables that do not match the reference."""
        st = self.state
        if st.recovered_fps is None:
            return {"seed_rows_lost": None, "tables_damaged": None}
        lost = 0
        damaged = []
        for table, ref in st.reference.items():
            now = st.recovered_fps.get(table)
            if now != ref:
                damaged.append(table)
                lost += max(0, ref.rows - (now.rows if now else 0))
        return {"seed_rows_lost": lost, "tables_damaged": damaged}

    def _journal(
        self,
        status: str,
        verdict: Verdict | None,
        reasons: list[str],
        checks: list[Any],
        error: str,
    ) -> dict[str, Any]:
        s, st = self.scenario, self.state
        outcome = self._outcome()
        met, missed = objectives_met(s.objectives, outcome)
        rpo, rto, landing = st.rpo, st.rto, st.landing
        reader = st.reader
        return {
            "journal_version": JOURNAL_VERSION,
            "run_id": self.run_id,
            "status": status,
            "scenario": s.name,
            "strategy": self.strategy,
            "scenario_file": str(self.source),
            "summary": s.summary,
            "source": s.source.model_dump() if s.source else None,
            "lesson": s.lesson,
            "twin_of": s.twin_of,
            "engine": self.engine_name,
            "image": st.image.name if st.image else None,
            "image_requested": st.image.requested if st.image else self.image_override,
            "image_local_build": st.image.local_build if st.image else None,
            "started_at": iso_utc(self._started_wall),
            "ended_at": None if status == "started" else iso_utc(time.time()),
            "duration_s": round(time.monotonic() - self._started_mono, 3),
            "verdict": verdict.value if verdict else None,
            "reasons": reasons,
            "error": error,
            "error_detail": self.error_detail,
            "objectives": {**s.objectives.model_dump(), "met": met, "missed": missed},
            "expect": s.expect.model_dump(),
            "expectations": checks,
            "measured": {
                "rto_s": round(rto.rto_s, 4) if rto else None,
                "rpo_s": round(rpo.rpo_s, 4) if rpo else None,
                "issued_writes": rpo.issued_writes if rpo else None,
                "acked_writes": rpo.acked_writes if rpo else None,
                "failed_writes": rpo.failed_writes if rpo else None,
                "unknown_writes": rpo.unknown_writes if rpo else None,
                "lost_writes": rpo.lost_writes if rpo else None,
                "holes": rpo.holes if rpo else None,
                "unexpected": rpo.unexpected if rpo else None,
                "lost_seq_ranges": to_ranges(rpo.lost_seqs) if rpo else None,
                "hole_seq_ranges": to_ranges(rpo.hole_seqs) if rpo else None,
                "unexpected_seq_ranges": to_ranges(rpo.unexpected_seqs) if rpo else None,
                "last_surviving_seq": rpo.last_surviving_seq if rpo else None,
                "data_verified": outcome.data_verified,
                "restored_from": outcome.restored_from,
                "recovered_by": st.recovered.step if st.recovered else None,
                **self._data_loss(),
                "pitr": None
                if landing is None
                else {
                    "target_at": iso_utc(landing.target_wall),
                    "error_s": round(landing.error_s, 4),
                    "overshoot_writes": landing.overshoot_writes,
                    "undershoot_writes": landing.undershoot_writes,
                    "within_tolerance": landing.within_tolerance,
                    "server_log": st.recovered.landing.server_log
                    if st.recovered and st.recovered.landing
                    else [],
                },
            },
            "phases": {
                "detect_s": round(rto.detect_s, 4) if rto else None,
                "restore_s": round(rto.restore_s, 4) if rto else None,
                "verify_s": round(rto.verify_s, 4) if rto else None,
            },
            "timings": st.timings,
            "faults": [f.as_dict() for f in st.faults],
            "backups": [r.as_dict() for r in st.catalog.records],
            "recovery": [r.as_dict() for r in (st.recovery.records if st.recovery else [])],
            "lag": st.monitor.summary() if st.monitor else None,
            "alerts": st.alerts,
            "outcome": (
                "unrecoverable"
                if st.unrecoverable
                else "blocked by gate"
                if st.gate_blocked
                else "recovered"
                if st.recovered
                else "not recovered"
            ),
            "old_reader": None
            if reader is None
            else {
                "table": reader.table,
                "reads_ok": reader.ok,
                "reads_failed": reader.failed,
                "first_error": reader.first_error,
            },
            "fingerprints": {
                "reference": {t: f.as_dict() for t, f in st.reference.items()},
                "recovered": {
                    t: (f.as_dict() if f else None) for t, f in (st.recovered_fps or {}).items()
                },
            },
            "dataset": s.dataset.model_dump(),
            "workload": s.workload.model_dump(),
            "clock": clock_facts(probe_interval_s=s.recovery.probe_interval_s),
        }
