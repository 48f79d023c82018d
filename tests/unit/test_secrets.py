"""No secret is ever written: credentials out of every command line, command errors and
outputs redacted, database URLs shown without their password (harness.secrets)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import docker.errors
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.engines import get_engine
from harness.engines.base import Credentials, DumpJob, RecoveryTarget
from harness.errors import CommandTimeout, InfrastructureError
from harness.lab.execution import exec_in
from harness.secrets import MASK, redact, redact_url, secret_values, url_secrets

PASSWORD = "Pw-unit-7f3a'\"$x"
ROOT_PASSWORD = "Root-unit-91bd"


# -- redact -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        ("PGPASSWORD=hunter2 pg_dump", ["hunter2"], "PGPASSWORD=*** pg_dump"),
        ("a hunter2 b hunter2", ["hunter2"], "a *** b ***"),
        ("nothing here", ["hunter2"], "nothing here"),
        ("pw abcdef and abc", ["abc", "abcdef"], "pw *** and ***"),  # longest first
        ("a b", ["a"], "a b"),  # too short to be told from the message
        ("", ["hunter2"], ""),
    ],
)
def test_redact_masks_every_occurrence(text: str, secrets: list[str], expected: str) -> None:
    assert redact(text, secrets) == expected


def test_secret_values_are_those_of_secret_named_variables() -> None:
    env = {
        "PGUSER": "drill",
        "PGPASSWORD": "p1",
        "MYSQL_PWD": "p2",
        "SQLCMDPASSWORD": "p3",
        "AWS_SECRET_ACCESS_KEY": "p4",
        "API_TOKEN": "p5",
        "ARCHIVE": "/archive",
    }
    assert sorted(secret_values(env)) == ["p1", "p2", "p3", "p4", "p5"]
    assert secret_values(None) == []


# -- URLs -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p4ss@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgres://u:p4ss@h/db", "postgres://u:***@h/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgresql://h/db", "postgresql://h/db"),
        ("postgresql://u@h/db?password=p4ss", "postgresql://u@h/db?password=***"),
        (
            "postgresql://u@h/db?sslmode=require&sslpassword=k3y&application_name=rd",
            "postgresql://u@h/db?sslmode=require&sslpassword=***&application_name=rd",
        ),
        ("postgresql://u:a@b/c@h/db", "postgresql://u:***@h/db"),  # unencoded @ and /
        ("postgresql://u:p%40ss@h/db?token=t0k#x", "postgresql://u:***@h/db?token=***#x"),
        (
            "postgresql://u:p@h/db?PASSWORD=x&api_key=y",
            "postgresql://u:***@h/db?PASSWORD=***&api_key=***",
        ),
        ("/var/lib/history.sqlite", "/var/lib/history.sqlite"),
        ("sqlite:///tmp/h.sqlite", "sqlite:///tmp/h.sqlite"),
    ],
)
def test_redact_url_cases(url: str, expected: str) -> None:
    assert redact_url(url) == expected


_PW_TEXT = st.text(min_size=1, max_size=20).map(lambda s: "Q7x" + s)
_RAW_PW = st.text(
    alphabet=st.characters(blacklist_characters="?#", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=20,
).map(lambda s: "Q7x" + s)
_PARAM = st.sampled_from(["password", "sslpassword", "token", "api_key", "secret", "Password"])


@given(password=_PW_TEXT, param_secret=_PW_TEXT, param=_PARAM)
def test_redact_url_never_shows_an_encoded_password(
    password: str, param_secret: str, param: str
) -> None:
    url = (
        f"postgresql://drill:{quote(password, safe='')}@db.example:5432/history"
        f"?sslmode=require&{param}={quote(param_secret, safe='')}"
    )
    shown = redact_url(url)
    assert "Q7x" not in shown
    assert shown.startswith("postgresql://drill:***@db.example:5432/history?sslmode=require&")
    assert set(url_secrets(url)) >= {password, param_secret}


@given(password=_RAW_PW)
def test_redact_url_masks_an_unencoded_password_whole(password: str) -> None:
    shown = redact_url(f"postgresql://drill:{password}@db.example/history")
    assert shown == "postgresql://drill:***@db.example/history"


# -- command errors ---------------------------------------------------------------------------
class _Container:
    """Stands in for a docker container: ``exec_run`` answers as told (no Docker in unit tests)."""

    name = "rd-test-agent"

    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def exec_run(self, argv: list[str], **kwargs: Any) -> Any:
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer


def test_command_output_is_redacted_of_the_secrets_in_its_environment() -> None:
    said = f"pg_dump: error: password {PASSWORD} rejected".encode()
    result = exec_in(
        _Container((1, (said, said))),  # type: ignore[arg-type]
        ["pg_dump"],
        timeout_s=5,
        env={"PGPASSWORD": PASSWORD, "PGUSER": "drill"},
    )
    assert PASSWORD not in result.stdout + result.stderr + result.tail()
    assert result.stderr == f"pg_dump: error: password {MASK} rejected"


def test_a_timed_out_command_names_it_without_its_secrets() -> None:
    # A command killed at its deadline (exit 137) whose argv and output held the password.
    container = _Container((137, (b"", f"still dumping with {PASSWORD}".encode())))
    with pytest.raises(CommandTimeout) as caught:
        exec_in(
            container,  # type: ignore[arg-type]
            ["bash", "-c", f"PGPASSWORD={PASSWORD} pg_dump -h primary drill"],
            timeout_s=0.4,
            env={"PGPASSWORD": PASSWORD},
        )
    message = str(caught.value)
    assert "timed out after" in message and "pg_dump -h primary drill" in message
    assert PASSWORD not in message and PASSWORD not in caught.value.last_output
    assert MASK in message


def test_a_docker_failure_message_is_redacted() -> None:
    container = _Container(docker.errors.APIError(f"exec failed: env MYSQL_PWD={PASSWORD}"))
    with pytest.raises(InfrastructureError) as caught:
        exec_in(container, ["mariadb"], timeout_s=5, env={"MYSQL_PWD": PASSWORD})  # type: ignore[arg-type]
    assert PASSWORD not in str(caught.value) and "could not exec mariadb" in str(caught.value)


# -- no password in any command line ----------------------------------------------------------
def _scripts(engine_name: str) -> list[str]:
    """Every command and script an engine builds, with distinctive credentials."""
    engine: Any = get_engine(engine_name)
    engine.credentials = Credentials(user="drill", password=PASSWORD, database="drill")
    engine.root_password = ROOT_PASSWORD
    job = DumpJob("primary", "/stores/s/a.gz", PASSWORD, "drill")
    out = [
        engine.dump_command(job),
        engine.dump_command(DumpJob("primary", "/x", PASSWORD + "-rotated", "d", pipefail=False)),
        engine.restore_command(path="/stores/s/a.gz", target_host="restored-1"),
        engine.after_start_script() or "",
    ]
    when = RecoveryTarget(time=dt.datetime(2026, 1, 1, tzinfo=dt.UTC).isoformat())
    if engine.physical is not None:
        out += [
            engine.physical.backup_command(source_host="primary", path="/stores/s/b"),
            engine.physical.prepare_restore_script(
                source="/stores/s/b", target="/target", recovery=when, archive=True
            ),
        ]
    if engine.archive is not None:
        out += [
            engine.archive.start_script(),
            engine.archive.replay_script(
                backup_path="/stores/s/b", archive_dir="/stores/a", target_host="r", recovery=when
            )
            or "",
        ]
    if engine.replication is not None:
        r = engine.replication
        out += [
            r.clone_script(source_host="primary", target="/target", apply_delay_s=5, name="r1"),
            r.start_script(source_host="primary", apply_delay_s=5, name="r1") or "",
            r.delayed_replay_script(when) or "",
        ]
    return out


@pytest.mark.parametrize("engine_name", ["postgres", "mariadb", "mysql", "sqlserver"])
def test_no_command_line_carries_a_password(engine_name: str) -> None:
    scripts = _scripts(engine_name)
    assert any("gzip" in s for s in scripts)
    for script in scripts:
        assert PASSWORD not in script and ROOT_PASSWORD not in script, script[:300]


@pytest.mark.parametrize("engine_name", ["postgres", "mariadb", "sqlserver"])
def test_the_dump_job_gets_its_password_from_the_environment(engine_name: str) -> None:
    engine = get_engine(engine_name)
    real = secret_values(engine.tool_env())
    stale = secret_values(engine.tool_env(password="stale-credentials"))
    assert real == [engine.credentials.password] and stale == ["stale-credentials"]
