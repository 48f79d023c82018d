"""Independent drills of one test run two at a time, each in a spawned process of its own.

This is the harness's own ``run --jobs 2`` arrangement (harness/runner/parallel.py): every drill
owns its lab (run id, network, volumes, labels), and a process of its own shares nothing with
the other drill (Docker client, signal handlers, writer threads). Each drill's survivors are
tapped in its process (truth.SurvivorTap) and the reads sent back with the result, so that
truth.recomputed works on it as on a drill run in the test's own process. The drills' labs
carry their journal's path under the session's temporary folder: the session's final check
(conftest.nothing_left_behind) finds anything they leave behind.

Only for drills whose assertions hold with a second drill on the machine (verdicts, which
strategy lost what, comparisons with seconds of margin), never for calibrated timings.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from harness.runner import Drill, DrillResult
from harness.validation import load_scenario

from .truth import RecordedTap, SurvivorTap, keep_tap

WORKERS = 2


@dataclass(frozen=True)
class Job:
    """One drill: a scenario file on an engine (one strategy of it), into ``out``."""

    path: Path
    engine: str
    out: Path
    strategy: str | None = None


def _run(job: Job) -> tuple[DrillResult, list[frozenset[int]]]:
    """In the drill's own process: run it with its survivors tapped."""
    drill = Drill(
        load_scenario(job.path),
        source=job.path,
        engine=job.engine,
        out_dir=job.out,
        strategy=job.strategy,
        jobs=WORKERS,
    )
    tap = SurvivorTap(drill)
    return drill.run(), tap.reads


def run_tapped_two_at_a_time(jobs: list[Job]) -> list[DrillResult]:
    """Run ``jobs`` at most two at once; their results in the order of ``jobs``."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=WORKERS, mp_context=ctx) as pool:
        done = list(pool.map(_run, jobs))
    for result, reads in done:
        keep_tap(result.run_id, RecordedTap(reads))
    return [result for result, _ in done]
