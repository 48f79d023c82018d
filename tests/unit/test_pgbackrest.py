"""pgBackRest's pure parts: the commands it is given, how its info and verify output are read,
the scenario rules for pgbackrest backups, and the restore-test checks file."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from harness.backups.pgbackrest import judge_verify, parse_info
from harness.engines import get_engine
from harness.engines.base import RecoveryTarget
from harness.engines.collaborators import MissingCapability, log_archive_for, pgbackrest_of
from harness.errors import ScenarioError
from harness.scenario.checks import CheckExpect, load_checks
from harness.validation import load_scenario

FULL = "20261207-223105F"
INCR = f"{FULL}_20261207-223110I"


def words(command: str) -> list[str]:
    return shlex.split(command)


def test_restore_commands_carry_the_target_kind_and_delta() -> None:
    tool = pgbackrest_of(get_engine("postgres"))
    at_time = words(
        tool.restore_command(label=INCR, recovery=RecoveryTarget(time="2026-12-07 22:31:13+00"))
    )
    assert "--type=time" in at_time and "--target=2026-12-07 22:31:13+00" in at_time
    assert "--target-exclusive" in at_time and "--target-action=promote" in at_time
    assert f"--set={INCR}" in at_time and at_time[-1] == "restore"
    lsn = words(tool.restore_command(label=FULL, recovery=RecoveryTarget(lsn="0/166B770")))
    assert "--type=lsn" in lsn and "--target=0/166B770" in lsn
    immediate = words(tool.restore_command(label=FULL, recovery=RecoveryTarget(immediate=True)))
    assert "--type=immediate" in immediate and not any(w.startswith("--target=") for w in immediate)
    delta = words(tool.restore_command(label=FULL, recovery=None, delta=True))
    assert "--delta" in delta and "--type=default" in delta


def test_archive_push_and_backup_get_only_the_options_they_accept() -> None:
    tool = pgbackrest_of(get_engine("postgres"))
    command = dict(zip(tool.server_args()[1::2], tool.server_args()[1::2], strict=True))
    push = next(v for v in command if v.startswith("archive_command="))
    assert "archive-push %p" in push and "--pg1-database" not in push
    backup = words(tool.backup_command("incr"))
    assert "--type=incr" in backup and "--pg1-user=drill" in backup
    assert tool.is_segment("000000010000000000000003-0a1b2c3d4e5f.gz")
    assert not tool.is_segment("000000010000000000000003.00000028.backup")


def test_mariadb_has_no_pgbackrest() -> None:
    with pytest.raises(MissingCapability):
        log_archive_for(get_engine("mariadb"), "pgbackrest")


def test_info_json_is_read_oldest_first() -> None:
    text = json.dumps(
        [
            {
                "name": "drill",
                "backup": [
                    {
                        "label": FULL,
                        "type": "full",
                        "info": {"size": 31619220, "repository": {"delta": 4288578}},
                        "lsn": {"start": "0/F000028", "stop": "0/F000100"},
                        "archive": {"start": "00000001000000000000000F"},
                    },
                    {
                        "label": INCR,
                        "type": "incr",
                        "info": {"size": 31660181, "repository": {"delta": 11288}},
                        "lsn": {},
                        "archive": {},
                    },
                ],
            }
        ]
    )
    sets = parse_info(text)
    assert [s.label for s in sets] == [FULL, INCR]
    assert sets[0].size_bytes == 31619220 and sets[1].repo_delta_bytes == 11288


VERIFY = f"""\
stanza: drill
status: error
  archiveId: 15-1, total WAL checked: 12, total valid WAL: 12
    missing: 0, checksum invalid: 0, size invalid: 0, other: 0
  backup: {FULL}, status: valid, total files checked: 1280, total valid files: 1280
    missing: 0, checksum invalid: 0, size invalid: 0, other: 0
  backup: {INCR}, status: invalid, total files checked: 1280, total valid files: 1279
    missing: 0, checksum invalid: 1, size invalid: 0, other: 0
"""


def test_verify_blames_the_corrupted_set_and_what_depends_on_it_only() -> None:
    lines = VERIFY.splitlines()
    assert judge_verify(lines, FULL) is None
    complaint = judge_verify(lines, INCR)
    assert complaint is not None and "checksum invalid: 1" in complaint
    # A full set that is corrupted breaks every set of its chain.
    broken_full = VERIFY.replace(
        "total valid files: 1280\n    missing: 0, checksum invalid: 0",
        "total valid files: 1279\n    missing: 0, checksum invalid: 2",
    )
    assert judge_verify(broken_full.splitlines(), INCR) is not None
    # The WAL archive is needed by every set.
    bad_wal = VERIFY.replace(
        "total valid WAL: 12\n    missing: 0", "total valid WAL: 11\n    missing: 1"
    )
    assert judge_verify(bad_wal.splitlines(), FULL) is not None


SCENARIO = """\
name: pgbr
summary: s
engines: [postgres]
stores: [{{name: repo}}, {{name: other}}]
topology: {{wal_archive: repo{tool}}}
backups:
  - {{name: full, method: pgbackrest, at_s: 1, store: {store}}}
  - {{name: dump, at_s: 1, store: repo, type: {dump_type}}}
timeline: [{{fault: bad_migration, at_s: 5, sql: [DROP TABLE seed_02]}}]
recovery: {{steps: [{{step: pitr, target: {{immediate: true}}}}]}}
objectives: {{rto_s: 60, rpo_s: 2}}
"""


def test_a_valid_pgbackrest_scenario_loads(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        SCENARIO.format(tool=", archive_tool: pgbackrest", store="repo", dump_type="full")
    )
    s = load_scenario(path)
    assert s.backups[0].method == "pgbackrest" and s.topology.archive_tool == "pgbackrest"


def test_pgbackrest_backups_need_the_repository_store(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(tool="", store="other", dump_type="incr"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    messages = [f"{p.line}: {p.path}: {p.message}" for p in caught.value.problems]
    assert any("7: backups[0].store" in m and "archive_tool: pgbackrest" in m for m in messages)
    assert any("8: backups[1].type" in m and "only pgbackrest" in m for m in messages)


def test_checks_file_is_validated_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "checks.yaml"
    path.write_text("checks:\n  - name: a\n    sql: SELECT 1\n    expect: {value: 1, min: 0}\n")
    with pytest.raises(ScenarioError) as caught:
        load_checks(path)
    [problem] = caught.value.problems
    assert problem.line == 4 and "either value or min/max" in problem.message
    path.write_text("checks:\n  - name: a\n    sql: SELECT 1\n    expect: {min: 1, max: 3}\n")
    [check] = load_checks(path)
    assert check.expect.judge(2) and not check.expect.judge(4) and not check.expect.judge("x")


def test_check_expectations() -> None:
    assert CheckExpect(value=0).judge(0) and CheckExpect(value=0).judge("0")
    assert not CheckExpect(value=0).judge(1)
    assert CheckExpect(value="ok").judge("OK") and CheckExpect(max=5).describe() == "<= 5"
