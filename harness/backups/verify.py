"""Backup verification up to the checksum level (restore-testing happens in recovery)."""

from __future__ import annotations

from harness.backups.agent import BackupAgent
from harness.backups.catalog import BackupRecord, Verification
from harness.backups.pgbackrest import verify_pgbackrest
from harness.backups.physical import directory_facts, verify_files
from harness.engines.base import Engine


def verify_stored(
    agent: BackupAgent, engine: Engine, record: BackupRecord, *, just_taken: bool = False
) -> BackupRecord:
    """Re-check a backup in its store: exists, size plausible, checksum matches.

    For a logical backup the checksum is the file's sha256 against the catalog; for a physical
    one it is the manifest's sha256 against the catalog plus the engine's verifier checking
    every file against the manifest. Updates and returns the record; ``verification_failure``
    says which check failed and why. pgBackRest sets go one level further (backups/pgbackrest).

    ``just_taken``: the record's size and sha256 were read from the store when the backup was
    catalogued, moments ago; they are reused instead of reading the file again (each backup is
    hashed once when taken; only a restore re-reads it, to catch what happened to it since).
    """
    if record.method == "pgbackrest":
        return verify_pgbackrest(agent, engine, record)
    if just_taken:
        exists, size, sha256 = bool(record.sha256), record.size_bytes, record.sha256
    elif record.method == "physical":
        size, sha256 = directory_facts(agent, record.path)
        exists = bool(sha256)
    else:
        facts = agent.facts(record.path)
        exists, size, sha256 = facts.exists, facts.size_bytes, facts.sha256
    # Never found in its store before: the job's success was a claim, not an upload.
    never_seen = record.verification is Verification.NONE and not record.checks
    record.checks.clear()
    record.verification = Verification.NONE
    record.verification_failure = ""
    if record.exit_code != 0:
        record.verification_failure = (
            f"job exited with {record.exit_code}: {record.log_tail[-200:]}"
        )
        return record
    if not exists:
        record.verification_failure = (
            f"exists: {record.path} is missing from store {record.store}"
            + (" (the job exited 0: no object ever arrived)" if never_seen else "")
        )
        return record
    record.verification = Verification.EXISTS
    record.checks.append("exists")

    floor = int(record.source_bytes * record.min_size_ratio)
    if size < floor:
        record.verification_failure = (
            f"size plausible: {size} bytes is below {record.min_size_ratio:g} x the "
            f"{record.source_bytes} bytes of source data ({floor} bytes)"
        )
        return record
    record.verification = Verification.SIZE_PLAUSIBLE
    record.checks.append("size_plausible")

    if sha256 != record.sha256:
        record.verification_failure = (
            f"checksum matches: sha256 is {sha256[:16]}..., catalog says {record.sha256[:16]}..."
        )
        return record
    if record.method == "physical":
        complaint = verify_files(agent, engine, record.path)
        if complaint:
            record.verification_failure = f"checksum matches: {complaint}"
            return record
    record.verification = Verification.CHECKSUM_MATCHES
    record.checks.append("checksum_matches")
    return record
