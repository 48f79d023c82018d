"""Scenario values reach SQL, configuration files and shell commands quoted with the engine's
own quoting, never pasted (a PITR target name or time, a replica name, a host)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness.engines import get_engine
from harness.engines.base import RecoveryTarget
from harness.engines.mariadb.replication import change_master_sql
from harness.engines.mariadb.shell import sql_literal
from harness.engines.postgres.archive import conf_lines, conf_value, recovery_settings
from harness.engines.postgres.replication import conninfo_value, retarget_statements
from harness.errors import InputError

HOSTILE = "it's\nhere'; DROP TABLE x; --"
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin/postgres")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "'plain'"),
        ("it's", "'it''s'"),
        ("a\nb\rc", "'a\\nb\\rc'"),
        ("back\\slash", "'back\\\\slash'"),
        (HOSTILE, "'it''s\\nhere''; DROP TABLE x; --'"),
        ("2026-01-01 00:00:00+00", "'2026-01-01 00:00:00+00'"),
    ],
)
def test_conf_value_escapes_like_postgresql_conf(value: str, expected: str) -> None:
    assert conf_value(value) == expected


def test_conf_value_refuses_nul_and_conf_lines_bad_names() -> None:
    with pytest.raises(InputError, match="NUL"):
        conf_value("a\0b")
    with pytest.raises(InputError, match="parameter name"):
        conf_lines({"recovery_target_name = 'x'\nrestore_command": "y"})


def test_recovery_settings_of_a_hostile_name_stay_one_line_each() -> None:
    engine = get_engine("postgres")
    assert engine.archive is not None
    settings = recovery_settings(engine.archive, RecoveryTarget(name=HOSTILE))
    text = conf_lines(settings)
    assert text.count("\n") == len(settings) - 1
    assert "recovery_target_name = 'it''s\\nhere''; DROP TABLE x; --'" in text.splitlines()


def test_prepare_restore_script_writes_the_quoted_settings_through_the_shell() -> None:
    engine = get_engine("postgres")
    assert engine.physical is not None and engine.archive is not None
    target = RecoveryTarget(name=HOSTILE)
    script = engine.physical.prepare_restore_script(
        source="/stores/s/b", target="/target", recovery=target, archive=True
    )
    conf = conf_lines(recovery_settings(engine.archive, target))
    assert f"printf '%s\\n' {shlex.quote(conf)} >> /target/postgresql.auto.conf" in script
    # The shell hands printf exactly the file text (bash evaluates that very word).
    printed = subprocess.run(
        ["bash", "-c", f"printf '%s\\n' {shlex.quote(conf)}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed == conf + "\n"


@pytest.mark.skipif(
    not POSTGRES_BIN.exists() or not shutil.which("setpriv") or os.geteuid() != 0,
    reason="needs PostgreSQL 15's server binary and root (to run it as nobody)",
)
def test_postgres_itself_reads_back_the_exact_hostile_values() -> None:
    """The server's own configuration parser (postgres -C) reads each value as it was given."""
    values = [HOSTILE, "back\\slash and 'quotes'", "tab\there"]
    for value in values:
        # Not under pytest's tmp_path: the unprivileged server must be able to reach it.
        with tempfile.TemporaryDirectory(prefix="rd-conf-", dir="/tmp") as name:
            shown = _postgres_reads(Path(name), value)
        assert shown == value + "\n"


def _postgres_reads(folder: Path, value: str) -> str:
    (folder / "postgresql.conf").write_text(conf_lines({"recovery_target_name": value}) + "\n")
    folder.chmod(0o755)
    return subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            str(POSTGRES_BIN),
            "-D",
            str(folder),
            "-C",
            "recovery_target_name",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout


def test_alter_system_quotes_name_and_value_with_psycopg() -> None:
    engine = get_engine("postgres")
    assert engine.archive is not None
    settings = recovery_settings(engine.archive, RecoveryTarget(name="it's'; DROP TABLE x; --"))
    rendered = [s.as_string() for s in retarget_statements(settings)]
    assert rendered == [
        """ALTER SYSTEM SET "recovery_target_action" = 'promote'""",
        """ALTER SYSTEM SET "recovery_target_name" = 'it''s''; DROP TABLE x; --'""",
        """ALTER SYSTEM SET "recovery_target_inclusive" = 'off'""",
    ]
    newline = retarget_statements({"recovery_target_name": "a\nb\\c"})[0].as_string()
    assert newline == """ALTER SYSTEM SET "recovery_target_name" =  E'a\nb\\\\c'"""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("primary", "'primary'"),
        ("r'1", "'r\\'1'"),
        ("a b password=x", "'a b password=x'"),
        ("back\\", "'back\\\\'"),
    ],
)
def test_conninfo_values_are_quoted(value: str, expected: str) -> None:
    assert conninfo_value(value) == expected


def test_clone_script_quotes_the_replica_name_into_its_conninfo() -> None:
    engine = get_engine("postgres")
    assert engine.replication is not None
    script = engine.replication.clone_script(
        source_host="primary", target="/target", apply_delay_s=0, name="r1 password=x'"
    )
    conninfo = "host='primary' application_name='r1 password=x\\''"
    assert f"-d {shlex.quote(conninfo)} " in script


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("drill", "'drill'"),
        ("it's", "'it''s'"),
        ("a\\b", "'a\\\\b'"),
        ("n\0l", "'n\\0l'"),
        (HOSTILE, "'it''s\nhere''; DROP TABLE x; --'"),
    ],
)
def test_mariadb_sql_literals(value: str, expected: str) -> None:
    assert sql_literal(value) == expected


def test_change_master_quotes_host_and_the_password_from_the_environment() -> None:
    """bash evaluates the word as the replica's start script does: the SQL comes out with the
    host quoted in Python and the password escaped in the container."""
    engine = get_engine("mariadb")
    assert engine.replication is not None
    word = change_master_sql(engine.replication, "pri'mary", 2.4)
    script = (
        'gtid=0-1-7; pw="${MARIADB_PASSWORD}"; '
        + r"pw=${pw//\\/\\\\}; pw=${pw//\'/\'\'}; "
        + f"printf '%s' {word}"
    )
    env = {"MARIADB_PASSWORD": "p'w\\$(touch /tmp/x)", "PATH": os.environ["PATH"]}
    sql = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert sql == (
        "SET GLOBAL gtid_slave_pos = '0-1-7'; CHANGE MASTER TO MASTER_HOST = 'pri''mary', "
        "MASTER_PORT = 3306, MASTER_USER = 'drill', MASTER_PASSWORD = 'p''w\\\\$(touch /tmp/x)', "
        "MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1, MASTER_DELAY = 2; START SLAVE"
    )
    start = engine.replication.start_script(source_host="primary", apply_delay_s=0, name="r")
    assert r"pw=${pw//\\/\\\\}; pw=${pw//\'/\'\'}; " in start and word not in start
    assert change_master_sql(engine.replication, "primary", 0) in start


def test_mariadb_grant_quotes_the_user() -> None:
    engine = get_engine("mariadb")
    script = engine.after_start_script()
    assert script.endswith("-e " + shlex.quote("GRANT ALL PRIVILEGES ON *.* TO 'drill'@'%'"))
