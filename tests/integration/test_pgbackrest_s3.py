"""pgBackRest with its repository on S3, against the real moto server (over TLS, verified with
the run's CA), the real pgbackrest binary and real PostgreSQL: full + incremental sets and WAL
pushed into the bucket, an object of the newest set corrupted in the bucket and caught by
`pgbackrest verify`, PITR from the full set to just before a bad migration with the loss
recomputed from acks.jsonl, and neither key of the run anywhere in the run folder or history.
One drill covers it all (the suite's time budget)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.lab.s3 import S3_IMAGE, S3Credentials
from harness.measurement.verdict import Verdict
from harness.report.history import History
from harness.runner import Drill, DrillResult
from harness.validation import load_scenario

from .truth import recomputed, run_tapped

HERE = Path(__file__).parent / "scenarios"
REPO_URL = "s3://rd-bucket/pg/prod/pgbackrest/backup/drill/"


@pytest.fixture(autouse=True)
def s3_image(client) -> None:  # type: ignore[no-untyped-def]
    import docker.errors

    try:
        client.images.get(S3_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"{S3_IMAGE} is missing: run `compose/images/build.sh s3` (make images)")


@pytest.fixture
def run_keys(monkeypatch: pytest.MonkeyPatch) -> list[S3Credentials]:
    """The key pairs the run's S3 server really got (random as always; only observed)."""
    made: list[S3Credentials] = []
    original = S3Credentials.random.__func__  # type: ignore[attr-defined]

    def observed(cls: type[S3Credentials]) -> S3Credentials:
        made.append(original(cls))
        return made[-1]

    monkeypatch.setattr(S3Credentials, "random", classmethod(observed))
    return made


def backup(journal: dict[str, Any], name: str) -> dict[str, Any]:
    return next(b for b in journal["backups"] if b["name"] == name)


def test_pgbackrest_on_s3_verify_catches_a_corrupted_object_pitr_falls_back_exactly(
    tmp_path: Path, run_keys: list[S3Credentials]
) -> None:
    path = HERE / "pgbackrest-s3-corrupt.yaml"
    out = tmp_path / "runs"
    drill = Drill(load_scenario(path), source=path, engine="postgres", out_dir=out)
    result: DrillResult = run_tapped(drill)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]

    # Sets of pgBackRest's own types in the bucket, the incremental chained on the full one.
    full, incr = backup(j, "full"), backup(j, "incr")
    assert full["method"] == incr["method"] == "pgbackrest"
    assert full["path"].startswith(REPO_URL) and incr["path"].startswith(REPO_URL)
    full_label, incr_label = full["path"].rsplit("/", 1)[1], incr["path"].rsplit("/", 1)[1]
    assert full_label.endswith("F") and incr_label.startswith(f"{full_label}_")
    assert incr_label.endswith("I") and full["size_bytes"] > 1_000_000
    # The corrupted object: a data file of the incremental set, changed in the bucket.
    fault = next(f for f in j["faults"] if f["type"] == "corrupt_backup")
    assert fault["took_effect"] and f"{incr['path']}/" in fault["evidence"]
    # Exists, size and the manifest's checksum (read from the bucket) pass; only pgBackRest's
    # own verify, reading every object over TLS, sees the damage.
    assert full["verification"] == "restore_tested" and "tool_verified" in full["checks"]
    assert incr["checks"] == ["exists", "size_plausible", "checksum_matches"]
    assert "checksum invalid: 1" in incr["verification_failure"]
    rejected = [r for r in j["recovery"] if r["outcome"] == "rejected"]
    assert [r["backup"] for r in rejected] == ["incr"]
    # PITR from the full set + WAL fetched from the bucket by archive-get, to the target.
    pitr = next(r for r in j["recovery"] if r["step"] == "pitr" and r["outcome"] == "ok")
    assert pitr["backup"] == "full"
    log = pitr["server_log"]
    assert any("restore command end: completed successfully" in x for x in log), log
    assert any("recovery stopping before" in x for x in log), log
    assert j["measured"]["restored_from"] == "full" and j["measured"]["data_verified"] is True
    assert j["measured"]["pitr"]["within_tolerance"] is True
    # pgBackRest's claim judged against the acknowledgment log: nothing before the target lost.
    claim = next(e for e in j["expectations"] if e["what"].startswith("pgbackrest restore"))
    assert claim["met"] is True and claim["actual"] == 0
    # Recomputed from acks.jsonl and the rows read back: exactly the writes after the target.
    t = recomputed(result, exact_pitr=True)
    assert t.lost and not t.holes and not t.unexpected
    assert j["measured"]["lost_writes"] == len(t.lost)

    # Neither key of the run anywhere in the run folder or the history.
    history_path = tmp_path / "history.sqlite"
    history = History.open(str(history_path))
    try:
        history.record(result.record)
    finally:
        history.close()
    assert len(run_keys) == 1  # one S3 server, one key pair
    secrets = [run_keys[0].access_key, run_keys[0].secret_key]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) >= 3 and history_path in files and history_path.stat().st_size > 0
    leaks = [
        f"{p.relative_to(tmp_path)}: {s[:4]}..."
        for p in files
        for s in secrets
        if s.encode() in p.read_bytes()
    ]
    assert leaks == []
