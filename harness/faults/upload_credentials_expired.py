"""upload_credentials_expired: the upload job's credentials expire, the upload fails, a wrapper
swallows the error and the job exits 0: no new object arrives. The alerting question: the job
said success; would your monitoring have noticed that the bucket got nothing?

The mechanism is real: the lab's S3 server checks every request against its IAM (the store was
opened with authentication enforced), the upload job has an IAM user and access key of its own,
and the fault deletes that key through IAM (DeleteAccessKey) before the job runs. The job still
presents it; the S3 API answers InvalidAccessKeyId; the cron-style wrapper logs that and exits
0. The harness's own key is untouched, so verification, the ransomware fault and the recovery's
download keep working. Evidence: the job's exit code and captured error, and the objects the
bucket held before and after the job. After the last backup it breaks, the key is rotated.
"""

from __future__ import annotations

import datetime as dt

from harness.backups.catalog import BackupRecord
from harness.backups.s3store import S3Store
from harness.errors import InfrastructureError
from harness.faults.base import Effect
from harness.scenario import model

# What S3 answers a request signed with a deleted, unknown or expired key.
REFUSALS = ("InvalidAccessKeyId", "ExpiredToken", "InvalidClientTokenId", "AccessDenied")
QUESTION = (
    "the alerting question: the job said success (exit 0) and no object arrived; "
    "would your monitoring have noticed?"
)


class UploadCredentialsExpired:
    """Expires the upload job's key before one of its backups."""

    type = "upload_credentials_expired"

    def __init__(self, spec: model.UploadCredentialsExpired) -> None:
        self.spec = spec
        self.before: list[tuple[str, float]] = []

    def inject(self, store: S3Store) -> None:
        """Note what the bucket holds, then delete the job's access key (once per store)."""
        self.before = store.objects()
        if not store.expire_job_key():
            raise InfrastructureError(
                f"store {store.name} has no upload key of its own to expire (its S3 server "
                "was started without authentication)"
            )

    def took_effect(self, record: BackupRecord, store: S3Store) -> Effect:
        """Took effect when the job exited 0, S3 refused its key, and no object arrived."""
        after = store.objects()
        known = {key for key, _ in self.before}
        arrived = [key for key, _ in after if key not in known]
        refusal = _refusal(record.log_tail)
        evidence = (
            f"the upload key of store {store.name} was deleted through IAM before "
            f"{record.name}; the job exited {record.exit_code}"
            + (f" after S3 refused its key ({refusal})" if refusal else " (no refusal seen)")
            + f"; objects under s3://{store.bucket}/{store.spec.prefix}: "
            f"{_listing(self.before)} before the job, {_listing(after)} after"
            + (f" (new: {', '.join(arrived)})" if arrived else ": no new object arrived")
            + f". {QUESTION[0].upper()}{QUESTION[1:]}"
        )
        took = record.exit_code == 0 and bool(refusal) and not arrived
        return Effect.of(took_effect=took, evidence=evidence)

    def revert(self, store: S3Store, backup: str) -> None:
        """After the last backup this fault breaks, the team rotates the key."""
        if backup == self.spec.targets[-1]:
            store.renew_job_key()


def _refusal(log_tail: str) -> str:
    """The line of the job's output where S3 refused the key ('' if none)."""
    for line in reversed(log_tail.splitlines()):
        if any(code in line for code in REFUSALS):
            text = line.strip()
            start = text.find("An error occurred")
            return (text[start:] if start >= 0 else text)[:200]
    return ""


def _listing(objects: list[tuple[str, float]]) -> str:
    if not objects:
        return "0 objects"
    key, modified = objects[-1]
    at = dt.datetime.fromtimestamp(modified, dt.UTC).strftime("%H:%M:%S")
    return f"{len(objects)} object{'s' if len(objects) != 1 else ''} (newest {key} at {at})"
