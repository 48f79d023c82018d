"""pgBackRest backups: full, differential and incremental sets in pgBackRest's repository.

The backup runs as the postgres user in the primary's container (pgBackRest reads the data
directory locally; see harness/engines/postgres/pgbackrest.py for why), into the repository
on the WAL-archive store. The catalog entry's path is the set's folder in the repository as
the backup agent sees it (``/stores/STORE/pgbackrest/backup/drill/LABEL``), or, for a
repository on an S3 store, its URL (``s3://BUCKET/PREFIX/pgbackrest/backup/drill/LABEL``); the
label is its last part. Verification climbs the usual levels from the repository's facts (the set is
listed by ``pgbackrest info``; the size it restores to is plausible; its backup.manifest has
the sha256 the catalog holds), then one level of its own: ``pgbackrest verify`` found every
file of the repository intact (tool_verified). Restore-testing happens in recovery.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
import time
from dataclasses import dataclass
from typing import Any

from harness.backups.agent import STORES_ROOT, BackupAgent
from harness.backups.catalog import BackupRecord, Verification
from harness.backups.pgbackrest_s3 import set_url
from harness.engines.base import Engine
from harness.engines.collaborators import pgbackrest_of
from harness.errors import InfrastructureError
from harness.lab.lab import Lab
from harness.scenario.model import Backup

# A backup of a drill's dataset, and verify of the whole repository, end well within these.
BACKUP_TIMEOUT_S = 900.0
VERIFY_TIMEOUT_S = 600.0
INFO_TIMEOUT_S = 60.0
MANIFEST = "backup.manifest"
# A non-zero count in verify's per-archive / per-backup result lines.
VERIFY_PROBLEM = re.compile(r"\b(missing|checksum invalid|size invalid|other): [1-9]")
VERIFY_BACKUP = re.compile(r"\bbackup: (\S+?),")
VERIFY_ARCHIVE = re.compile(r"\barchiveId: (\S+?),")


@dataclass(frozen=True)
class SetInfo:
    """One backup set as ``pgbackrest info`` describes it."""

    label: str
    type: str
    size_bytes: int  # what the set restores to
    repo_delta_bytes: int  # what this set added to the repository
    start_lsn: str
    stop_lsn: str
    wal_start: str
    started_epoch: float = 0.0
    stopped_epoch: float = 0.0


def label_of(record: BackupRecord) -> str:
    """The pgBackRest set label of a catalogued backup (the last part of its path)."""
    return posixpath.basename(record.path)


def repo_mount(store: str) -> str:
    """Where the agent sees a store that holds a repository."""
    return f"{STORES_ROOT}/{store}"


def as_postgres(script: str) -> str:
    """``script`` run as the postgres user (the repository's files belong to it)."""
    return f"su postgres -s /bin/bash -c {shlex.quote(script)}"


def sets(agent: BackupAgent, engine: Engine, store: str) -> list[SetInfo]:
    """The backup sets in the repository on ``store``, oldest first (empty: no stanza yet)."""
    tool = pgbackrest_of(engine)
    result = agent.run(
        as_postgres(tool.info_command(repo_mount=repo_mount(store))),
        timeout_s=INFO_TIMEOUT_S,
        env=tool.env(),
    )
    if not result.ok:
        raise InfrastructureError(f"pgbackrest info failed: {result.tail(300)}")
    return parse_info(result.stdout)


def parse_info(text: str) -> list[SetInfo]:
    """Backup sets of ``pgbackrest info --output=json`` (first stanza), oldest first."""
    try:
        stanzas: list[dict[str, Any]] = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise InfrastructureError(f"pgbackrest info printed no JSON: {text[:200]!r}") from exc
    out: list[SetInfo] = []
    for stanza in stanzas[:1]:
        for b in stanza.get("backup", []):
            info = b.get("info", {})
            lsn = b.get("lsn", {})
            archive = b.get("archive", {})
            out.append(
                SetInfo(
                    label=b["label"],
                    type=b.get("type", ""),
                    size_bytes=int(info.get("size", 0)),
                    repo_delta_bytes=int(info.get("repository", {}).get("delta", 0)),
                    start_lsn=str(lsn.get("start", "")),
                    stop_lsn=str(lsn.get("stop", "")),
                    wal_start=str(archive.get("start", "")),
                    started_epoch=float(b.get("timestamp", {}).get("start", 0) or 0),
                    stopped_epoch=float(b.get("timestamp", {}).get("stop", 0) or 0),
                )
            )
    return out


def take_pgbackrest_backup(
    agent: BackupAgent,
    lab: Lab,
    engine: Engine,
    backup: Backup,
    *,
    source_container: str,
    source_bytes: int,
    last_acked_seq: int,
    timeout_s: float = BACKUP_TIMEOUT_S,
) -> BackupRecord:
    """Run ``pgbackrest backup --type=TYPE`` in the primary and catalogue the new set."""
    tool = pgbackrest_of(engine)
    before = {s.label for s in sets(agent, engine, backup.store)}
    started_wall, started = time.time(), time.monotonic()
    result = lab.exec(
        source_container,
        tool.as_postgres(tool.backup_command(backup.type)),
        timeout_s=timeout_s,
        action="run pgbackrest backup in",
    )
    ended_wall, ended = time.time(), time.monotonic()
    new = [s for s in sets(agent, engine, backup.store) if s.label not in before]
    label = new[-1].label if new else ""
    folder = f"{repo_mount(backup.store)}/{tool.subdir}/backup/drill"
    path = f"{folder}/{label}" if label else f"{folder}/(no set: {backup.name})"
    if tool.s3 is not None and backup.store in agent.s3:
        path = set_url(agent.s3[backup.store], tool.s3, label or f"(no set: {backup.name})")
    sha256 = manifest_sha256(agent, path) if label else ""
    tail = result.tail()
    if new:
        s = new[-1]
        tail = (
            f"{tail}\npgbackrest set {s.label} ({s.type}): restores to {s.size_bytes} bytes, "
            f"added {s.repo_delta_bytes} bytes to the repository, WAL from {s.wal_start}"
        ).strip()
    return BackupRecord(
        name=backup.name,
        method="pgbackrest",
        store=backup.store,
        path=path,
        started_wall=started_wall,
        ended_wall=ended_wall,
        started_mono=started,
        ended_mono=ended,
        exit_code=result.exit_code,
        size_bytes=new[-1].size_bytes if new else 0,
        sha256=sha256,
        source_bytes=source_bytes,
        min_size_ratio=backup.min_size_ratio,
        last_acked_seq=last_acked_seq,
        log_tail=tail,
    )


def manifest_sha256(agent: BackupAgent, set_path: str) -> str:
    """The sha256 of a set's backup.manifest ('' if it is missing)."""
    store = agent.s3_store(set_path)
    if store is not None:
        facts = store.facts(f"{set_path}/{MANIFEST}")
        return facts.sha256 if facts.exists else ""
    quoted = shlex.quote(f"{set_path}/{MANIFEST}")
    result = agent.run(
        f"if [ -f {quoted} ]; then sha256sum {quoted} | cut -d' ' -f1; fi",
        timeout_s=INFO_TIMEOUT_S,
    )
    return result.stdout.strip() if result.ok else ""


def run_verify(agent: BackupAgent, engine: Engine, store: str, label: str) -> tuple[bool, str]:
    """``pgbackrest verify`` of the repository on ``store``, judged for set ``label``:
    (passed, its own account). See ``judge_verify``."""
    tool = pgbackrest_of(engine)
    result = agent.run(
        as_postgres(tool.verify_command(repo_mount=repo_mount(store))),
        timeout_s=VERIFY_TIMEOUT_S,
        env=tool.env(),
    )
    if not result.lines():
        return False, f"verify printed nothing (exit {result.exit_code})"
    complaint = judge_verify(result.lines(), label)
    if complaint is None and not result.ok and not any("backup:" in x for x in result.lines()):
        complaint = f"exited {result.exit_code}: {result.tail(300)}"
    return complaint is None, complaint or "no invalid file in the set, its chain or the WAL"


def judge_verify(lines: list[str], label: str) -> str | None:
    """What ``verify --verbose`` found wrong for set ``label`` (None: nothing).

    verify checks the whole repository and prints one block per WAL archive and per backup
    set, each with counts of missing / checksum invalid / size invalid / other files. A set
    fails if its own block, the block of a set it depends on (its full, and the earlier sets of
    the same chain) or a WAL archive block counts a problem: replaying needs the WAL too.
    """
    full = label.split("_", 1)[0]
    current = ""
    bad: list[str] = []
    for line in lines:
        backup = VERIFY_BACKUP.search(line)
        archive = VERIFY_ARCHIVE.search(line)
        if backup:
            current = backup.group(1)
        elif archive:
            current = f"archive {archive.group(1)}"
        problem = VERIFY_PROBLEM.search(line)
        if not problem and "ERROR" not in line:
            continue
        in_chain = current in (label, full) or (current.startswith(f"{full}_") and current < label)
        if current.startswith("archive") or in_chain or (not current and "ERROR" in line):
            found = f"{current or 'repository'}: {line.strip()}"
            if found not in bad:
                bad.append(found)
    return "; ".join(bad)[-400:] if bad else None


def verify_pgbackrest(agent: BackupAgent, engine: Engine, record: BackupRecord) -> BackupRecord:
    """Climb the verification levels for a pgBackRest set (see the module docstring)."""
    record.checks.clear()
    record.verification = Verification.NONE
    record.verification_failure = ""
    if record.exit_code != 0:
        record.verification_failure = (
            f"job exited with {record.exit_code}: {record.log_tail[-200:]}"
        )
        return record
    label = label_of(record)
    found = {s.label: s for s in sets(agent, engine, record.store)}
    if label not in found or not manifest_sha256(agent, record.path):
        record.verification_failure = (
            f"exists: set {label} is not in pgBackRest's repository on store {record.store}"
        )
        return record
    record.verification = Verification.EXISTS
    record.checks.append("exists")
    size = found[label].size_bytes
    floor = int(record.source_bytes * record.min_size_ratio)
    if size < floor:
        record.verification_failure = (
            f"size plausible: set {label} restores to {size} bytes, below "
            f"{record.min_size_ratio:g} x the {record.source_bytes} bytes of source data"
        )
        return record
    record.verification = Verification.SIZE_PLAUSIBLE
    record.checks.append("size_plausible")
    sha256 = manifest_sha256(agent, record.path)
    if sha256 != record.sha256:
        record.verification_failure = (
            f"checksum matches: {MANIFEST} sha256 is {sha256[:16]}..., "
            f"catalog says {record.sha256[:16]}..."
        )
        return record
    record.verification = Verification.CHECKSUM_MATCHES
    record.checks.append("checksum_matches")
    passed, account = run_verify(agent, engine, record.store, label)
    if not passed:
        record.verification_failure = f"tool verified: pgbackrest verify: {account[-300:]}"
        return record
    record.verification = Verification.TOOL_VERIFIED
    record.checks.append("tool_verified")
    return record
