"""Server faults: the fault context, injection, whether each took effect, and for the incident
the outage detection and the hand-over to recovery.

The fault's moment is when its injection starts; detection is the first failed probe after it.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

from harness.backups.catalog import Verification
from harness.engines.collaborators import archive_of
from harness.errors import HarnessError
from harness.faults import FaultContext, FaultOutcome, NodeFault, node_fault
from harness.faults.base import Effect
from harness.measurement.fidelity import damaged_tables
from harness.measurement.three_two_one import CopyAtFault
from harness.polling import poll_until
from harness.recovery.context import Recovered
from harness.runner.gate import gate_check
from harness.runner.recover import drive_recovery
from harness.runner.state import Incident, Ledger, Stage, Workers
from harness.scenario.model import MigrationCutover, PitrStep, ServerFault
from harness.seeding import Seeded
from harness.server.health import healthy_within
from harness.server.node import Node

log = logging.getLogger(__name__)


def fault_context(
    stage: Stage, seeded: Seeded, workers: Workers, ledger: Ledger, spec: ServerFault
) -> FaultContext:
    """What ``spec``'s fault may use, aimed at its target node."""
    topo = stage.topology
    target_name = getattr(spec, "target", topo.primary.name)
    node = topo.nodes.get(target_name, topo.primary)

    def damaged(name: str) -> list[str]:
        now = stage.table_states(topo.nodes[name], list(seeded.reference))
        return damaged_tables(seeded.reference, now)

    return FaultContext(
        lab=stage.lab,
        engine=stage.engine,
        target=node.target(),
        connect=lambda: stage.connect(node),
        acked_seqs=workers.writer.acked_seqs,
        connect_primary=lambda: stage.connect(topo.primary),
        agent=topo.agent,
        catalog=ledger.catalog,
        archive_store=stage.scenario.topology.wal_archive,
        damaged_tables=damaged,
        node_names=tuple(topo.nodes),
        reachable_mounts=tuple(topo.reachable_mounts),
        gate_check=lambda gate: gate_check(stage, seeded.reference, ledger.catalog, gate),
    )


@dataclass(frozen=True)
class _Injected:
    """A fault just injected: its moment (wall and monotonic) and how long injecting took."""

    fault: NodeFault
    fctx: FaultContext
    spec: ServerFault
    where: str
    at_wall: float
    at_mono: float
    injection_s: float


def precondition_fault(
    stage: Stage, seeded: Seeded, workers: Workers, ledger: Ledger, spec: ServerFault
) -> None:
    """Inject a fault before the incident; it is reverted when the drill ends."""
    injected = _inject(stage, fault_context(stage, seeded, workers, ledger, spec), spec)
    effect = _record_fault(stage, workers, ledger, injected)
    ledger.reverts.append((injected.fault, injected.fctx))
    if isinstance(spec, MigrationCutover) and effect.took_effect:
        # The migration moved the clients: from now on they write to the new server.
        new = stage.topology.nodes[spec.target]
        workers.writer.retarget(new.name, new.endpoint(stage.lab, stage.engine))


def run_incident(
    stage: Stage, seeded: Seeded, workers: Workers, ledger: Ledger, spec: ServerFault
) -> Incident:
    """Inject the incident, detect the outage, and drive recovery unless nothing is to do."""
    s, topo = stage.scenario, stage.topology
    fctx = fault_context(stage, seeded, workers, ledger, spec)
    fault_position = _read_position(stage) if _wants_fault_position(stage) else None
    ledger.copies_at_fault = copies_now(ledger)
    injected = _inject(stage, fctx, spec)
    fault, fault_mono = injected.fault, injected.at_mono
    node = fctx.target.name
    failed = topo.nodes.get(fctx.target.name, topo.primary)
    try:
        if fault.causes_outage:
            # Detection first: the harness's own check of the damage must not count as RTO.
            stage.do("detecting the outage")
            detected_mono = _detect(stage, failed)
        else:
            detected_mono = fault_mono  # a logical error: the server never went down
        effect = _record_fault(stage, workers, ledger, injected)
        if effect.blocked:
            # A safety gate stopped the incident: the service never went down.
            gated = Recovered(failed, fault_mono, fault_mono, step="gate")
            return Incident(node, fault_mono, fault_mono, gated)
        if not effect.took_effect:
            log.warning("fault %s did not take effect: %s", spec.fault, effect.evidence)
            return Incident(node, fault_mono, detected_mono)
        if detected_mono is None:
            return Incident(node, fault_mono, detected_mono)
        if not fault.causes_outage and not s.recovery.steps:
            unharmed = Recovered(failed, fault_mono, fault_mono)
            return Incident(node, fault_mono, detected_mono, unharmed)
        stage.do("recovering")
        recovered = drive_recovery(
            stage,
            ledger,
            failed=failed,
            incident_wall=injected.at_wall,
            fault_position=fault_position,
        )
        return Incident(node, fault_mono, detected_mono, recovered, recovered is None)
    finally:
        fault.revert(fctx)
        actual = getattr(fault, "actual_outage_s", None)
        if actual is not None and ledger.faults:
            # Known only once the fault is over (a pause's real frozen time): journal it.
            last = ledger.faults[-1]
            ledger.faults[-1] = dataclasses.replace(
                last, evidence=f"{last.evidence}; server was frozen for {actual:.3f} s"
            )


def copies_now(ledger: Ledger) -> list[CopyAtFault]:
    """Every backup so far, and whether it had passed verification (a usable copy)."""
    return [
        CopyAtFault(r.name, r.store, r.verification >= Verification.CHECKSUM_MATCHES)
        for r in ledger.catalog.records
    ]


def _inject(stage: Stage, fctx: FaultContext, spec: ServerFault) -> _Injected:
    fault: NodeFault = node_fault(spec)
    where = _where(spec)
    stage.do(f"injecting {spec.fault} into {where}")
    # The fault's moment is when its injection starts: the damage begins there (wiping or
    # encrypting takes time, and writes acknowledged meanwhile are part of the loss).
    at_mono, at_wall = time.monotonic(), time.time()
    fault.inject(fctx)
    return _Injected(fault, fctx, spec, where, at_wall, at_mono, time.monotonic() - at_mono)


def _where(spec: ServerFault) -> str:
    return str(
        getattr(spec, "target", None) or getattr(spec, "backup", None) or getattr(spec, "store", "")
    )


def _wants_fault_position(stage: Stage) -> bool:
    s = stage.scenario
    steps = [step for x in s.strategies for step in x.steps] + list(s.recovery.steps)
    return any(isinstance(step, PitrStep) and step.target.fault_position for step in steps)


def _read_position(stage: Stage) -> tuple[str, float] | None:
    """The primary's log position now, and when it was read (None if unreadable)."""
    engine = stage.engine
    errors: tuple[type[BaseException], ...] = (HarnessError, *engine.driver_errors())
    try:
        conn = stage.connect(stage.topology.primary)
        try:
            position = archive_of(engine).position(conn)
        finally:
            conn.close()
    except errors as exc:
        log.warning("could not read the primary's log position before the fault: %s", exc)
        return None
    return (position, time.time()) if position else None


def _record_fault(stage: Stage, workers: Workers, ledger: Ledger, injected: _Injected) -> Effect:
    """Check whether a fault took effect and put it in the ledger."""
    spec = injected.spec
    effect = injected.fault.took_effect(injected.fctx)
    if injected.injection_s >= 0.5:
        effect = Effect(
            effect.kind, f"{effect.evidence} (injection took {injected.injection_s:.1f} s)"
        )
    ledger.faults.append(
        FaultOutcome(
            spec.fault,
            injected.where,
            injected.at_wall,
            injected.at_mono - workers.t0,
            effect.kind,
            effect.evidence,
        )
    )
    if spec is not stage.scenario.incident:
        # Not on the incident: a synchronous sample of a frozen server would delay recovery.
        workers.monitor.sample()
    return effect


def _detect(stage: Stage, node: Node) -> float | None:
    """The moment a probe (with its own deadline) first fails, or None if it never does."""
    engine, lab, rec = stage.engine, stage.lab, stage.scenario.recovery

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
