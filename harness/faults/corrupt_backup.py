"""corrupt_backup: bytes changed inside a stored backup (bit rot, a bad copy, tampering).

For a pgBackRest set, the largest data file the set stored in the repository (compressed):
what ``pgbackrest verify`` exists to catch. In a repository on S3 that file is an object: it is
downloaded, changed in the middle and uploaded again under the same key."""

from __future__ import annotations

import shlex

from harness.backups.pgbackrest_s3 import list_objects, overwrite_bytes
from harness.backups.physical import MANIFEST
from harness.backups.s3store import S3Store, parse_url
from harness.faults.base import Effect, FaultContext, FaultEffect
from harness.scenario import model

# Deadlines: hashing or overwriting one backup file, finding a physical backup's largest file.
FILE_TIMEOUT_S = 120.0
FIND_TIMEOUT_S = 60.0


def largest_data_file_script(path: str) -> str:
    """Shell printing a physical backup's largest data file: under ``base/`` where the copy
    has one (pg_basebackup; its pg_wal is not covered by the manifest's file checksums),
    else anywhere in the copy (mariadb-backup keeps the data files at its top), never the
    manifest itself."""
    quoted = shlex.quote(path)
    return (
        f"d={quoted}; if [ -d {quoted}/base ]; then d={quoted}/base; fi; "
        f"find \"$d\" -type f ! -name {MANIFEST} -printf '%s %p\\n' "
        "| sort -n | tail -1 | cut -d' ' -f2-"
    )


class CorruptBackup:
    """Overwrite ``bytes`` bytes in the middle of the backup file (or its largest data file)."""

    causes_outage = False
    type = "corrupt_backup"

    def __init__(self, spec: model.CorruptBackup) -> None:
        self.spec = spec
        self.file = ""
        self.before = ""
        self.s3: S3Store | None = None  # the file is an object of this store

    def _sha(self, ctx: FaultContext) -> str:
        assert ctx.agent is not None
        if self.s3 is not None:
            return self.s3.facts(self.file).sha256
        result = ctx.agent.run(
            f"sha256sum {shlex.quote(self.file)} | cut -d' ' -f1", timeout_s=FILE_TIMEOUT_S
        )
        return result.stdout.strip()

    def inject(self, ctx: FaultContext) -> None:
        assert ctx.agent is not None and ctx.catalog is not None
        record = ctx.catalog.get(self.spec.backup)
        store = ctx.agent.s3_store(record.path)
        if record.method == "pgbackrest" and store is not None:
            self._inject_object(store, record.path)
            return
        if record.method == "pgbackrest":
            # A file the set itself stored (an incremental stores the changed ones only).
            found = ctx.agent.run(
                f"find {shlex.quote(record.path)}/pg_data/base -type f -printf '%s %p\\n' "
                "| sort -n | tail -1 | cut -d' ' -f2-",
                timeout_s=FIND_TIMEOUT_S,
            )
            self.file = found.stdout.strip()
        elif record.method == "physical":
            found = ctx.agent.run(largest_data_file_script(record.path), timeout_s=FIND_TIMEOUT_S)
            self.file = found.stdout.strip()
        else:
            self.file = record.path
        if not self.file:
            return
        self.before = self._sha(ctx)
        quoted = shlex.quote(self.file)
        ctx.agent.run(
            f"size=$(stat -c %s {quoted}); "
            f"dd if=/dev/urandom of={quoted} bs=1 count={self.spec.bytes} "
            f"seek=$((size / 2)) conv=notrunc 2>/dev/null",
            timeout_s=FILE_TIMEOUT_S,
        )

    def _inject_object(self, store: S3Store, set_url: str) -> None:
        """The largest data object the set stored (an incremental: the changed files)."""
        prefix, _ = parse_url(set_url)
        # Data files, or the bundles pgBackRest packs small files into on S3 (not the manifest).
        objects = [
            o
            for o in list_objects(store, f"{prefix}/")
            if o.key.startswith((f"{prefix}/pg_data/base/", f"{prefix}/bundle/"))
        ]
        if not objects:
            return
        key = max(objects, key=lambda o: (o.size_bytes, o.key)).key
        self.s3, self.file = store, store.url(key)
        self.before = store.facts(self.file).sha256
        overwrite_bytes(store, key, count=self.spec.bytes)

    def took_effect(self, ctx: FaultContext) -> Effect:
        if not self.file:
            return Effect(
                FaultEffect.NO_EFFECT, f"backup {self.spec.backup} has no file to corrupt"
            )
        after = self._sha(ctx)
        changed = bool(after) and after != self.before
        return Effect.of(
            took_effect=changed,
            evidence=f"{self.spec.bytes} bytes overwritten in {self.file}: "
            f"sha256 {self.before[:12]}... -> {after[:12]}...",
        )

    def revert(self, ctx: FaultContext) -> None:
        """Corruption is the damage; verification has to catch it."""
