"""The backup catalog: every backup taken in a run, and the verification level it reached."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from harness.clock import iso_utc
from harness.record import BackupEntry


class Verification(IntEnum):
    """Verification levels, each implying the ones before it."""

    NONE = 0
    EXISTS = 1
    SIZE_PLAUSIBLE = 2
    CHECKSUM_MATCHES = 3
    # The backup tool's own check of its repository (pgbackrest verify): checksums of every
    # file against the tool's manifest, and the WAL it needs. Still not a restore.
    TOOL_VERIFIED = 4
    RESTORE_TESTED = 5

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass
class BackupRecord:
    """One backup in the catalog; ``verification`` rises as checks pass."""

    name: str
    method: str
    store: str
    path: str
    started_wall: float
    ended_wall: float
    started_mono: float
    ended_mono: float
    exit_code: int
    size_bytes: int
    sha256: str
    source_bytes: int
    min_size_ratio: float
    last_acked_seq: int
    verification: Verification = Verification.NONE
    verification_failure: str = ""
    faulted: bool = False
    log_tail: str = ""
    checks: list[str] = field(default_factory=list)
    # Jobs the logical backup was taken with (its restore uses as many; 1: single stream).
    parallel: int = 1
    # What the job itself produced before shipping it (an upload may ship less: issue 13).
    produced_bytes: int | None = None

    def entry(self) -> BackupEntry:
        """This backup as the drill record holds it."""
        return BackupEntry(
            name=self.name,
            method=self.method,
            store=self.store,
            path=self.path,
            size_bytes=self.size_bytes,
            sha256=self.sha256,
            source_bytes=self.source_bytes,
            started_at=iso_utc(self.started_wall),
            ended_at=iso_utc(self.ended_wall),
            duration_s=round(self.ended_mono - self.started_mono, 4),
            exit_code=self.exit_code,
            last_acked_seq_at_start=self.last_acked_seq,
            verification=self.verification.label,
            verification_failure=self.verification_failure,
            checks=tuple(self.checks),
            log_tail=self.log_tail,
            parallel=self.parallel,
        )


class Catalog:
    """Backups of one run, in the order they were taken."""

    def __init__(self) -> None:
        self.records: list[BackupRecord] = []

    def add(self, record: BackupRecord) -> None:
        self.records.append(record)

    def get(self, name: str) -> BackupRecord:
        return next(r for r in self.records if r.name == name)

    def newest_first(self) -> list[BackupRecord]:
        return sorted(self.records, key=lambda r: r.ended_mono, reverse=True)
