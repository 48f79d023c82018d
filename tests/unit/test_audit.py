"""The audit's and the gate's rules, as pure functions of collected facts (no server here)."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.audit import mariadb, postgres
from harness.audit.checklist import ITEMS, judge_checklist, load_checklist
from harness.audit.common import classify_migration_columns, judge_migrations, judge_tables
from harness.audit.gate import GateItem, GateResult, judge_backup, judge_pitr, parse_age
from harness.audit.model import AuditReport, Finding, Severity, TableInfo, sorted_findings
from harness.audit.proof import RestoreProof, judge_proofs
from harness.audit.render import render_audit, render_gate
from harness.audit.target import parse_target
from harness.errors import InputError, ScenarioError

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def _pg(**settings: str | None) -> postgres.PgFacts:
    base: dict[str, str | None] = {
        "wal_level": "replica",
        "archive_mode": "on",
        "archive_command": "cp %p /archive/%f",
        "archive_library": "",
        "data_checksums": "off",
    }
    base.update(settings)
    return postgres.PgFacts(
        version="15.14",
        database="chinook",
        in_recovery=False,
        settings=base,
        archiver=postgres.Archiver(10, "00000001000000000000000A", 5.0, 0, None, None),
        standbys=[postgres.Standby("standby", "streaming", "async", 0.01)],
    )


def _severity(findings: list[Finding], check: str) -> set[Severity]:
    found = {f.severity for f in findings if f.check == check}
    assert found, f"no {check} finding in {findings}"
    return found


# --- the target --------------------------------------------------------------------------------
def test_target_parses_engines_ports_and_masks_the_password() -> None:
    t = parse_target("postgresql://ro:S3cret-x@127.0.0.1:5544/chinook")
    assert (t.engine, t.host, t.port, t.user, t.database) == (
        "postgres",
        "127.0.0.1",
        5544,
        "ro",
        "chinook",
    )
    assert t.password == "S3cret-x" and "S3cret-x" not in t.shown and "S3cret-x" not in repr(t)
    assert parse_target("mysql://u@localhost/db").family == "mariadb"
    assert parse_target("mariadb://u@[::1]/db").port == 3306


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://u@127.0.0.1/db", "unknown scheme"),
        ("postgresql://u@10.0.0.5/db", "--allow-remote"),
        ("postgresql://u@127.0.0.1/", "one database"),
        ("postgresql://127.0.0.1/db", "no user"),
        ("postgresql://u@127.0.0.1:99999/db", "not a database URL"),
    ],
)
def test_bad_targets_are_input_errors(url: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_target(url)


def test_a_remote_target_needs_allow_remote() -> None:
    assert parse_target("postgresql://u@db.example.internal/app", allow_remote=True).host
    with pytest.raises(InputError):
        parse_target("postgresql://u@db.example.internal/app")


# --- PostgreSQL rules ----------------------------------------------------------------------------
def test_pg_archiving_off_is_critical_and_on_is_ok() -> None:
    assert _severity(postgres.judge(_pg(archive_mode="off")), "pitr") == {Severity.CRITICAL}
    assert _severity(postgres.judge(_pg()), "pitr") == {Severity.OK}
    minimal = postgres.judge(_pg(wal_level="minimal", archive_mode="off"))
    assert any("wal_level=minimal" in f.title for f in minimal)


def test_pg_archive_mode_on_without_a_command_is_critical() -> None:
    findings = postgres.judge(_pg(archive_command="", archive_library=""))
    assert _severity(findings, "pitr") == {Severity.CRITICAL}


def test_pg_unreadable_settings_are_named_not_guessed() -> None:
    findings = postgres.judge(_pg(archive_command=None, archive_library=None))
    pitr = [f for f in findings if f.check == "pitr"]
    assert [f.severity for f in pitr] == [Severity.WARNING]
    assert "not readable" in pitr[0].title and "pg_monitor" in pitr[0].fix


def test_pg_archiver_failing_since_its_last_success_is_critical() -> None:
    facts = _pg()
    failing = postgres.PgFacts(
        **{**facts.__dict__, "archiver": postgres.Archiver(10, "A", 600.0, 3, "B", 5.0)}
    )
    assert _severity(postgres.judge(failing), "archiver") == {Severity.CRITICAL}
    recovered = postgres.PgFacts(
        **{**facts.__dict__, "archiver": postgres.Archiver(10, "A", 5.0, 3, "B", 600.0)}
    )
    assert _severity(postgres.judge(recovered), "archiver") == {Severity.OK}
    nothing = postgres.PgFacts(
        **{**facts.__dict__, "archiver": postgres.Archiver(0, None, None, 0, None, None)}
    )
    assert _severity(postgres.judge(nothing), "archiver") == {Severity.WARNING}


def test_pg_replication_rules() -> None:
    facts = _pg()
    alone = postgres.PgFacts(**{**facts.__dict__, "standbys": []})
    assert _severity(postgres.judge(alone), "replication") == {Severity.WARNING}
    lagging = postgres.PgFacts(
        **{**facts.__dict__, "standbys": [postgres.Standby("s", "streaming", "sync", 120.0)]}
    )
    assert _severity(postgres.judge(lagging), "replication") == {Severity.WARNING}
    assert Severity.OK in _severity(postgres.judge(facts), "replication")
    slots = postgres.PgFacts(**{**facts.__dict__, "slots": [postgres.Slot("old", False, 2**30)]})
    slot = [f for f in postgres.judge(slots) if f.check == "replication_slots"]
    assert slot[0].severity is Severity.WARNING and "1024.0 MiB" in slot[0].detail


# --- MariaDB rules -------------------------------------------------------------------------------
def _maria(**variables: str) -> mariadb.MariaFacts:
    base = {
        "log_bin": "1",
        "binlog_format": "ROW",
        "sync_binlog": "1",
        "innodb_flush_log_at_trx_commit": "1",
        "binlog_expire_logs_seconds": "604800",
        "gtid_binlog_pos": "0-1-42",
    }
    base.update(variables)
    return mariadb.MariaFacts(
        version="10.11.9-MariaDB",
        flavor="mariadb",
        database="Chinook",
        variables=base,
        replica_of=[],
        replicas_connected=1,
    )


def test_mariadb_binlog_off_is_critical_and_durability_is_checked() -> None:
    assert _severity(mariadb.judge(_maria(log_bin="0")), "pitr") == {Severity.CRITICAL}
    assert _severity(mariadb.judge(_maria()), "pitr") == {Severity.OK}
    assert Severity.WARNING in _severity(mariadb.judge(_maria(binlog_format="STATEMENT")), "pitr")
    assert _severity(mariadb.judge(_maria(sync_binlog="0")), "durability") == {Severity.WARNING}


def test_mariadb_replication_visible_or_not() -> None:
    facts = _maria()
    none = mariadb.MariaFacts(**{**facts.__dict__, "replicas_connected": 0})
    assert _severity(mariadb.judge(none), "replication") == {Severity.WARNING}
    hidden = mariadb.MariaFacts(
        **{**facts.__dict__, "replica_of": None, "replicas_connected": None}
    )
    assert _severity(mariadb.judge(hidden), "replication") == {Severity.INFO}
    broken = mariadb.MariaFacts(
        **{**facts.__dict__, "replica_of": [mariadb.ReplicaOf("p", "No", "Yes", None, "1236")]}
    )
    assert Severity.CRITICAL in _severity(mariadb.judge(broken), "replication")


# --- shared rules --------------------------------------------------------------------------------
def test_tables_never_analysed_and_stale() -> None:
    tables = [
        TableInfo("public", "a", 10, 1, None),
        TableInfo("public", "b", 10, 1, 45.0),
        TableInfo("public", "c", 10, 1, 1.0),
    ]
    titles = [f.title for f in judge_tables(tables)]
    assert titles == [
        "1 of 3 tables never analysed: backup status unknown",
        "1 tables with statistics older than 30 days",
    ]
    assert judge_tables([TableInfo("p", "c", 1, 1, 2.0)])[0].severity is Severity.OK


def test_migration_tables_need_backup_rollback_and_verification() -> None:
    full = classify_migration_columns("m", ["id", "backup_id", "rollback_sql", "verified_at"])
    part = classify_migration_columns("m2", ["id", "backup_ref"])
    found = judge_migrations([full, part])
    assert [f.severity for f in found] == [Severity.OK, Severity.WARNING]
    assert "rollback planning / verification tracking" in found[1].title


def test_findings_sort_most_severe_first_keeping_check_order() -> None:
    fs = [
        Finding("a", Severity.OK, "1"),
        Finding("b", Severity.CRITICAL, "2"),
        Finding("c", Severity.WARNING, "3"),
        Finding("d", Severity.CRITICAL, "4"),
    ]
    assert [f.title for f in sorted_findings(fs)] == ["2", "4", "3", "1"]


# --- proofs and the gate -------------------------------------------------------------------------
def _proof(hours_old: float, *, verified: bool = True) -> RestoreProof:
    taken = NOW - dt.timedelta(hours=hours_old)
    return RestoreProof("r1", "dump", "postgres", taken, taken, verified, "/b/dump")


def test_no_proof_is_critical_and_a_recent_one_ok() -> None:
    none = judge_proofs([], database="chinook", where="h.sqlite", now=NOW)
    assert none.severity is Severity.CRITICAL and "was ever restore-tested" in none.title
    assert judge_proofs([_proof(1)], database="c", where="h", now=NOW).severity is Severity.OK
    old = judge_proofs([_proof(24 * 10)], database="c", where="h", now=NOW)
    assert old.severity is Severity.WARNING
    bad = judge_proofs([_proof(1, verified=False)], database="c", where="h", now=NOW)
    assert bad.severity is Severity.CRITICAL


def test_gate_backup_age_boundary() -> None:
    assert judge_backup([], database="c", max_age_s=3600, now=NOW).passed is False
    assert judge_backup([_proof(0.5)], database="c", max_age_s=3600, now=NOW).passed is True
    exactly = judge_backup([_proof(1.0)], database="c", max_age_s=3600, now=NOW)
    assert exactly.passed is True  # as old as the limit: still within it
    older = judge_backup([_proof(1.01)], database="c", max_age_s=3600, now=NOW)
    assert older.passed is False and "older than" in older.detail
    unverified = judge_backup([_proof(0.1, verified=False)], database="c", max_age_s=3600, now=NOW)
    assert unverified.passed is False and "none with the data verified" in unverified.detail
    # The youngest verified proof counts, not the newest test of an older backup.
    mixed = judge_backup([_proof(5), _proof(0.2)], database="c", max_age_s=3600, now=NOW)
    assert mixed.passed is True


def test_gate_pitr_item() -> None:
    assert judge_pitr([Finding("pitr", Severity.OK, "on")]).passed
    blocked = judge_pitr(
        [Finding("pitr", Severity.CRITICAL, "archiving off", fix="archive_mode=on")]
    )
    assert not blocked.passed and "needs: archive_mode=on" in blocked.detail
    assert not judge_pitr([]).passed


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("30m", 1800), ("24h", 86400), ("7d", 604800), ("120", 120)]
)
def test_parse_age(text: str, seconds: float) -> None:
    assert parse_age(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "-1h", "0", "inf", "3x"])
def test_parse_age_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_age(text)


# --- the checklist -------------------------------------------------------------------------------
def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "checklist.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_complete_checklist_passes_and_a_missing_item_is_named(tmp_path: Path) -> None:
    lines = ["migration: split-orders", "items:"]
    for name in ITEMS:
        lines.append(f"  {name}: {{done: true, evidence: 'see ticket OPS-1 ({name})'}}")
    checklist = load_checklist(_write(tmp_path, "\n".join(lines) + "\n"))
    assert all(r.passed for r in judge_checklist(checklist))
    partial = load_checklist(_write(tmp_path, "\n".join(lines[:-1]) + "\n"))
    failing = [r for r in judge_checklist(partial) if not r.passed]
    assert [r.name for r in failing] == ["maintenance_window_scheduled"]
    assert failing[0].detail.startswith("missing:")


def test_checklist_items_need_evidence_and_done(tmp_path: Path) -> None:
    text = (
        "items:\n"
        "  full_backup_completed: {done: true}\n"
        "  stakeholders_notified: {done: false, evidence: 'draft mail'}\n"
        "  rollback_plan_approved: {done: false, required: false, evidence: 'additive change'}\n"
    )
    results = {r.name: r for r in judge_checklist(load_checklist(_write(tmp_path, text)))}
    assert results["full_backup_completed"].detail.startswith("no evidence given")
    assert results["stakeholders_notified"].detail.startswith("not done")
    assert results["rollback_plan_approved"].passed


def test_checklist_errors_have_file_and_line(tmp_path: Path) -> None:
    text = (
        "items:\n"
        "  full_backup_completed: {done: yes-ish, evidence: x}\n"
        "  stakeholders_notifed: {done: true, evidence: x}\n"
        "  rollback_plan_approved: {done: true, evidnce: x}\n"
    )
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_checklist(path)
    lines = str(caught.value).splitlines()
    assert any(line.startswith(f"{path}:2:") for line in lines), lines
    assert any(f"{path}:3:" in line and "stakeholders_notified" in line for line in lines), lines
    assert any(f"{path}:4:" in line and "evidence" in line for line in lines), lines


# --- renderings ----------------------------------------------------------------------------------
def _report(*severities: Severity) -> AuditReport:
    return AuditReport(
        target="postgresql://ro:***@127.0.0.1:5432/c",
        engine="postgres",
        server_version="15",
        database="c",
        started_at=NOW.isoformat(),
        duration_s=0.5,
        findings=tuple(Finding(f"check{i}", s, f"t{i}") for i, s in enumerate(severities)),
    )


def test_audit_junit_fails_exactly_the_critical_findings() -> None:
    xml = ET.fromstring(
        render_audit(_report(Severity.CRITICAL, Severity.WARNING, Severity.OK), "junit")
    )
    cases = xml.findall(".//testcase")
    assert len(cases) == 3
    assert [c.find("failure") is not None for c in cases] == [True, False, False]
    assert xml.find("testsuite").get("failures") == "1"  # type: ignore[union-attr]
    data = json.loads(render_audit(_report(Severity.WARNING), "json"))
    assert data["passed"] is True and data["counts"]["warning"] == 1


def test_gate_renderings_name_the_blocking_items() -> None:
    result = GateResult(
        target="t",
        engine="postgres",
        database="c",
        decided_at=NOW.isoformat(),
        max_backup_age_s=3600,
        items=(GateItem("pitr", True, "on"), GateItem("checklist", False, "needs: --checklist")),
    )
    assert not result.passed
    md = render_gate(result, "markdown")
    assert "**BLOCKED** by 1 items" in md and "| checklist | **BLOCKED** |" in md
    xml = ET.fromstring(render_gate(result, "junit"))
    failed = [c.get("name") for c in xml.findall(".//testcase") if c.find("failure") is not None]
    assert failed == ["checklist"]
