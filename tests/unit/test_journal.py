"""write_atomic and the journal: whole files or the old file, never a half-written one; every
key and value type of a journal survives reading it into a drill record and writing it back."""

from __future__ import annotations

import dataclasses
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from harness.backups.catalog import BackupRecord
from harness.errors import InputError
from harness.faults.base import FaultEffect, FaultOutcome
from harness.measurement.monitor import LagMonitor
from harness.measurement.verdict import Check
from harness.record import (
    DrillStatus,
    Expect,
    Lag,
    Objectives,
    RecoveryStepEntry,
    Source,
)
from harness.recovery.context import StepOutcome, StepRecord
from harness.report.journal import (
    JOURNAL_VERSION,
    read_journal,
    record_from_dict,
    record_to_dict,
    write_atomic,
    write_journal,
)
from harness.scenario import model

JOURNALS = Path(__file__).parent / "data" / "journals"
SAMPLES = sorted(JOURNALS.glob("*.json"))


def test_creates_the_file_and_its_folders(tmp_path: Path) -> None:
    path = tmp_path / "run-1" / "deep" / "journal.json"
    write_atomic(path, "hello\n")
    assert path.read_text(encoding="utf-8") == "hello\n"
    assert [p.name for p in path.parent.iterdir()] == ["journal.json"]


def test_replaces_content_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    path.write_text("old content that is longer than the new one\n", encoding="utf-8")
    for text in ("first\n", "second ✓\n", ""):
        write_atomic(path, text)
        assert path.read_text(encoding="utf-8") == text
    assert [p.name for p in tmp_path.iterdir()] == ["journal.json"]


def test_failed_write_keeps_the_old_content_and_removes_the_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    write_atomic(path, "good\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(path, "bad \ud800 surrogate")
    assert path.read_text(encoding="utf-8") == "good\n"
    assert [p.name for p in tmp_path.iterdir()] == ["journal.json"]


def sample(name: str = "quickstart") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((JOURNALS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def shape(value: Any, path: str = "") -> dict[str, str]:
    """Every key path of a JSON value, with the type of the value found there."""
    out = {path: type(value).__name__}
    if isinstance(value, dict):
        for key, item in value.items():
            out |= shape(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out |= shape(item, f"{path}[{i}]")
    return out


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_every_key_and_value_type_of_a_journal_survives_a_round_trip(
    path: Path, tmp_path: Path
) -> None:
    before = shape(json.loads(path.read_text(encoding="utf-8")))
    record = read_journal(path)
    write_journal(tmp_path / "journal.json", record)
    after = shape(json.loads((tmp_path / "journal.json").read_text(encoding="utf-8")))
    assert {k: after.get(k) for k in before} == before  # new keys are fine, none lost
    assert after[".journal_version"] == "int"
    assert read_journal(tmp_path / "journal.json") == record


def test_a_record_reads_back_as_attributes() -> None:
    record = record_from_dict(sample())
    assert record.status is DrillStatus.DONE and record.action == ""  # v1 had no breadcrumb
    assert record.measured.rto_s == 2.7769 and record.measured.lost_seq_ranges == ((105, 401),)
    assert record.backups[0].checks[-1] == "restore_tested"
    assert record.fingerprints.reference["seed_01"].rows == 5000
    assert record.disruptive_fault() == record.faults[0]


def test_journal_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    record = dataclasses.replace(
        record_from_dict(sample()), status=DrillStatus.FAILED, action="restoring nightly"
    )
    write_journal(path, record)
    assert read_journal(path) == record
    assert path.read_text(encoding="utf-8").endswith("}\n")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert (data["journal_version"], data["status"], data["action"]) == (
        JOURNAL_VERSION,
        "failed",
        "restoring nightly",
    )


def test_journal_writes_unknown_types_as_text(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    lag = Lag(interval_s=1.0, samples=({"at_s": 0.5, "archive": {"file": Path("wal/0001")}},))
    write_journal(path, dataclasses.replace(record_from_dict(sample()), lag=lag))
    assert read_journal(path).lag == Lag(
        interval_s=1.0, samples=({"at_s": 0.5, "archive": {"file": "wal/0001"}},)
    )


def test_journal_is_private_to_its_owner_by_default(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    write_journal(path, dataclasses.replace(record_from_dict(sample()), status=DrillStatus.STARTED))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_step_without_server_log_journals_no_server_log() -> None:
    plain = record_to_dict(
        dataclasses.replace(
            record_from_dict(sample()),
            recovery=(
                RecoveryStepEntry(step="restore_backup", outcome="ok"),
                RecoveryStepEntry(step="pitr", outcome="failed", server_log=("FATAL: x",)),
            ),
        )
    )
    assert ["server_log" in r for r in plain["recovery"]] == [False, True]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"journal_version": JOURNAL_VERSION + 1}, "reads up to"),
        ({"colour": "blue"}, "journal.colour: not a journal key"),
        ({"status": "paused"}, "journal.status"),
        ({"measured": {"rto_s": 1.0, "rto": 2.0}}, "journal.measured.rto"),
        ({"timings": [1.0]}, "journal.timings: expected an object"),
        ({"measured": {"lost_seq_ranges": [[1, 2, 3]]}}, r"lost_seq_ranges\[0\]"),
    ],
)
def test_a_journal_this_version_cannot_read_is_refused(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        record_from_dict(sample() | change)


def test_a_journal_without_its_identity_is_refused(tmp_path: Path) -> None:
    data = sample()
    del data["run_id"]
    with pytest.raises(InputError, match="run_id"):
        record_from_dict(data)
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="not a readable journal"):
        read_journal(tmp_path / "bad.json")


def names(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_every_part_the_runner_records_round_trips() -> None:
    """The runner's parts (scenario echoes, the entries of its results) fit the record and
    survive the journal: written and read back, the record is equal."""
    assert set(model.Expect.model_fields) == names(Expect)
    assert set(model.Objectives.model_fields) | {"met", "missed"} == names(Objectives)
    assert set(model.Source.model_fields) == names(Source)
    step = StepRecord("pitr", StepOutcome.OK, 0.0, 1.0, "landed", log_lines=["LOG: done"])
    backup = BackupRecord("b", "logical", "s", "/p", 0.0, 1.0, 0.0, 1.0, 0, 9, "x", 9, 0.5, 3)
    check = Check("recovered", expected=True, actual=True, met=True)
    fault = FaultOutcome("kill", "primary", 1.0, 0.5, FaultEffect.TOOK_EFFECT, "gone")
    lag = LagMonitor(None, dict, t0=0.0, archive=False, replicas=False).summary()  # type: ignore[arg-type]
    record = dataclasses.replace(
        record_from_dict(sample()),
        faults=(fault.entry(),),
        backups=(backup.entry(),),
        recovery=(step.entry(),),
        expectations=(check.entry(),),
        lag=lag,
    )
    data = record_to_dict(record)
    assert record_from_dict(data) == record
    assert data["faults"][0]["took_effect"] is True
    assert data["recovery"][0] == {
        "step": "pitr",
        "outcome": "ok",
        "started_at": "1970-01-01T00:00:00.000+00:00",
        "duration_s": 1.0,
        "backup": None,
        "detail": "landed",
        "server_log": ["LOG: done"],
    }
    assert data["backups"][0]["checks"] == []
    assert data["lag"] == {
        "interval_s": lag.interval_s,
        "max_archive_lag_bytes": None,
        "max_replay_lag_bytes": {},
        "archive_failures": 0,
        "samples": [],
    }
