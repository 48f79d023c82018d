"""A scenario that needs what an engine cannot drill is rejected when validated, with a line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.capabilities import CAPABILITIES, engine_names
from harness.errors import ScenarioError
from harness.validation import load_scenario

REPO = Path(__file__).resolve().parents[2]
SCENARIO = """\
name: needs-depth
summary: physical backup and PITR
engines: [postgres, mysql]
stores: [{name: a}]
topology: {wal_archive: a}
backups: [{name: b, method: physical, at_s: 1, store: a}]
timeline: [{fault: kill, at_s: 2}]
recovery: {steps: [{step: pitr}]}
objectives: {rto_s: 1, rpo_s: 1}
"""


def test_every_engine_declares_its_capabilities() -> None:
    # Per engine; versions (postgres@17) share their engine's collaborators.
    assert set(CAPABILITIES) == {e for e in engine_names() if "@" not in e}


def test_engine_without_the_capability_is_rejected_on_its_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    [problem] = caught.value.problems
    assert (problem.line, problem.path) == (3, "engines[1]")
    assert "'mysql' cannot drill physical_backup, pitr, wal_archive" in problem.message


def test_the_same_scenario_on_postgres_and_mariadb_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.replace("[postgres, mysql]", "[postgres, mariadb]"))
    assert load_scenario(path).engines == ["postgres", "mariadb"]


def test_postgres_only_targets_are_rejected_for_mariadb(tmp_path: Path) -> None:
    # An LSN or a named restore point means nothing to MariaDB's binlog.
    path = tmp_path / "s.yaml"
    text = SCENARIO.replace("[postgres, mysql]", "[postgres, mariadb]")
    path.write_text(text.replace("{step: pitr}", "{step: pitr, target: {lsn: 0/3000060}}"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    [problem] = caught.value.problems
    assert "'mariadb' cannot drill lsn_target" in problem.message


def test_a_delayed_replica_cannot_stop_at_a_fault_position(tmp_path: Path) -> None:
    # A replica's log positions are its own: replay_delayed stops at a time.
    path = tmp_path / "s.yaml"
    path.write_text(
        """\
name: delayed-position
summary: a delayed replica told to stop at the primary's position
engines: [postgres, mariadb]
topology: {replicas: [{name: late, apply_delay_s: 60}]}
timeline: [{fault: bad_migration, at_s: 2, sql: [DROP TABLE seed_02]}]
recovery: {steps: [{step: replay_delayed, replica: late, target: {fault_position: true}}]}
objectives: {rto_s: 1, rpo_s: 1}
"""
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    [problem] = caught.value.problems
    assert problem.line == 6 and problem.path.endswith("target.fault_position"), problem
    assert "replay_delayed stops at a time" in problem.message


def test_the_table_follows_from_the_collaborators_engines_hold() -> None:
    derived = dict(CAPABILITIES)
    assert derived == {
        "postgres": {
            "physical_backup",
            "wal_archive",
            "replicas",
            "pitr",
            "lsn_target",
            "restore_point",
            "parallel_logical",
            "pgbackrest",
        },
        "mariadb": {"physical_backup", "wal_archive", "replicas", "pitr", "parallel_logical"},
        # mysqldump's sections are mariadb-dump's: the same split applies (not run here).
        "mysql": {"parallel_logical"},
        "sqlserver": frozenset(),
    }


def test_validating_a_scenario_imports_no_database_driver(tmp_path: Path) -> None:
    # In a fresh interpreter: the capability table instantiates every adapter, none of which
    # may import its driver before it reaches a server.
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.replace("[postgres, mysql]", "[postgres, mariadb]"))
    code = (
        "import sys; from harness.validation import load_scenario; "
        f"load_scenario({str(path)!r}); "
        "drivers = ('psycopg', 'pymysql', 'pyodbc'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in drivers))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
