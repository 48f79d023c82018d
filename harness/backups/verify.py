"""Backup verification up to the checksum level (restore-testing happens in recovery)."""

from __future__ import annotations

from harness.backups.agent import BackupAgent
from harness.backups.catalog import BackupRecord, Verification


def verify_stored(agent: BackupAgent, record: BackupRecord) -> BackupRecord:
    """Re-check a backup in its store: exists, size plausible, checksum matches.

    Updates and returns the record; ``verification_failure`` says which check failed and why.
    """
    facts = agent.facts(record.path)
    record.checks.clear()
    record.verification = Verification.NONE
    record.verification_failure = ""
    if record.exit_code != 0:
        record.verification_failure = (
            f"job exited with {record.exit_code}: {record.log_tail[-200:]}"
        )
        return record
    if not facts.exists:
        record.verification_failure = f"exists: {record.path} is missing from store {record.store}"
        return record
    record.verification = Verification.EXISTS
    record.checks.append("exists")

    floor = int(record.source_bytes * record.min_size_ratio)
    if facts.size_bytes < floor:
        record.verification_failure = (
            f"size plausible: {facts.size_bytes} bytes is below {record.min_size_ratio:g} x the "
            f"{record.source_bytes} bytes of source data ({floor} bytes)"
        )
        return record
    record.verification = Verification.SIZE_PLAUSIBLE
    record.checks.append("size_plausible")

    if facts.sha256 != record.sha256:
        record.verification_failure = (
            f"checksum matches: sha256 is {facts.sha256[:16]}..., "
            f"catalog says {record.sha256[:16]}..."
        )
        return record
    record.verification = Verification.CHECKSUM_MATCHES
    record.checks.append("checksum_matches")
    return record
