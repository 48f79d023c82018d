"""Object storage (issue 13) against a real S3 server in the lab (moto's server, image
recovery-drill/s3:moto) and real MariaDB: a team's dump-to-S3 command drilled, an empty upload
caught with recovery falling back to the previous object, an upload whose key expired (moto's
IAM enforced) swallowed by its wrapper and caught, the Object Lock copy surviving ransomware
while the unlocked one does not, and no S3 credential anywhere afterwards."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from harness.cli import app
from harness.lab.s3 import S3_IMAGE, S3Credentials
from harness.measurement.verdict import Verdict
from harness.report.history import History
from harness.runner import Drill, DrillResult
from harness.validation import load_scenario

from .conftest import SCENARIOS
from .truth import acked, read_acks, recomputed, run_tapped

ACCESS_KEY = "AKIARDS3UNITTEST7Q2W"
SECRET_KEY = "S3Secret-9c41e7_unit-do-not-leak"


@pytest.fixture(autouse=True)
def s3_image(client) -> None:  # type: ignore[no-untyped-def]
    import docker.errors

    try:
        client.images.get(S3_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"{S3_IMAGE} is missing: run `compose/images/build.sh s3` (make images)")


@pytest.fixture
def distinctive_s3_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lab's S3 server and every command get these credentials."""
    monkeypatch.setattr(
        S3Credentials, "random", classmethod(lambda cls: cls(ACCESS_KEY, SECRET_KEY))
    )


def drill(path: Path, out: Path, engine: str = "mariadb") -> DrillResult:
    return run_tapped(Drill(load_scenario(path), source=path, engine=engine, out_dir=out))


def test_a_command_pipeline_to_s3_is_drilled_and_no_credential_is_written(
    tmp_path: Path, distinctive_s3_credentials: None
) -> None:
    # The team's script, made to print its secret (the harness must mask it in the log tail).
    spec = yaml.safe_load((SCENARIOS / "object-storage" / "command-s3.yaml").read_text())
    job = spec["backups"][0]
    job["backup_command"] = 'echo "using $AWS_SECRET_ACCESS_KEY" >&2\n' + job["backup_command"]
    path = tmp_path / "command-s3.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    out = tmp_path / "runs"
    result = drill(path, out)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    (backup,) = j["backups"]
    assert backup["method"] == "command" and backup["exit_code"] == 0
    assert backup["path"] == "s3://rd-bucket/nightly/cron-dump.backup"
    assert backup["verification"] == "restore_tested" and backup["size_bytes"] > 10_000
    assert backup["duration_s"] > 0 and "uploaded nightly/cron-dump.backup" in backup["log_tail"]
    assert "using ***" in backup["log_tail"]
    assert j["measured"]["restored_from"] == "cron-dump" and j["measured"]["data_verified"]
    restore = next(r for r in j["recovery"] if r["step"] == "restore_backup")
    assert restore["outcome"] == "ok" and restore["duration_s"] > 0
    t = recomputed(result)
    assert t.lost  # the writes after the dump are gone, exactly as the journal says

    history_path = tmp_path / "history.sqlite"
    history = History.open(str(history_path))
    try:
        history.record(result.record)
    finally:
        history.close()
    rendered = CliRunner().invoke(
        app, ["report", "--history", str(history_path), "--out", str(out / "reports")]
    )
    assert rendered.exit_code == 0, rendered.output
    # 3-2-1 at the fault: the database and one dump in a bucket, off the host: too few copies.
    rule = j["three_two_one"]
    assert (rule["copies"], rule["off_host"], rule["met"]) == (2, 1, False), rule
    assert rule["store_kinds"] == ["database disk", "object storage"]
    markdown = (out / "reports" / "report.md").read_text()
    html = (out / "reports" / "report.html").read_text()
    flagged = "3-2-1 NOT MET: 2 copies of the data at the fault (the database included), on 2"
    assert flagged in markdown and flagged in html
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p != path]
    assert len(files) >= 4 and history_path.stat().st_size > 0
    leaks = [
        f"{p.relative_to(tmp_path)}: {s}"
        for p in files
        for s in (ACCESS_KEY, SECRET_KEY)
        if s.encode() in p.read_bytes()
    ]
    assert leaks == []


def test_an_empty_upload_is_caught_and_recovery_falls_back(tmp_path: Path) -> None:
    result = drill(SCENARIOS / "object-storage" / "silent-empty-upload.yaml", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    upload = next(f for f in j["faults"] if f["type"] == "silent_empty_upload")
    assert upload["took_effect"] is True
    assert re.search(
        r"job exit code 0; the dump produced [1-9]\d+ bytes, .* holds 0 bytes", upload["evidence"]
    )
    empty = next(b for b in j["backups"] if b["name"] == "nightly-2")
    assert empty["exit_code"] == 0 and empty["size_bytes"] == 0
    assert empty["verification_failure"].startswith("size plausible: 0 bytes")
    assert [a["backup"] for a in j["alerts"]] == ["nightly-2"]
    steps = [(r["step"], r["outcome"], r["backup"]) for r in j["recovery"]]
    assert steps[:2] == [
        ("verify_backup", "rejected", "nightly-2"),
        ("verify_backup", "ok", "nightly-1"),
    ]
    assert j["measured"]["restored_from"] == "nightly-1" and j["measured"]["data_verified"]
    recomputed(result)


def test_an_upload_whose_key_expired_exits_0_and_is_caught(tmp_path: Path) -> None:
    """The job's IAM key is deleted on the lab's S3 server (authentication enforced); the
    upload is refused, the wrapper exits 0, no object arrives; the drill catches the missing
    backup, falls back to the previous object, and the loss is the writes since it."""
    result = drill(SCENARIOS / "object-storage" / "upload-credentials-expired.yaml", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    expired = next(f for f in j["faults"] if f["type"] == "upload_credentials_expired")
    assert expired["took_effect"] is True and expired["target"] == "backup:nightly-2"
    evidence = expired["evidence"]
    assert re.search(
        r"the job exited 0 after S3 refused its key \(An error occurred \(InvalidAccessKeyId\) "
        r"when calling the PutObject operation",
        evidence,
    ), evidence
    before_after = r"1 object \(newest nightly/nightly-1\.dump\.gz at [0-9:]{8}\)"
    assert re.search(
        f"{before_after} before the job, {before_after} after: no new object arrived", evidence
    ), evidence
    assert "would your monitoring have noticed?" in evidence
    by_name = {b["name"]: b for b in j["backups"]}
    missing = by_name["nightly-2"]
    assert missing["exit_code"] == 0 and missing["size_bytes"] == 0
    assert "InvalidAccessKeyId" in missing["log_tail"]
    assert "backup-wrapper: upload exited 1, ignored" in missing["log_tail"]
    assert missing["verification"] == "none"
    assert missing["verification_failure"] == (
        "exists: s3://rd-bucket/nightly/nightly-2.dump.gz is missing from store bucket "
        "(the job exited 0: no object ever arrived)"
    )
    assert by_name["nightly-1"]["verification"] == "restore_tested"
    assert [a["backup"] for a in j["alerts"]] == ["nightly-2"]
    steps = [(r["step"], r["outcome"], r["backup"]) for r in j["recovery"]]
    assert steps[:2] == [
        ("verify_backup", "rejected", "nightly-2"),
        ("verify_backup", "ok", "nightly-1"),
    ]
    assert j["measured"]["restored_from"] == "nightly-1" and j["measured"]["data_verified"]
    # The cost, exactly: every write acknowledged before nightly-1 started survived, and the
    # lost ones are all the acknowledged writes from there to the fault (no hole), including
    # every one since nightly-2 started: the backup the schedule claims would have held them.
    loss = recomputed(result)
    log = read_acks(result.journal_path.parent)
    lost = sorted(loss.lost)
    assert lost and not loss.holes
    first_after = by_name["nightly-1"]["last_acked_seq_at_start"]
    assert lost[0] > first_after
    assert set(lost) == {s for s in acked(log) if lost[0] <= s <= lost[-1]}
    assert lost[-1] > by_name["nightly-2"]["last_acked_seq_at_start"]
    assert j["measured"]["lost_writes"] == len(lost)


def test_the_object_lock_copy_survives_ransomware_the_unlocked_one_does_not(
    tmp_path: Path,
) -> None:
    result = drill(SCENARIOS / "incidents" / "ransomware-object-lock.yaml", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    evidence = j["faults"][0]["evidence"]
    locked = re.search(
        r"S3 store locked: 1 of 1 objects overwritten, 0 versions deleted, (\d+) writes refused",
        evidence,
    )
    unlocked = re.search(
        r"S3 store unlocked: 1 of 1 objects overwritten, (\d+) versions deleted", evidence
    )
    assert locked and int(locked[1]) >= 1, evidence
    assert unlocked and int(unlocked[1]) >= 1, evidence
    by_name = {b["name"]: b for b in j["backups"]}
    assert "?versionId=" in by_name["locked-weekly"]["path"]
    assert by_name["locked-weekly"]["verification"] == "restore_tested"
    assert "missing from store unlocked" in by_name["unlocked-nightly"]["verification_failure"]
    assert j["measured"]["restored_from"] == "locked-weekly" and j["measured"]["data_verified"]
    rule = j["three_two_one"]
    assert (rule["copies"], rule["off_host"], rule["immutable"]) == (3, 2, 1), rule
    assert rule["db_writable"] == ["unlocked-nightly"] and rule["met"] is False
    recomputed(result)


def test_retention_deletes_what_is_older_and_object_lock_refuses_it(session_lab) -> None:  # type: ignore[no-untyped-def]
    """retention_deleted against the real S3 server: old objects go, new ones stay; on an
    Object Lock bucket every delete is refused and counted."""
    import time
    from types import SimpleNamespace

    from harness.backups.s3store import S3Store
    from harness.faults.retention_deleted import RetentionDeleted
    from harness.lab.s3 import S3Server
    from harness.scenario.model import RetentionDeleted as Spec
    from harness.scenario.model import Store

    server = S3Server.start(session_lab)
    stores = {}
    for name, locked in (("plain", False), ("locked", True)):
        server.create_bucket(f"rd-{name}", object_lock=locked)
        spec = Store(name=name, kind="s3", immutable=locked)
        stores[name] = S3Store(
            spec,
            f"rd-{name}",
            server.endpoint,
            server.host_endpoint,
            server.credentials,
            versioned=locked,
        )
    for store in stores.values():
        store.client().put_object(
            Bucket=store.bucket, Key="old", Body=b"o", ChecksumAlgorithm="SHA256"
        )
    time.sleep(2.2)
    for store in stores.values():
        store.client().put_object(
            Bucket=store.bucket, Key="new", Body=b"n", ChecksumAlgorithm="SHA256"
        )
    ctx = SimpleNamespace(agent=SimpleNamespace(s3=stores))
    plain = RetentionDeleted(
        Spec(fault="retention_deleted", at_s=0, store="plain", older_than_s=1.5)
    )
    plain.inject(ctx)  # type: ignore[arg-type]
    effect = plain.took_effect(ctx)  # type: ignore[arg-type]
    assert effect.took_effect, effect.evidence
    assert plain.deleted in (["old@null"], ["old@-"]), plain.deleted
    assert plain.kept == 1 and plain.refused == []
    left = stores["plain"].client().list_objects_v2(Bucket="rd-plain").get("Contents", [])
    assert [o["Key"] for o in left] == ["new"]
    locked = RetentionDeleted(
        Spec(fault="retention_deleted", at_s=0, store="locked", older_than_s=1.5)
    )
    locked.inject(ctx)  # type: ignore[arg-type]
    assert not locked.took_effect(ctx).took_effect  # type: ignore[arg-type]
    assert len(locked.refused) == 1 and locked.deleted == [] and locked.kept == 1
    assert "1 refused by Object Lock" in locked.took_effect(ctx).evidence  # type: ignore[arg-type]
