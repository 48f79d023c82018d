"""The acknowledgment log on disk: one JSON line per write the writer issued."""

from __future__ import annotations

import json
from pathlib import Path

from harness.clock import iso_utc
from harness.measurement.measure import WriteRecord


def write_acks(path: Path, records: list[WriteRecord]) -> None:
    """Write ``records`` to ``path`` as JSON lines (seq, status, issue time, latency, target)."""
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
        for r in records
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
