"""The drill history on SQLite: recording journals, reading them back, and schema migrations."""

from __future__ import annotations

import copy
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from harness.errors import InputError
from harness.record import DrillRecord
from harness.report.history import LATEST, History, connect, current_version, migrate
from harness.report.history.records import step_rows
from harness.report.journal import record_from_dict

JOURNALS = Path(__file__).parent / "data" / "journals"


def journal(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((JOURNALS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def rerun(j: dict[str, Any], *, run_id: str, started_at: str, rto_s: float) -> DrillRecord:
    """A copy of a journal as if the drill ran again at another time with another RTO."""
    out = copy.deepcopy(j)
    out["run_id"], out["started_at"] = run_id, started_at
    out["measured"]["rto_s"] = rto_s
    return record_from_dict(out)


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History.open(tmp_path / "h.sqlite")


def test_a_new_history_is_created_at_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "history.sqlite"
    with History.open(path) as h:
        assert h.version == LATEST
    versions = sqlite3.connect(path).execute("SELECT version FROM schema_version").fetchall()
    assert [v for (v,) in versions] == list(range(1, LATEST + 1))


def test_recorded_runs_read_back_with_figures_steps_and_backups(history: History) -> None:
    history.record(record_from_dict(journal("empty-backup")), plan="nightly")
    [run] = history.runs()
    assert (run.scenario, run.engine, run.verdict, run.plan) == (
        "empty-backup",
        "postgres",
        "pass",
        "nightly",
    )
    assert run.figure("rto_s") == pytest.approx(2.7635)
    assert run.figure("lost_writes") == 344
    assert run.objectives_met is True
    assert run.rto_objective_s == 30 and run.rpo_objective_s == 10
    assert run.restored_from == "nightly-1" and run.data_verified is True
    # The catalog: the empty dump is kept, unverified, with the test it failed.
    backups = {b.name: b for b in run.backups}
    assert backups["nightly-1"].is_verified and backups["nightly-1"].used_for_recovery
    empty = backups["nightly-2"]
    assert not empty.is_verified and not empty.used_for_recovery
    assert empty.size_bytes == 20
    assert empty.tests[0] == ("exists", True, "")
    assert empty.tests[1][:2] == ("size_plausible", False)
    assert "20 bytes" in empty.tests[1][2]
    kinds = [s.kind for s in run.steps]
    assert kinds.count("recovery_step") == 3 and "detected" in kinds and "recovered" in kinds


def test_the_timeline_is_measured_from_the_disruptive_fault() -> None:
    rows = step_rows(record_from_dict(journal("empty-backup")))
    faults = {r["name"]: r["offset_s"] for r in rows if r["kind"] == "fault"}
    # The silent dump failure happened 2.19 s before the wipe that started the RTO clock.
    assert faults["rm_rf_datadir"] == 0.0
    assert faults["silent_empty_backup"] == pytest.approx(-2.189, abs=0.001)
    backups = {r["name"]: r for r in rows if r["kind"] == "backup"}
    assert backups["nightly-2"]["outcome"] == "rejected"
    assert backups["nightly-1"]["offset_s"] < backups["nightly-2"]["offset_s"] < 0
    phases = {r["name"]: r for r in rows if r["kind"] == "phase"}
    assert phases["verify"]["offset_s"] + phases["verify"]["duration_s"] == pytest.approx(
        next(r for r in rows if r["kind"] == "recovered")["offset_s"], abs=0.001
    )


def test_an_unmeasured_drill_neither_met_nor_missed_its_objectives(history: History) -> None:
    j = journal("wrong-path-wipe")
    assert j["objectives"]["met"] is False  # what the journal says ...
    history.record(record_from_dict(j))
    [run] = history.runs()
    assert run.objectives_met is None  # ... is not what an auditor should read
    assert run.figure("rto_s") is None
    assert [s.kind for s in run.steps if s.kind == "fault"] == ["fault"]


def test_recording_the_same_run_twice_replaces_it(history: History) -> None:
    j = journal("quickstart")
    history.record(record_from_dict(j))
    changed = copy.deepcopy(j)
    changed["verdict"] = "fail"
    history.record(record_from_dict(changed))
    runs = history.runs()
    assert len(runs) == 1 and runs[0].verdict == "fail"
    assert len(runs[0].backups) == 1


def test_since_and_run_ids_select_runs(history: History) -> None:
    q = journal("quickstart")
    history.record(rerun(q, run_id="old", started_at="2026-01-05T10:00:00.000+00:00", rto_s=5))
    history.record(rerun(q, run_id="new", started_at="2026-02-05T10:00:00.000+00:00", rto_s=6))
    assert [r.run_id for r in history.runs()] == ["old", "new"]
    assert [r.run_id for r in history.runs(since="2026-02-01T00:00:00.000+00:00")] == ["new"]
    assert [r.run_id for r in history.runs(run_ids=["old"])] == ["old"]
    assert history.runs(run_ids=[]) == []


def test_recovery_procedures_aggregate_every_run(history: History) -> None:
    q = journal("quickstart")
    for i, rto in enumerate([3.0, 5.0, 10.0]):
        history.record(
            rerun(q, run_id=f"r{i}", started_at=f"2026-01-0{i + 1}T00:00:00.000+00:00", rto_s=rto)
        )
    history.record(record_from_dict(journal("wrong-path-wipe")))
    procedures = {(p.scenario, p.engine): p for p in history.procedures()}
    p = procedures[("quickstart", "postgres")]
    assert (p.tests, p.recoveries) == (3, 3)
    assert p.median_rto_s == 5.0 and p.worst_rto_s == 10.0 and p.last_rto_s == 10.0
    assert p.steps == ("verify_backup nightly", "restore_backup nightly")
    wp = procedures[("wrong-path-wipe", "postgres")]
    assert (wp.tests, wp.recoveries, wp.median_rto_s) == (1, 0, None)


def test_a_v1_history_migrates_forward_with_every_run_intact(tmp_path: Path) -> None:
    """A database written by a v1 recovery-drill: runs, steps and figures only."""
    path = tmp_path / "v1.sqlite"
    db = connect(path)
    assert migrate(db, upto=1) == [1]
    assert current_version(db) == 1
    assert not db.table_exists("backup_catalog")
    with db.transaction():
        for name in ("quickstart", "empty-backup"):
            j = journal(name)
            if name == "empty-backup":
                j["strategy"] = "fallback"  # as a strategy comparison would journal it
            db.execute(
                "INSERT INTO drill_runs (run_id, scenario, engine, status, verdict, started_at, "
                "reasons, rto_objective_s, rpo_objective_s, objectives_met, objectives_missed, "
                "journal) VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?, ?, '[]', ?)",
                (
                    j["run_id"],
                    j["scenario"],
                    j["engine"],
                    j["status"],
                    j["verdict"],
                    j["started_at"],
                    30.0,
                    10.0,
                    True,
                    json.dumps(j),
                ),
            )
            db.execute(
                "INSERT INTO drill_figures (run_id, figure, value) VALUES (?, 'rto_s', ?)",
                (j["run_id"], j["measured"]["rto_s"]),
            )
    db.close()

    with History.open(path) as h:  # opening migrates forward
        assert h.version == LATEST
        runs = {r.scenario: r for r in h.runs()}
        assert set(runs) == {"quickstart", "empty-backup"}
        assert runs["quickstart"].figure("rto_s") == pytest.approx(2.7769)
        assert runs["quickstart"].plan is None  # v3 added the column; old rows have none
        # v2 backfilled the backup catalog and verification tests from the kept journals.
        backups = {b.name: b for b in runs["empty-backup"].backups}
        assert set(backups) == {"nightly-1", "nightly-2"}
        assert backups["nightly-1"].used_for_recovery and not backups["nightly-2"].is_verified
        # v4 took the strategy from the journal, and keeps procedures per strategy.
        assert runs["empty-backup"].strategy == "fallback"
        assert runs["empty-backup"].drill == "empty-backup / fallback"
        assert {p.scenario for p in h.procedures()} == {"quickstart", "empty-backup / fallback"}
        # New runs record normally on the migrated database.
        h.record(record_from_dict(journal("kill-restart")), plan="nightly")
        assert len(h.runs()) == 3
        assert h.journal(runs["quickstart"].run_id) == record_from_dict(journal("quickstart"))


def test_migrating_twice_applies_nothing(tmp_path: Path) -> None:
    db = connect(tmp_path / "h.sqlite")
    assert migrate(db) == list(range(1, LATEST + 1))
    assert migrate(db) == []
    db.close()


def test_a_history_newer_than_this_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    History.open(path).close()
    con = sqlite3.connect(path)
    con.execute(
        "INSERT INTO schema_version VALUES (?, 'from the future', '2099-01-01')", (LATEST + 1,)
    )
    con.commit()
    con.close()
    with pytest.raises(InputError, match="newer than this recovery-drill"):
        History.open(path)


def test_a_failed_migration_leaves_the_last_complete_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.report.history import migrations

    def broken(db: Any) -> None:
        db.execute("CREATE TABLE backup_catalog (half_done TEXT)")
        raise RuntimeError("disk on fire")

    patched = tuple(
        migrations.Migration(m.version, m.description, broken) if m.version == 2 else m
        for m in migrations.MIGRATIONS
    )
    monkeypatch.setattr(migrations, "MIGRATIONS", patched)
    db = connect(tmp_path / "h.sqlite")
    with pytest.raises(RuntimeError, match="disk on fire"):
        migrate(db)
    assert current_version(db) == 1
    assert not db.table_exists("backup_catalog")


@pytest.mark.parametrize("location", ["mysql://u@h/db", "s3://bucket/h.sqlite", ""])
def test_unsupported_history_locations_are_input_errors(location: str) -> None:
    with pytest.raises(InputError):
        connect(location)


def test_sqlite_urls_and_redacted_postgres_urls(tmp_path: Path) -> None:
    from harness.secrets import redact_url

    db = connect(f"sqlite:///{tmp_path}/u.sqlite")
    assert db.where == f"{tmp_path}/u.sqlite"
    db.close()
    assert redact_url("postgresql://drill:s3cret@127.0.0.1:5432/h") == (
        "postgresql://drill:***@127.0.0.1:5432/h"
    )


def test_the_restore_phase_names_its_parts_where_the_journal_has_them() -> None:
    j = journal("empty-backup")
    old = {r["name"]: r for r in step_rows(record_from_dict(j)) if r["kind"] == "phase"}
    assert old["restore"]["detail"] == ""  # a journal from before the split
    j["phases"].update(backup_check_s=0.12, server_start_s=1.7, restore_tool_s=3.25)
    new = {r["name"]: r for r in step_rows(record_from_dict(j)) if r["kind"] == "phase"}
    detail = new["restore"]["detail"]
    assert detail == "backup check 0.12 s, server start 1.70 s, restore tool 3.25 s"
