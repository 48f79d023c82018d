"""restore-test's s3:// SOURCE: the URL's parts, and bad input refused with exit 2 before any
container or network connection (the key's absence on a store is exit 1: integration test)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.backups.s3source import S3Location, parse_s3_url
from harness.cli import app
from harness.errors import InputError


def test_an_s3_url_names_bucket_key_and_version() -> None:
    assert parse_s3_url("s3://b/nightly/app.dump") == S3Location("b", "nightly/app.dump")
    got = parse_s3_url("s3://b/k.sql.gz?versionId=3HL4kqtJ")
    assert got == S3Location("b", "k.sql.gz", "3HL4kqtJ")
    assert got.url == "s3://b/k.sql.gz?versionId=3HL4kqtJ" and got.filename == "k.sql.gz"


@pytest.mark.parametrize("bad", ["s3://bucket", "s3://bucket/", "s3:///key", "s3://b/folder/"])
def test_an_s3_url_without_one_object_is_refused(bad: str) -> None:
    with pytest.raises(InputError, match="s3://BUCKET/KEY"):
        parse_s3_url(bad)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["s3://bucket"], {}, "s3://BUCKET/KEY"),
        (["app.dump", "--endpoint-url", "http://127.0.0.1:9"], {}, "--endpoint-url goes with"),
        (
            ["s3://b/k", "--endpoint-url", "http://127.0.0.1:9", "--access-key-env", "RD_K"],
            {"RD_K": "x", "AWS_SECRET_ACCESS_KEY": ""},
            "set both RD_K and AWS_SECRET_ACCESS_KEY",
        ),
    ],
)
def test_bad_s3_input_exits_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    message: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    history = str(tmp_path / "h.sqlite")
    got = CliRunner().invoke(
        app, ["restore-test", *args, "--engine", "postgres", "--history", history]
    )
    assert got.exit_code == 2, got.output
    assert message in got.output and "Traceback" not in got.output
