"""silent_empty_upload: the upload step ships a zero-byte or truncated object and the job exits 0
(GitLab, 2017: the third backup method was "only uploading empty files" to S3).

The mechanism is real: the dump is complete in the agent's scratch space, the uploader reads it
and puts only its first ``truncate_to_bytes`` bytes (0: an empty object) through the S3 API, and
the wrapper exits 0. The store's own metadata (size, x-amz-checksum-sha256) shows it.
"""

from __future__ import annotations

from harness.backups.catalog import BackupRecord
from harness.faults.base import Effect
from harness.scenario import model


class SilentEmptyUpload:
    """Breaks one upload job."""

    type = "silent_empty_upload"

    def __init__(self, spec: model.SilentEmptyUpload) -> None:
        self.spec = spec

    @property
    def truncate_to(self) -> int:
        return self.spec.truncate_to_bytes

    def took_effect(self, record: BackupRecord) -> Effect:
        """Took effect when the job exited 0, the dump was whole, and the object is shorter."""
        produced = record.produced_bytes
        short = produced is not None and record.size_bytes < produced
        evidence = (
            f"job exit code {record.exit_code}; the dump produced {produced} bytes, the object "
            f"{record.path} holds {record.size_bytes} bytes"
        )
        return Effect.of(took_effect=record.exit_code == 0 and short, evidence=evidence)

    def revert(self) -> None:
        """The broken upload applies to its backups only; nothing to undo afterwards."""
