"""The drill's lifecycle: the current-action breadcrumb, the status, the error capture and the
clean-up in ``finally``.

Any failure is recorded as "failed while <action>: <first line of the error>". Faults are
reverted and the lab (every container, network and volume of the run) is removed in
``finally``, also on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import docker

from harness.engines import get_engine
from harness.engines.base import Engine
from harness.errors import HarnessError, first_line
from harness.lab.docker_client import docker_client
from harness.lab.images import resolve_image
from harness.lab.lab import Lab
from harness.measurement.host_load import HostLoadSampler
from harness.measurement.verdict import Check, Verdict
from harness.progress import NullProgress, Progress
from harness.record import DrillRecord, DrillStatus
from harness.report.journal import record_to_dict, write_journal
from harness.runner.judge import judge
from harness.runner.phases import run_phases
from harness.runner.record_builder import RunFacts, build_record
from harness.runner.state import RunState
from harness.scenario.model import Scenario

log = logging.getLogger(__name__)


def new_run_id() -> str:
    """A run id that sorts by time and is safe in container, network and volume names."""
    now = dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass
class DrillResult:
    """How one drill ended, its record, and where its journal is."""

    run_id: str
    scenario: str
    engine: str
    verdict: Verdict
    journal_path: Path
    record: DrillRecord
    strategy: str | None = None

    @cached_property
    def journal(self) -> dict[str, Any]:
        """The record as the plain JSON values written to ``journal_path``."""
        return record_to_dict(self.record)


class Drill:
    """One scenario on one engine (and, for a strategy comparison, one strategy)."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        source: Path,
        engine: str,
        out_dir: Path,
        image: str | None = None,
        progress: Progress | None = None,
        strategy: str | None = None,
        reaper: Callable[[docker.DockerClient], object] | None = None,
        jobs: int = 1,
        s3_image: str | None = None,
    ) -> None:
        """``reaper``, given the Docker client first, reaps what killed runs left; ``jobs``
        is how many drills run at once (journaled with the host's load); ``s3_image`` is the
        lab's S3 server image (None: moto's)."""
        self.strategy = strategy
        self.reaper = reaper
        self.scenario = scenario.for_strategy(strategy) if strategy else scenario
        self.source = source
        self.engine_name = engine
        self.engine: Engine = get_engine(engine)
        self.image_override = image or scenario.images.get(engine)
        self.run_id = new_run_id()
        self.run_dir = out_dir / self.run_id
        self.journal_path = self.run_dir / "journal.json"
        self.progress = progress or NullProgress()
        self.action = "starting"
        self.error_detail = ""
        self.state = RunState(acks_path=self.run_dir / "acks.jsonl")
        self._started_wall = time.time()
        self._started_mono = time.monotonic()
        self.host_load = HostLoadSampler(jobs=jobs)
        self.s3_image = s3_image

    def _do(self, action: str) -> None:
        """Set the breadcrumb: what the drill is doing now; the journal says so at once."""
        changed = action != self.action
        self.action = action
        self.progress.phase(action)
        log.debug("%s: %s", self.run_id, action)
        if changed:  # one atomic write (about a millisecond): a killed run's journal is current
            self._save(DrillStatus.STARTED)

    def run(self) -> DrillResult:
        """Run the drill; never raises HarnessError (it becomes verdict ``error``)."""
        title = f"{self.scenario.name}{f' [{self.strategy}]' if self.strategy else ''}"
        self.progress.begin(f"{title} on {self.engine_name}")
        self.host_load.start()
        self._save(DrillStatus.STARTED)
        status, verdict, error = DrillStatus.DONE, Verdict.ERROR, ""
        reasons: list[str] = []
        checks: list[Check] = []
        try:
            self._execute()
            verdict, checks, reasons = judge(self.scenario, self.state)
        except HarnessError as exc:
            status, error = DrillStatus.FAILED, f"failed while {self.action}: {first_line(exc)}"
            reasons = [error]
            self.error_detail = str(exc)[-4000:]
            log.error("%s: %s", self.scenario.name, error)
        except Exception as exc:  # a bug, not an outcome: record it, clean up, report exit 3
            status = DrillStatus.FAILED
            error = f"internal error while {self.action}: {type(exc).__name__}: {exc}"
            reasons = [error]
            log.exception("%s: %s", self.scenario.name, error)
        except KeyboardInterrupt:
            status, error = DrillStatus.INTERRUPTED, f"interrupted while {self.action}"
            self._save(status, verdict=Verdict.ERROR, reasons=[error], error=error)
            raise
        finally:
            self.progress.end()
            self.host_load.stop()
        record = self._save(status, verdict=verdict, reasons=reasons, checks=checks, error=error)
        return DrillResult(
            self.run_id,
            self.scenario.name,
            self.engine_name,
            verdict,
            self.journal_path,
            record,
            self.strategy,
        )

    def _execute(self) -> None:
        engine, st = self.engine, self.state
        self._do("connecting to the Docker engine")
        client = docker_client()
        if self.reaper is not None:
            self._do("reaping what killed runs left")
            self.reaper(client)
        self._do("resolving the engine image")
        st.image = image = resolve_image(
            client,
            engine=engine.name,
            requested=self.image_override,
            default=engine.default_image,
            local_build=engine.local_image,
        )
        with Lab(self.run_id, client=client, journal=self.journal_path) as lab:
            try:
                run_phases(
                    self.scenario,
                    engine,
                    lab,
                    image=image,
                    state=st,
                    progress=self.progress,
                    do=self._do,
                    scenario_dir=self.source.parent,
                    s3_image=self.s3_image,
                )
            finally:
                if st.workers is not None:
                    st.workers.stop()
                for fault, fctx in reversed(st.ledger.reverts):
                    with contextlib.suppress(HarnessError, *engine.driver_errors()):
                        fault.revert(fctx)
                # Not a breadcrumb: a failure above must stay "failed while <its action>".
                self.progress.phase("removing the lab (containers, network, volumes)")

    def _save(
        self,
        status: DrillStatus,
        *,
        verdict: Verdict | None = None,
        reasons: list[str] | None = None,
        checks: list[Check] | None = None,
        error: str = "",
    ) -> DrillRecord:
        facts = RunFacts(
            run_id=self.run_id,
            status=status,
            action=self.action,
            strategy=self.strategy,
            source=self.source,
            engine=self.engine_name,
            image_override=self.image_override,
            started_wall=self._started_wall,
            started_mono=self._started_mono,
            verdict=verdict,
            reasons=tuple(reasons or ()),
            checks=tuple(checks or ()),
            error=error,
            error_detail=self.error_detail,
            host=self.host_load.summary(),
        )
        record = build_record(self.scenario, self.state, facts)
        write_journal(self.journal_path, record)
        workers = self.state.workers
        if status is not DrillStatus.STARTED and workers is not None:
            workers.writer.log.flush()  # streamed while the writer ran; closed when it stops
        return record
