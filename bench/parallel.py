"""Parallel logical restore against the single stream, at about 1 GB (a scenario's
``parallel: N`` on a logical backup).

One source of about N MB is dumped twice into a backup store (the single-stream pipeline and
the engine's parallel one), then each dump is restored into a fresh server (started untimed,
the way recovery starts one), with the tool's own run timed. Both restored databases are
fingerprinted afterwards (untimed) against the source. One repetition each: at 1 GB a
repetition costs about a minute.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from typing import Any

from bench.common import dataset_for, stopwatch
from bench.lab import bench_lab
from harness.backups.agent import BackupAgent
from harness.backups.parallel import dump_command, restore_command
from harness.dataset import table_names
from harness.engines.base import DumpJob
from harness.errors import InfrastructureError
from harness.seeding import load

log = logging.getLogger(__name__)
TOOL_TIMEOUT_S = 1800


@dataclass(frozen=True)
class ParallelResult:
    """Dump and restore times of the single stream and of ``jobs`` parallel jobs."""

    engine: str
    target_mb: int
    source_bytes: int
    jobs: int
    dump_s: dict[str, float]
    dump_bytes: dict[str, int]
    restore_s: dict[str, float]

    @property
    def speedup(self) -> float:
        return self.restore_s["single"] / self.restore_s["parallel"]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "speedup": round(self.speedup, 3)}


def bench_parallel_restore(
    *, size_mb: int, jobs: int | None = None, engine_name: str = "postgres"
) -> ParallelResult:
    """Dump about ``size_mb`` MB both ways and restore each dump once, the tool's run timed."""
    jobs = jobs or max(2, os.cpu_count() or 2)
    dataset = dataset_for(size_mb)
    tables = table_names(dataset.tables)
    dump_s: dict[str, float] = {}
    dump_bytes: dict[str, int] = {}
    restore_s: dict[str, float] = {}
    with bench_lab(engine_name) as b:
        engine, lab = b.engine, b.lab
        store = lab.volume("store-parallel", role="backup-store")
        agent = BackupAgent(lab, image=b.image, volumes={"bench": store}, tmpfs_mb={})
        source = b.server("source")
        conn = b.connect(source)
        try:
            engine.prepare(conn)
            load(engine, conn, dataset, connect=lambda: b.connect(source))
            source_bytes = engine.source_bytes(conn, tables)
            expected = engine.fingerprints(conn, tables)
        finally:
            conn.close()
        c = engine.credentials
        paths = {}
        for how, n in (("single", 1), ("parallel", jobs)):
            path = BackupAgent.path("bench", f"{how}.dump")
            job = DumpJob(
                source_host=source.name, path=path, password=c.password, database=c.database
            )
            with stopwatch() as took:
                dumped = agent.run(
                    dump_command(engine, job, jobs=n),
                    timeout_s=TOOL_TIMEOUT_S,
                    env=engine.tool_env(),
                )
            if not dumped.ok:
                raise InfrastructureError(f"{how} dump exited {dumped.exit_code}: {dumped.tail()}")
            dump_s[how], paths[how] = took[0], path
            dump_bytes[how] = agent.facts(path).size_bytes
        lab.remove(source.container_id)
        for how, n in (("single", 1), ("parallel", jobs)):
            node = b.server(f"restore-{how}")
            script = restore_command(engine, path=paths[how], target_host=node.name, jobs=n)
            with stopwatch() as took:
                result = agent.run(script, timeout_s=TOOL_TIMEOUT_S, env=engine.tool_env())
            if not result.ok:
                raise InfrastructureError(
                    f"{how} restore exited {result.exit_code}: {result.tail()}"
                )
            restore_s[how] = took[0]
            conn = b.connect(node)
            try:
                if engine.fingerprints(conn, tables) != expected:
                    raise InfrastructureError(f"the {how} restore does not match its source")
            finally:
                conn.close()
            log.info("restore %s (%d jobs): %.2f s", how, n, took[0])
            lab.remove(node.container_id)
    return ParallelResult(
        engine=engine_name,
        target_mb=size_mb,
        source_bytes=source_bytes,
        jobs=jobs,
        dump_s={k: round(v, 3) for k, v in dump_s.items()},
        dump_bytes=dump_bytes,
        restore_s={k: round(v, 3) for k, v in restore_s.items()},
    )
