"""The JSON report: the whole report model, for other tools (stable keys, units in names)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from harness.report.history.store import StoredRun
from harness.report.model import Report, data_lost_text, objectives_status

FORMAT = "recovery-drill-report/1"


def _run(run: StoredRun) -> dict[str, Any]:
    data = dataclasses.asdict(run)
    data["objectives_status"] = objectives_status(run)
    data["data_lost"] = data_lost_text(run)
    return data


def report_data(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data."""
    return {
        "format": FORMAT,
        "title": report.title,
        "generated_at": report.generated_at,
        "history": report.history,
        "since": report.since,
        "first_run_at": report.first_at,
        "last_run_at": report.last_at,
        "totals": report.totals,
        "focus_run_ids": [r.run_id for r in report.focus],
        "trends": [dataclasses.asdict(t) for t in report.trends],
        "procedures": [dataclasses.asdict(p) for p in report.procedures],
        "runs": [_run(r) for r in report.runs],
    }


def render_json(report: Report) -> str:
    """The report as pretty JSON."""
    return json.dumps(report_data(report), indent=2, ensure_ascii=False) + "\n"
