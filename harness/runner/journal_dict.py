"""The journal of one drill as a JSON-ready dict, built from the run state (its one builder)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.clock import clock_facts, iso_utc
from harness.measurement.fidelity import data_loss
from harness.measurement.measure import to_ranges
from harness.measurement.verdict import Outcome, Verdict, objectives_met
from harness.runner.judge import outcome
from harness.runner.state import RunState
from harness.scenario.model import Scenario


@dataclass(frozen=True)
class JournalFacts:
    """The lifecycle's part of the journal: who ran what, when, and how it ended so far."""

    run_id: str
    status: str
    action: str
    strategy: str | None
    source: Path
    engine: str
    image_override: str | None
    started_wall: float
    started_mono: float
    verdict: Verdict | None
    reasons: list[str]
    checks: list[Any]
    error: str
    error_detail: str


def journal_dict(s: Scenario, st: RunState, facts: JournalFacts) -> dict[str, Any]:
    """The journal: every key a journal has had, in the same order, with the same types."""
    out = outcome(st)
    met, missed = objectives_met(s.objectives, out)
    ledger, measured = st.ledger, st.measured
    rto = measured.rto if measured else None
    reference = st.seeded.reference if st.seeded else {}
    recovered_fps = measured.recovered_fps if measured else None
    return {
        **_header(s, st, facts),
        "objectives": {**s.objectives.model_dump(), "met": met, "missed": missed},
        "expect": s.expect.model_dump(),
        "expectations": facts.checks,
        "measured": _measured(st, out),
        "phases": {
            "detect_s": round(rto.detect_s, 4) if rto else None,
            "restore_s": round(rto.restore_s, 4) if rto else None,
            "verify_s": round(rto.verify_s, 4) if rto else None,
        },
        "timings": ledger.timings,
        "faults": [f.as_dict() for f in ledger.faults],
        "backups": [r.as_dict() for r in ledger.catalog.records],
        "recovery": [r.as_dict() for r in (ledger.recovery.records if ledger.recovery else [])],
        "lag": st.workers.monitor.summary() if st.workers else None,
        "alerts": [a.as_dict() for a in ledger.alerts],
        "outcome": _outcome_label(st),
        "old_reader": _old_reader(st),
        "fingerprints": {
            "reference": {t: f.as_dict() for t, f in reference.items()},
            "recovered": {
                t: (f.as_dict() if f else None) for t, f in (recovered_fps or {}).items()
            },
        },
        "dataset": s.dataset.model_dump(),
        "workload": s.workload.model_dump(),
        "clock": clock_facts(probe_interval_s=s.recovery.probe_interval_s),
    }


def _header(s: Scenario, st: RunState, facts: JournalFacts) -> dict[str, Any]:
    status, image = facts.status, st.image
    return {
        "run_id": facts.run_id,
        "status": status,
        "action": facts.action,
        "scenario": s.name,
        "strategy": facts.strategy,
        "scenario_file": str(facts.source),
        "summary": s.summary,
        "source": s.source.model_dump() if s.source else None,
        "lesson": s.lesson,
        "twin_of": s.twin_of,
        "engine": facts.engine,
        "image": image.name if image else None,
        "image_requested": image.requested if image else facts.image_override,
        "image_local_build": image.local_build if image else None,
        "started_at": iso_utc(facts.started_wall),
        "ended_at": None if status == "started" else iso_utc(time.time()),
        "duration_s": round(time.monotonic() - facts.started_mono, 3),
        "verdict": facts.verdict.value if facts.verdict else None,
        "reasons": facts.reasons,
        "error": facts.error,
        "error_detail": facts.error_detail,
    }


def _measured(st: RunState, out: Outcome) -> dict[str, Any]:
    measured = st.measured
    rpo, rto = (measured.rpo, measured.rto) if measured else (None, None)
    recovered = st.incident.recovered if st.incident else None
    loss = data_loss(
        st.seeded.reference if st.seeded else {}, measured.recovered_fps if measured else None
    )
    return {
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
        "data_verified": out.data_verified,
        "restored_from": out.restored_from,
        "recovered_by": recovered.step if recovered else None,
        "seed_rows_lost": loss.seed_rows_lost,
        "tables_damaged": loss.tables_damaged,
        "pitr": _pitr(st),
    }


def _pitr(st: RunState) -> dict[str, Any] | None:
    landing = st.measured.landing if st.measured else None
    if landing is None:
        return None
    recovered = st.incident.recovered if st.incident else None
    return {
        "target_at": iso_utc(landing.target_wall),
        "error_s": round(landing.error_s, 4),
        "overshoot_writes": landing.overshoot_writes,
        "undershoot_writes": landing.undershoot_writes,
        "within_tolerance": landing.within_tolerance,
        "server_log": recovered.landing.server_log if recovered and recovered.landing else [],
    }


def _outcome_label(st: RunState) -> str:
    incident = st.incident
    if incident is not None and incident.unrecoverable:
        return "unrecoverable"
    if st.ledger.gate_blocked:
        return "blocked by gate"
    if incident is not None and incident.recovered is not None:
        return "recovered"
    return "not recovered"


def _old_reader(st: RunState) -> dict[str, Any] | None:
    reader = st.workers.reader if st.workers else None
    if reader is None:
        return None
    return {
        "table": reader.table,
        "reads_ok": reader.ok,
        "reads_failed": reader.failed,
        "first_error": reader.first_error,
    }
