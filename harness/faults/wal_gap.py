"""wal_gap: an archived log segment (PostgreSQL WAL, MariaDB binlog) removed or damaged.

The segment chosen is one that point-in-time recovery from the newest physical backup must
replay: after the one the backup starts from (PostgreSQL: the last it carries in pg_wal;
MariaDB: the binlog named in xtrabackup_binlog_info), and not the newest one archived.

When the newest backup is a pgBackRest set, the segment goes missing from pgBackRest's
repository (``archive/STANZA/ID/*/SEGMENT-SHA1.gz``), after the set's first WAL segment. In a
repository on S3 the segment is an object: deleted, or overwritten in place ("damage").
"""

from __future__ import annotations

import shlex

from harness.backups.pgbackrest import label_of, repo_mount, sets
from harness.backups.pgbackrest_s3 import delete_object, list_objects, overwrite_bytes
from harness.backups.s3store import parse_url
from harness.engines.collaborators import archive_of, pgbackrest_of, physical_of
from harness.faults.base import Effect, FaultContext, FaultEffect
from harness.scenario import model

# Listing, reading and damaging one archive folder each end well within this.
COMMAND_TIMEOUT_S = 30.0


class WalGap:
    """Remove (or overwrite the middle of) one archived WAL segment."""

    causes_outage = False
    type = "wal_gap"

    def __init__(self, spec: model.WalGap) -> None:
        self.spec = spec
        self.segment = ""
        self.why_not = ""
        self.repo_path = ""  # the segment's file in a pgBackRest repository

    @staticmethod
    def _archive(ctx: FaultContext) -> str:
        return f"/stores/{ctx.archive_store}/{archive_of(ctx.engine).subdir}"

    def _segments(self, ctx: FaultContext, folder: str) -> list[str]:
        assert ctx.agent is not None
        result = ctx.agent.run(
            f"ls {shlex.quote(folder)} 2>/dev/null || true", timeout_s=COMMAND_TIMEOUT_S
        )
        return sorted(n for n in result.stdout.split() if archive_of(ctx.engine).is_segment(n))

    def _repo_segments(self, ctx: FaultContext) -> dict[str, str]:
        """Segment name -> file path, of every WAL file in pgBackRest's repository."""
        assert ctx.agent is not None and ctx.archive_store
        tool = pgbackrest_of(ctx.engine)
        store = ctx.agent.s3.get(ctx.archive_store)
        if tool.s3 is not None and store is not None:
            # Segment name -> the object's s3:// URL.
            objects = list_objects(store, f"{tool.s3.key_prefix()}/archive/")
            named = {o.key.rsplit("/", 1)[-1]: o.key for o in objects}
            return {
                name.split("-", 1)[0]: store.url(key)
                for name, key in named.items()
                if tool.is_segment(name)
            }
        folder = f"{repo_mount(ctx.archive_store)}/{tool.subdir}/archive"
        result = ctx.agent.run(
            f"find {shlex.quote(folder)} -type f 2>/dev/null || true", timeout_s=COMMAND_TIMEOUT_S
        )
        out = {}
        for path in result.stdout.split():
            name = path.rsplit("/", 1)[-1]
            if tool.is_segment(name):
                out[name.split("-", 1)[0]] = path
        return out

    def _inject_repo(self, ctx: FaultContext, label: str, store: str) -> None:
        assert ctx.agent is not None
        info = {s.label: s for s in sets(ctx.agent, ctx.engine, store)}
        if label not in info and info:
            label = list(info)[-1]  # the catalog's newest set is gone: the newest one left
        start = info[label].wal_start if label in info else ""
        found = self._repo_segments(ctx)
        after = sorted(s for s in found if not start or s > start)
        if not after:
            self.why_not = f"no segment archived in the repository after set {label} yet"
            return
        self.segment = after[(len(after) - 1) // 2]
        self.repo_path = found[self.segment]
        s3 = ctx.agent.s3_store(self.repo_path)
        if s3 is not None:
            key, _ = parse_url(self.repo_path)
            if self.spec.mode == "remove":
                delete_object(s3, key)
            else:
                overwrite_bytes(s3, key, count=64, offset=512)
            return
        path = shlex.quote(self.repo_path)
        if self.spec.mode == "remove":
            command = f"rm -f {path}"
        else:
            command = f"dd if=/dev/urandom of={path} bs=64 count=1 seek=8 conv=notrunc 2>/dev/null"
        ctx.agent.run(command, timeout_s=COMMAND_TIMEOUT_S)

    def inject(self, ctx: FaultContext) -> None:
        assert ctx.agent is not None and ctx.catalog is not None and ctx.archive_store
        newest = [r for r in ctx.catalog.newest_first() if r.method in ("physical", "pgbackrest")]
        if newest and newest[0].method == "pgbackrest":
            self._inject_repo(ctx, label_of(newest[0]), newest[0].store)
            return
        physical = [r for r in ctx.catalog.newest_first() if r.method == "physical"]
        if not physical:
            self.why_not = "no physical backup to take archived logs after"
            return
        start = ctx.agent.run(
            physical_of(ctx.engine).log_start_script(physical[0].path), timeout_s=COMMAND_TIMEOUT_S
        ).stdout.strip()
        archive = self._archive(ctx)
        after = [s for s in self._segments(ctx, archive) if not start or s > start]
        if not after:
            self.why_not = f"no segment archived after backup {physical[0].name} yet"
            return
        # Any archived segment after the backup is needed to replay past it; take one from
        # the middle so that recovery gets some way before it stops.
        self.segment = after[(len(after) - 1) // 2]
        path = shlex.quote(f"{archive}/{self.segment}")
        if self.spec.mode == "remove":
            command = f"rm -f {path}"
        else:
            command = (
                f"dd if=/dev/urandom of={path} bs=4096 count=4 seek=16 conv=notrunc 2>/dev/null"
            )
        ctx.agent.run(command, timeout_s=COMMAND_TIMEOUT_S)

    def took_effect(self, ctx: FaultContext) -> Effect:
        if not self.segment:
            return Effect(FaultEffect.NO_EFFECT, f"no segment chosen: {self.why_not}")
        assert ctx.agent is not None and ctx.archive_store
        if self.repo_path:
            present = self.segment in self._repo_segments(ctx)
        else:
            present = self.segment in self._segments(ctx, self._archive(ctx))
        if self.spec.mode == "remove":
            state = "still present" if present else "removed"
            where = f" ({self.repo_path})" if self.repo_path else ""
            return Effect.of(
                took_effect=not present, evidence=f"segment {self.segment}{where} {state}"
            )
        where = self.repo_path or self.segment
        size = "64 bytes" if self.repo_path else "16 KiB"
        return Effect.of(
            took_effect=present, evidence=f"segment {where} overwritten with {size} of random bytes"
        )

    def revert(self, ctx: FaultContext) -> None:
        """The archive stays damaged: that is what recovery has to cope with."""
