"""`recovery-drill restore-test s3://BUCKET/KEY --endpoint-url URL` against the lab's real S3
server (moto's, in a labelled lab, its host endpoint on 127.0.0.1): a pg_dump the test made
itself, uploaded with an x-amz-checksum-sha256, fetched, verified against the store's metadata
and restored (exit 0); a missing key (exit 1, "exists" named, catalogued as failed); the
credentials, given through named variables, nowhere in the outputs or the history."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.engines.base import Engine
from harness.lab.lab import Lab
from harness.lab.s3 import S3_IMAGE, S3Credentials, S3Server
from harness.report.history import History
from harness.report.history.external import catalog
from harness.runner import new_run_id
from harness.server.node import Node

from .conftest import REPO
from .test_restore_test import CHECKS, ROWS, make_dump

ACCESS_KEY = "AKIARDRESTORETEST9XQ"
SECRET_KEY = "RestoreTest-s3-secret_7f3a-do-not-leak"


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )


@pytest.fixture()
def s3_lab(client) -> Iterator[Lab]:  # type: ignore[no-untyped-def]
    """A lab of its own for the S3 server: the session's lab may already hold one (alias s3)."""
    with Lab(new_run_id(), client=client) as lab:
        yield lab


def test_restore_test_of_an_s3_object_and_of_a_missing_key(
    tmp_path: Path,
    s3_lab: Lab,
    monkeypatch: pytest.MonkeyPatch,
    client,  # type: ignore[no-untyped-def]
    session_lab: Lab,
    postgres_engine: Engine,
    postgres_node: Node,
) -> None:
    import docker.errors

    try:
        client.images.get(S3_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"{S3_IMAGE} is missing: run `compose/images/build.sh s3` (make images)")
    monkeypatch.setattr(
        S3Credentials, "random", classmethod(lambda cls: cls(ACCESS_KEY, SECRET_KEY))
    )
    server = S3Server.start(s3_lab)
    assert server.host_endpoint.startswith("http://127.0.0.1:")
    server.create_bucket("team-backups")
    dump = tmp_path / "app.dump"
    make_dump(session_lab, postgres_engine, postgres_node, dump)
    assert dump.read_bytes()[:5] == b"PGDMP"
    server.client().put_object(
        Bucket="team-backups",
        Key="nightly/app.dump",
        Body=dump.read_bytes(),
        ChecksumAlgorithm="SHA256",
    )
    checks = tmp_path / "checks.yaml"
    checks.write_text(CHECKS)
    history = tmp_path / "history.sqlite"
    env = {"TEAM_S3_KEY": ACCESS_KEY, "TEAM_S3_SECRET": SECRET_KEY}
    s3_args = (
        "--endpoint-url", server.host_endpoint,
        "--access-key-env", "TEAM_S3_KEY", "--secret-key-env", "TEAM_S3_SECRET",
    )  # fmt: skip

    good = cli(
        "restore-test", "s3://team-backups/nightly/app.dump", *s3_args, "--engine", "postgres",
        "--checks", str(checks), "--json", str(tmp_path / "good.json"),
        "--junit", str(tmp_path / "good.xml"), "--history", str(history),
        env=env,
    )  # fmt: skip
    assert good.returncode == 0, good.stdout + good.stderr
    result = json.loads((tmp_path / "good.json").read_text())
    assert result["status"] == "pass" and result["verification"] == "restore_tested"
    assert result["kind"] == "s3_object"
    assert result["location"] == "s3://team-backups/nightly/app.dump"
    assert result["store_checksum"] == "x-amz-checksum-sha256"
    import hashlib

    assert result["sha256"] == hashlib.sha256(dump.read_bytes()).hexdigest()
    assert result["size_bytes"] == dump.stat().st_size
    assert result["data_checks"][0]["actual"] == str(ROWS)
    assert 0 < result["download_s"] <= result["fetch_s"] < result["rto_s"]
    for figure in ("restore_s", "verify_s"):
        assert result[figure] is not None and result[figure] > 0, figure

    missing = cli(
        "restore-test", "s3://team-backups/nightly/gone.dump", *s3_args, "--engine", "postgres",
        "--json", str(tmp_path / "missing.json"), "--history", str(history),
        env=env,
    )  # fmt: skip
    assert missing.returncode == 1, missing.stdout + missing.stderr
    failed = json.loads((tmp_path / "missing.json").read_text())
    assert failed["status"] == "fail" and failed["reason"].startswith("exists:")
    assert "NoSuchKey" in failed["reason"] or "404" in failed["reason"]
    assert "Traceback" not in missing.stderr

    with History.open(history) as store:
        rows = {r.name: r for r in catalog(store.db)}
    assert rows["app.dump"].verification == "restore_tested"
    assert rows["gone.dump"].last_status == "fail"
    written = [p for p in tmp_path.iterdir() if p.is_file() and p.name != "app.dump"]
    assert len(written) >= 5, written
    for text in (good.stdout, good.stderr, missing.stdout, missing.stderr):
        assert SECRET_KEY not in text and ACCESS_KEY not in text
    for path in written:
        data = path.read_bytes()
        assert SECRET_KEY.encode() not in data and ACCESS_KEY.encode() not in data, path
