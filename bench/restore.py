"""Restore overhead: the harness's restore path against the same pipeline run by hand.

One dump of about N MB sits in a backup store. Each repetition restores it into two fresh
servers, started the same way (untimed): once by hand, `docker exec` of the engine's restore
pipeline from the host as an operator would type it, and once the way recovery does it,
``BackupAgent.run`` of the identical pipeline and then polling for a verified read and write.
The order alternates; medians are reported. Both restored databases are fingerprinted
afterwards (untimed) to check that both did the same work.

What recovery adds around the pipeline (a fresh server, the backup's sha256 re-checked) is
timed too and reported beside, not inside, the ratio.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

from bench.common import dataset_for, median, run, stopwatch
from bench.lab import BenchLab, bench_lab
from harness.backups.agent import BackupAgent
from harness.dataset import table_names
from harness.engines.base import DumpJob
from harness.errors import HarnessError, InfrastructureError
from harness.polling import poll_until
from harness.server.health import probe
from harness.server.node import Node

log = logging.getLogger(__name__)

# The recovery default (scenario recovery.probe_interval_s).
PROBE_INTERVAL_S = 0.1
TOOL_TIMEOUT_S = 1800


@dataclass(frozen=True)
class RestoreResult:
    """By-hand and harness restores of the same dump, and what recovery adds around them."""

    target_mb: int
    source_bytes: int
    dump_bytes: int
    dump_s: float
    by_hand_s: list[float]
    harness_s: list[float]
    checksum_s: list[float]
    server_start_s: list[float]

    @property
    def ratio(self) -> float:
        return median(self.harness_s) / median(self.by_hand_s)

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "by_hand_median_s": round(median(self.by_hand_s), 3),
            "harness_median_s": round(median(self.harness_s), 3),
            "overhead_s": round(median(self.harness_s) - median(self.by_hand_s), 3),
            "ratio": round(self.ratio, 3),
        }


def _restore_by_hand(b: BenchLab, agent: BackupAgent, script: str) -> float:
    # `docker exec -e NAME` takes the value from docker's own environment: not from argv.
    env = b.engine.tool_env()
    names = [arg for name in env for arg in ("-e", name)]
    result = run(
        ["docker", "exec", *names, agent.container_id, "bash", "-c", script],
        timeout_s=TOOL_TIMEOUT_S,
        env=env,
    )
    if result.exit_code != 0:
        raise InfrastructureError(f"restore by hand exited {result.exit_code}: {result.stderr}")
    return result.duration_s


def _restore_by_harness(b: BenchLab, agent: BackupAgent, script: str, node: Node) -> float:
    def verified() -> float:
        probe(b.lab, b.engine, node)
        return time.monotonic()

    with stopwatch() as took:
        result = agent.run(script, timeout_s=TOOL_TIMEOUT_S, env=b.engine.tool_env())
        if not result.ok:
            raise InfrastructureError(f"restore exited {result.exit_code}: {result.tail()}")
        poll_until(
            verified,
            what=f"a verified read and write on {node.name}",
            timeout_s=30,
            interval_s=PROBE_INTERVAL_S,
            retry_on=(HarnessError, *b.engine.driver_errors()),
        )
    return took[0]


def bench_restore(*, size_mb: int, repeats: int) -> RestoreResult:
    """Dump about ``size_mb`` MB once, then restore it ``repeats`` times each way."""
    dataset = dataset_for(size_mb)
    tables = table_names(dataset.tables)
    times: dict[str, list[float]] = {"hand": [], "harness": [], "checksum": [], "start": []}
    with bench_lab() as b:
        engine, lab = b.engine, b.lab
        store = lab.volume("store-bench", role="backup-store")
        agent = BackupAgent(lab, image=b.image, volumes={"bench": store}, tmpfs_mb={})
        source = b.server("source")
        conn = b.connect(source)
        try:
            engine.prepare(conn)
            engine.seed(conn, dataset)
            source_bytes = engine.source_bytes(conn, tables)
            expected = engine.fingerprints(conn, tables)
        finally:
            conn.close()
        path = BackupAgent.path("bench", "bench.dump.gz")
        c = engine.credentials
        job = DumpJob(source_host=source.name, path=path, password=c.password, database=c.database)
        dumped = agent.run(
            engine.dump_command(job),
            timeout_s=TOOL_TIMEOUT_S,
            env=engine.tool_env(password=job.password),
        )
        if not dumped.ok:
            raise InfrastructureError(f"pg_dump exited {dumped.exit_code}: {dumped.tail()}")
        lab.remove(source.container_id)

        for i in range(repeats):
            for how in ("hand", "harness") if i % 2 == 0 else ("harness", "hand"):
                with stopwatch() as took:
                    facts = agent.facts(path)
                times["checksum"].append(took[0])
                with stopwatch() as took:
                    node = b.server(f"restore-{how}-{i}")
                times["start"].append(took[0])
                pipeline = engine.restore_command(path=path, target_host=node.name)
                if how == "hand":
                    times["hand"].append(_restore_by_hand(b, agent, pipeline))
                else:
                    times["harness"].append(_restore_by_harness(b, agent, pipeline, node))
                conn = b.connect(node)
                try:
                    restored = engine.fingerprints(conn, tables)
                finally:
                    conn.close()
                if restored != expected:
                    raise InfrastructureError(f"restore {how} #{i} does not match its source")
                log.info("restore %s #%d: %.2f s", how, i, times[how][-1])
                lab.remove(node.container_id)
    return RestoreResult(
        target_mb=size_mb,
        source_bytes=source_bytes,
        dump_bytes=facts.size_bytes,
        dump_s=dumped.duration_s,
        by_hand_s=times["hand"],
        harness_s=times["harness"],
        checksum_s=times["checksum"],
        server_start_s=times["start"],
    )
