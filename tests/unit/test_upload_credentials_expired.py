"""upload_credentials_expired and --s3-image without Docker: what a scenario may say (and the
line of what it may not), the wrapper that swallows a failed upload, the fault's evidence from
the bucket before and after, MinIO chosen by image kind, and --s3-image reaching the drill."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.backups.upload import upload_script
from harness.cli import app
from harness.engines.base import DumpJob
from harness.errors import ScenarioError
from harness.faults.upload_credentials_expired import UploadCredentialsExpired
from harness.lab.s3 import image_kind
from harness.scenario import model
from harness.validation import load_scenario

SCENARIO = (
    Path(__file__).resolve().parents[2] / "scenarios/object-storage/upload-credentials-expired.yaml"
)
REFUSED = (
    "Traceback (most recent call last):\n  ...\nbotocore.exceptions.ClientError: An error "
    "occurred (InvalidAccessKeyId) when calling the PutObject operation: The AWS Access Key "
    "Id you provided does not exist in our records.\nbackup-wrapper: upload exited 1, ignored"
)


def problems(tmp_path: Path, old: str, new: str) -> list[str]:
    text = SCENARIO.read_text()
    assert old in text
    path = tmp_path / SCENARIO.name
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return [str(p) for p in caught.value.problems]


def test_the_scenario_validates_with_the_fault_on_its_backup() -> None:
    s = load_scenario(SCENARIO)
    fault = s.backup_fault("nightly-2")
    assert isinstance(fault, model.UploadCredentialsExpired) and fault.targets == ["nightly-2"]
    assert [f.fault for f in s.server_faults] == ["rm_rf_datadir"]


def test_a_volume_store_an_external_endpoint_and_no_backup_are_refused_at_their_line(
    tmp_path: Path,
) -> None:
    text = SCENARIO.read_text()
    line = text[: text.index("    backup: nightly-2")].count("\n") + 1
    found = problems(tmp_path, "    kind: s3\n", "    kind: volume\n")
    assert any(
        f":{line}: timeline[0].backup: upload_credentials_expired needs a logical backup on "
        "an s3 store" in p
        for p in found
    ), found
    found = problems(
        tmp_path,
        "    prefix: nightly\n",
        "    prefix: nightly\n    endpoint_url: https://s3.example.com\n",
    )
    assert any(
        f":{line + 1}: timeline[0].backup: upload_credentials_expired needs store 'bucket' on the "
        "lab's own S3 server" in p
        for p in found
    ), found
    found = problems(tmp_path, "    backup: nightly-2\n", "    backup: nightly-9\n")
    assert any(f":{line}: timeline[0].backup: unknown backup 'nightly-9'" in p for p in found)
    found = problems(tmp_path, "    backup: nightly-2\n", "    reason: expired\n")
    assert any(f":{line}: timeline[0].reason: unknown key 'reason'" in p for p in found), found


def test_the_wrapper_swallows_a_failed_upload_only_when_asked() -> None:
    job = DumpJob(
        source_host="primary", path="/tmp/rd-staging/n.dump.gz", password="p", database="d"
    )
    strict = upload_script(job, "nightly/n.dump.gz")
    swallowing = upload_script(job, "nightly/n.dump.gz", swallow_errors=True)
    assert "rd-s3 put nightly/n.dump.gz < /tmp/rd-staging/n.dump.gz || exit $?" in strict
    assert (
        'rd-s3 put nightly/n.dump.gz < /tmp/rd-staging/n.dump.gz || echo "backup-wrapper: '
        'upload exited $?, ignored" >&2; rm -f' in swallowing
    )


class FakeStore:
    """The part of S3Store the fault uses: a listing, and the job's key."""

    name, bucket = "bucket", "rd-bucket"
    spec = SimpleNamespace(prefix="nightly")

    def __init__(self, listings: list[list[tuple[str, float]]]) -> None:
        self.listings = listings
        self.expired = 0
        self.renewed = 0

    def objects(self) -> list[tuple[str, float]]:
        return self.listings.pop(0)

    def expire_job_key(self) -> bool:
        self.expired += 1
        return True

    def renew_job_key(self) -> None:
        self.renewed += 1


def record(exit_code: int, log_tail: str) -> Any:
    return SimpleNamespace(name="nightly-2", exit_code=exit_code, log_tail=log_tail)


T1 = dt.datetime(2026, 12, 8, 1, 2, 3, tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize(
    ("exit_code", "tail", "after", "took"),
    [
        (0, REFUSED, [("nightly/n1", T1)], True),
        (1, REFUSED, [("nightly/n1", T1)], False),  # the job said it failed: no silent failure
        (0, "uploaded", [("nightly/n1", T1)], False),  # no refusal seen
        (0, REFUSED, [("nightly/n1", T1), ("nightly/n2", T1 + 2)], False),  # an object arrived
    ],
)
def test_the_fault_took_effect_only_on_exit_0_a_refusal_and_no_new_object(
    exit_code: int, tail: str, after: list[tuple[str, float]], took: bool
) -> None:
    spec = model.UploadCredentialsExpired(fault="upload_credentials_expired", backup="nightly-2")
    store = FakeStore([[("nightly/n1", T1)], after])
    fault = UploadCredentialsExpired(spec)
    fault.inject(store)  # type: ignore[arg-type]
    effect = fault.took_effect(record(exit_code, tail), store)  # type: ignore[arg-type]
    assert effect.took_effect is took, effect.evidence
    assert store.expired == 1
    assert "1 object (newest nightly/n1 at 01:02:03) before the job" in effect.evidence
    assert effect.evidence.endswith("would your monitoring have noticed?")
    if took:
        assert "S3 refused its key (An error occurred (InvalidAccessKeyId) when calling" in (
            effect.evidence
        )
        assert ": no new object arrived" in effect.evidence
    fault.revert(store, "nightly-2")  # type: ignore[arg-type]
    assert store.renewed == 1


def test_minio_is_chosen_by_image_kind() -> None:
    assert image_kind("recovery-drill/s3:moto") == "moto"
    assert image_kind("minio/minio") == "minio"
    assert image_kind("quay.io/minio/minio:RELEASE.2025-01-01T00-00-00Z") == "minio"
    assert image_kind("registry.local/minio-fork@sha256:abc") == "minio"
    assert image_kind("motoserver/moto:5") == "moto"


def test_s3_image_reaches_the_drill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, object]] = []

    class Stop(Exception):
        pass

    class FakeDrill:
        def __init__(self, scenario: object, **kwargs: object) -> None:
            seen.append(kwargs)
            raise Stop

    monkeypatch.setattr("harness.runner.Drill", FakeDrill)
    result = CliRunner().invoke(
        app,
        [
            "run", str(SCENARIO), "-e", "mariadb", "--s3-image", "minio/minio:latest",
            "--out", str(tmp_path), "--history", str(tmp_path / "h.sqlite"), "-q",
        ],
    )  # fmt: skip
    assert isinstance(result.exception, Stop), result.output
    assert seen and seen[0]["s3_image"] == "minio/minio:latest"


def test_s3_image_reaches_the_s3_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drill job -> Drill, and topology -> open_stores -> S3Server.start, carry the image."""
    from harness.backups import s3store
    from harness.runner.parallel import DrillJob, run_job
    from harness.server import topology

    captured: dict[str, object] = {}

    class Stop(Exception):
        pass

    class FakeDrill:
        def __init__(self, scenario: object, **kwargs: object) -> None:
            captured["drill"] = kwargs["s3_image"]

        def run(self) -> None:
            raise Stop

    monkeypatch.setattr("harness.runner.parallel.Drill", FakeDrill)
    job = DrillJob(
        0, load_scenario(SCENARIO), SCENARIO, "mariadb", Path("x"), s3_image="minio/minio"
    )
    with pytest.raises(Stop):
        run_job(job)

    def start(lab: object, *, image: str, enforce_auth: bool) -> Any:
        captured["start"] = (image, enforce_auth)
        raise Stop

    monkeypatch.setattr(s3store.S3Server, "start", staticmethod(start))
    with pytest.raises(Stop):
        topology.build(
            object(),  # type: ignore[arg-type]
            object(),  # type: ignore[arg-type]
            load_scenario(SCENARIO),
            image="recovery-drill/mariadb:10.11-bookworm",
            s3_image="minio/minio",
        )
    assert captured == {"drill": "minio/minio", "start": ("minio/minio", True)}
