"""verify_stored: a stored backup checked level by level (exists, size plausible, checksum)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import replace
from typing import cast

import pytest

from harness.backups.agent import BackupAgent, FileFacts
from harness.backups.catalog import BackupRecord, Verification
from harness.backups.verify import verify_stored

GOOD_SHA = "a" * 64
OTHER_SHA = "b" * 64
SOURCE_BYTES = 100_000
MIN_SIZE_RATIO = 0.01  # so the smallest plausible backup is 1000 bytes


class FakeAgent:
    """Stands in for the backup agent: answers facts() from a dict, and records the questions."""

    def __init__(self, files: dict[str, FileFacts]) -> None:
        self.files = files
        self.asked: list[str] = []

    def facts(self, path: str) -> FileFacts:
        self.asked.append(path)
        return self.files.get(path, FileFacts(exists=False, size_bytes=0, sha256=""))


def make_record(**changes: object) -> BackupRecord:
    record = BackupRecord(
        name="nightly",
        method="logical",
        store="offsite",
        path="/stores/offsite/nightly.sql.gz",
        started_wall=1_700_000_000.0,
        ended_wall=1_700_000_002.0,
        started_mono=100.0,
        ended_mono=102.0,
        exit_code=0,
        size_bytes=50_000,
        sha256=GOOD_SHA,
        source_bytes=SOURCE_BYTES,
        min_size_ratio=MIN_SIZE_RATIO,
        last_acked_seq=10,
    )
    return replace(record, **changes)  # type: ignore[arg-type]


class UntouchableEngine:
    """A logical backup is verified without the engine: any use of it fails the test."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"verifying a logical backup used engine.{name}")


def verify(record: BackupRecord, facts: FileFacts | None) -> tuple[BackupRecord, FakeAgent]:
    agent = FakeAgent({record.path: facts} if facts is not None else {})
    # verify_stored is gaining an engine argument (for physical backups) while these tests
    # are written; accept both signatures until that change lands.
    verify_any: Callable[..., BackupRecord] = verify_stored
    if "engine" in inspect.signature(verify_stored).parameters:
        result = verify_any(cast(BackupAgent, agent), UntouchableEngine(), record)
    else:
        result = verify_any(cast(BackupAgent, agent), record)
    return result, agent


def test_a_good_backup_reaches_checksum_matches() -> None:
    record, agent = verify(make_record(), FileFacts(True, 50_000, GOOD_SHA))
    assert record.verification is Verification.CHECKSUM_MATCHES
    assert record.verification_failure == ""
    assert record.checks == ["exists", "size_plausible", "checksum_matches"]
    assert agent.asked == ["/stores/offsite/nightly.sql.gz"]


def test_a_missing_file_stays_at_none() -> None:
    record, _ = verify(make_record(), None)
    assert record.verification is Verification.NONE
    assert record.checks == []
    assert record.verification_failure.startswith("exists: ")
    assert "/stores/offsite/nightly.sql.gz" in record.verification_failure
    assert "offsite" in record.verification_failure


@pytest.mark.parametrize("size", [0, 20, 999])
def test_an_implausibly_small_file_stops_at_exists(size: int) -> None:
    record, _ = verify(make_record(), FileFacts(True, size, GOOD_SHA))
    assert record.verification is Verification.EXISTS
    assert record.checks == ["exists"]
    failure = record.verification_failure
    assert failure.startswith("size plausible: ")
    assert f"{size} bytes" in failure
    assert "1000 bytes" in failure  # the floor: 0.01 x 100000


def test_a_file_exactly_at_the_floor_is_plausible() -> None:
    record, _ = verify(make_record(), FileFacts(True, 1000, GOOD_SHA))
    assert record.verification is Verification.CHECKSUM_MATCHES


@pytest.mark.parametrize(
    "stored_sha", [OTHER_SHA, GOOD_SHA[:-1] + "b"], ids=["all-differ", "last-digit-differs"]
)
def test_a_checksum_mismatch_stops_at_size_plausible(stored_sha: str) -> None:
    record, _ = verify(make_record(), FileFacts(True, 50_000, stored_sha))
    assert record.verification is Verification.SIZE_PLAUSIBLE
    assert record.checks == ["exists", "size_plausible"]
    failure = record.verification_failure
    assert failure.startswith("checksum matches: ")
    assert stored_sha[:16] in failure
    assert GOOD_SHA[:16] in failure


def test_a_job_that_exited_non_zero_is_rejected_even_if_the_file_looks_good() -> None:
    tail = "x" * 300 + "pg_dump: error: password authentication failed"
    record, _ = verify(make_record(exit_code=2, log_tail=tail), FileFacts(True, 50_000, GOOD_SHA))
    assert record.verification is Verification.NONE
    assert record.checks == []
    failure = record.verification_failure
    assert failure.startswith("job exited with 2: ")
    assert failure.endswith("pg_dump: error: password authentication failed")
    assert len(failure) <= len("job exited with 2: ") + 200


def test_re_verification_starts_from_scratch() -> None:
    record, _ = verify(make_record(), FileFacts(True, 50_000, GOOD_SHA))
    assert record.verification is Verification.CHECKSUM_MATCHES
    # The store lost the file's content since: the earlier checks must not linger.
    record, _ = verify(record, FileFacts(True, 20, GOOD_SHA))
    assert record.verification is Verification.EXISTS
    assert record.checks == ["exists"]
    record, _ = verify(record, FileFacts(True, 50_000, GOOD_SHA))
    assert record.verification is Verification.CHECKSUM_MATCHES
    assert record.verification_failure == ""
    assert record.checks == ["exists", "size_plausible", "checksum_matches"]


def test_a_backup_just_taken_is_not_read_again_and_a_restore_reads_it() -> None:
    # Hashed once when taken: the verification right after reuses the catalogued sha256 and
    # size; the re-check before a restore reads the store (and sees what changed since).
    agent = FakeAgent({"/stores/offsite/nightly.sql.gz": FileFacts(True, 50_000, OTHER_SHA)})
    engine = UntouchableEngine()
    record = verify_stored(cast(BackupAgent, agent), engine, make_record(), just_taken=True)  # type: ignore[arg-type]
    assert record.verification is Verification.CHECKSUM_MATCHES
    assert agent.asked == []
    record = verify_stored(cast(BackupAgent, agent), engine, record)  # type: ignore[arg-type]
    assert agent.asked == ["/stores/offsite/nightly.sql.gz"]
    assert record.verification is Verification.SIZE_PLAUSIBLE
    assert record.verification_failure.startswith("checksum matches: ")
