"""The result of ``recovery-drill restore-test`` (a backup made outside the tool, restored into
a scratch server), and its JSON and JUnit renderings."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.clock import iso_utc


@dataclass(frozen=True)
class CheckOutcome:
    """One of the team's checks, run against the restored database."""

    name: str
    expected: str
    actual: str
    passed: bool


@dataclass
class RestoreTestResult:
    """What a restore test measured and decided (``status``: pass, fail or error)."""

    source: str
    location: str
    kind: str  # dump, dump_folder, pgbackrest
    engine: str
    name: str
    backup_type: str
    source_database: str
    size_bytes: int = 0
    sha256: str = ""
    backup_started_at: str = ""
    backup_ended_at: str = ""
    started_at: str = ""
    ended_at: str = ""
    fetch_s: float | None = None
    restore_s: float | None = None
    verify_s: float | None = None
    rto_s: float | None = None
    rto_objective_s: float | None = None
    verification: str = "none"
    checks: list[str] = field(default_factory=list)
    data_checks: list[CheckOutcome] = field(default_factory=list)
    evidence: str = ""
    status: str = "error"
    reason: str = ""
    restore_log: str = ""
    download_s: float | None = None  # s3:// sources: the S3 download, part of fetch_s
    store_checksum: str = ""  # s3:// sources: what the fetch was verified against

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def finish(self, status: str, reason: str, *, ended_wall: float) -> RestoreTestResult:
        self.status, self.reason, self.ended_at = status, reason, iso_utc(ended_wall)
        return self


def write_json(result: RestoreTestResult, path: Path) -> None:
    """The result as JSON (atomic: a temp file renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    tmp.replace(path)


def write_junit(result: RestoreTestResult, path: Path) -> None:
    """One test suite: the restore itself, then each of the team's checks, as test cases."""
    suite = ET.Element(
        "testsuite",
        name=f"restore-test {result.engine}",
        tests=str(1 + len(result.data_checks)),
        failures=str(
            int(result.status == "fail" and not result.data_checks)
            + sum(not c.passed for c in result.data_checks)
        ),
        errors=str(int(result.status == "error")),
        time=f"{result.rto_s or 0:.3f}",
    )
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"restore_test.{result.engine}",
        name=f"restore {result.location}",
        time=f"{result.rto_s or 0:.3f}",
    )
    if result.status == "error":
        ET.SubElement(case, "error", message=result.reason)
    elif result.status == "fail" and result.verification != "restore_tested":
        ET.SubElement(case, "failure", message=result.reason)
    ET.SubElement(case, "system-out").text = (
        f"fetch_s={result.fetch_s} restore_s={result.restore_s} verify_s={result.verify_s} "
        f"verification={result.verification} sha256={result.sha256}"
    )
    for check in result.data_checks:
        c = ET.SubElement(
            suite, "testcase", classname=f"restore_test.{result.engine}.checks", name=check.name
        )
        if not check.passed:
            ET.SubElement(c, "failure", message=f"expected {check.expected}, got {check.actual}")
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
