"""Several drills at once (``run --jobs N``), each in a process of its own.

Every drill already owns an isolated lab: its own run id, network, volumes and labels, and the
lab's guard refuses anything another run created. A drill runs in a fresh (spawned) process
so that nothing is shared between concurrent drills: not the Docker client, not signal
handlers (the lab's clean-up defers Ctrl-C, which only a main thread can), not the writer's
threads. The owner label names each drill's own process, so the reaper of a later run tells a
live parallel drill from a killed one exactly as for a single drill.

Ctrl-C reaches every process of the terminal's group: each drill records ``interrupted`` and
removes its lab. SIGTERM to the parent is passed on to the drills, which do the same. A drill
process that dies without a result (killed from outside) is reported by its position; its
lab is left to the reaper, which sees its owner process gone.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.runner.drill import Drill, DrillResult
from harness.scenario.model import Scenario

# How long interrupted drills get to remove their labs before the parent stops waiting.
CLEANUP_GRACE_S = 90.0
POLL_S = 0.5


@dataclass(frozen=True)
class DrillJob:
    """One drill to run, in a form that can be sent to another process."""

    index: int
    scenario: Scenario
    source: Path
    engine: str
    out_dir: Path
    image: str | None = None
    strategy: str | None = None
    jobs: int = 1
    docker_host: str | None = None  # the drill's Docker engine (None: the default one)
    s3_image: str | None = None  # the lab's S3 server image (None: moto's)


def run_job(job: DrillJob) -> DrillResult:
    """Run one drill here (also what a drill process does)."""
    return Drill(
        job.scenario,
        source=job.source,
        engine=job.engine,
        out_dir=job.out_dir,
        image=job.image,
        strategy=job.strategy,
        jobs=job.jobs,
        s3_image=job.s3_image,
    ).run()


def _on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _child(job: DrillJob, results: Any, verbose: bool) -> None:
    """A drill process: run the drill, send back its result (Ctrl-C/SIGTERM: clean up, exit)."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    if job.docker_host:  # before any client exists: this process talks to that engine only
        os.environ["DOCKER_HOST"] = job.docker_host
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        for noisy in ("testcontainers", "docker", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        results.put((job.index, run_job(job)))
    except KeyboardInterrupt:
        results.put((job.index, None))


def run_parallel(
    jobs: list[DrillJob],
    *,
    workers: int,
    on_done: Callable[[DrillJob, DrillResult | None], None],
    verbose: bool = False,
) -> dict[int, DrillResult | None]:
    """Run ``jobs`` with at most ``workers`` at once; ``on_done`` is called in the parent as
    each ends (``None``: the drill process died without a result). Raises KeyboardInterrupt
    after the running drills have removed their labs."""
    ctx = multiprocessing.get_context("spawn")
    results: Any = ctx.Queue()
    pending = list(jobs)
    running: dict[int, tuple[DrillJob, Any]] = {}
    done: dict[int, DrillResult | None] = {}

    def finish(index: int, result: DrillResult | None) -> None:
        job, process = running.pop(index)
        process.join()
        done[index] = result
        on_done(job, result)

    try:
        while pending or running:
            while pending and len(running) < workers:
                job = pending.pop(0)
                process = ctx.Process(
                    target=_child,
                    args=(job, results, verbose),
                    name=f"drill-{job.index}",
                    daemon=False,
                )
                process.start()
                running[job.index] = (job, process)
            try:
                index, result = results.get(timeout=POLL_S)
            except queue.Empty:
                # A process that ended without sending a result was killed from outside.
                for index, (_, process) in list(running.items()):
                    if not process.is_alive() and process.exitcode is not None:
                        try:
                            index2, result = results.get(timeout=POLL_S)
                        except queue.Empty:
                            finish(index, None)
                        else:
                            finish(index2, result)
                continue
            finish(index, result)
    except KeyboardInterrupt:
        for _, process in running.values():
            if process.is_alive():
                process.terminate()  # SIGTERM: the drill records "interrupted", removes its lab
        for _, process in running.values():
            process.join(CLEANUP_GRACE_S)
        raise
    return done
