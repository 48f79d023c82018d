"""The command line, and the only place that maps outcomes and exceptions to exit codes.

Exit codes: 0 every drill met its expectations (including the verdict ``unrecoverable``: the
drill proved, as expected, that the data cannot come back); 1 a drill missed them; 2 invalid
input or usage; 3 infrastructure failure (no Docker engine, image missing, a container failed);
4 inconclusive (a fault did not take effect); 130 interrupted. When several drills run, the
most severe code wins, in the order 3, 1, 4, 0. Without ``--engine``, engines whose image is
not available here are skipped with the reason; an engine named with ``--engine`` whose image
is missing is exit 3. A history database that cannot be written
(after the drills ran) is exit 3; a history path or URL that is not valid is exit 2. The
``report`` command exits 0 when it wrote its report, whatever the drills in it showed.
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.errors import (
    HarnessError,
    InfrastructureError,
    InputError,
    SafetyError,
    ScenarioError,
)
from harness.exit_codes import (
    EXIT_FAIL,
    EXIT_INFRA,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    VERDICT_EXIT,  # noqa: F401 - re-exported: callers and tests use cli.VERDICT_EXIT
    error_exit,
    run_exit,
    worst,
)
from harness.report.history.store import DEFAULT_HISTORY as DEFAULT_HISTORY_PATH

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from docker import DockerClient

    from harness.plan import PlannedDrill
    from harness.record import DrillRecord, HostLoad
    from harness.report.history import History
    from harness.runner import DrillResult


app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Chaos recovery drills for databases: break real servers, recover, measure RTO and RPO.",
)
# Wide enough that tables stay readable in CI logs, where there is no terminal to measure.
out = Console(width=None if sys.stdout.isatty() else 180)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 180)
log = logging.getLogger("harness")

DEFAULT_HISTORY = str(DEFAULT_HISTORY_PATH)
HISTORY_HELP = (
    "History database: a file path (SQLite) or a postgresql:// URL "
    "[env RECOVERY_DRILL_HISTORY; default reports/history.sqlite]."
)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not verbose:
        for noisy in ("testcontainers", "docker", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.ERROR)


def _fail(code: int, message: str) -> NoReturn:
    err.print(message, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario or drill plan files to check.")],
) -> None:
    """Check scenario and plan files; print every problem as FILE:LINE: path: message (exit 2)."""
    from harness.plan import load_inputs

    try:
        inputs = load_inputs(files)
    except ScenarioError as exc:
        _fail(EXIT_INPUT, str(exc))
    for path, scenario in inputs.scenarios:
        out.print(
            f"{path}: ok ({scenario.name}: {', '.join(scenario.engines)})",
            markup=False,
            highlight=False,
        )
    for plan in inputs.plans:
        drills = ", ".join(f"{d.scenario.name} on {d.engine}" for d in plan.drills)
        out.print(f"{plan.path}: ok (plan {plan.name}: {drills})", markup=False, highlight=False)


def _open_history(location: str, *, must_exist: bool = False) -> History:
    """The history database, or exit 2 (bad location) / 3 (cannot be reached)."""
    from harness.report.history import History

    if must_exist and "://" not in location and not Path(location).exists():
        _fail(
            EXIT_INPUT,
            f"no history at {location}: run drills first (recovery-drill run ...) "
            "or point --history at an existing history",
        )
    try:
        return History.open(location)
    except InputError as exc:
        _fail(EXIT_INPUT, str(exc))
    except InfrastructureError as exc:
        _fail(EXIT_INFRA, str(exc))


@app.command()
def run(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Scenario files, or drill plan files (a top-level `drills:` key), to run."
        ),
    ],
    engine: Annotated[
        list[str] | None,
        typer.Option(
            "--engine",
            "-e",
            help="Engine to run on (repeatable); default: the scenario's (or plan's) engines.",
        ),
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Output folder for journals (and a plan's report).")
    ] = Path("reports"),
    image: Annotated[
        list[str] | None,
        typer.Option(
            "--image", help="ENGINE=IMAGE to run instead of the default image (repeatable)."
        ),
    ] = None,
    history: Annotated[
        str, typer.Option("--history", envvar="RECOVERY_DRILL_HISTORY", help=HISTORY_HELP)
    ] = DEFAULT_HISTORY,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Drills to run at once, each in its own process and lab (default 1). "
            "The journal flags a drill whose host was saturated (load above the CPUs).",
        ),
    ] = 1,
    docker_host: Annotated[
        list[str] | None,
        typer.Option(
            "--docker-host",
            help="A Docker engine on this machine to run drills on (repeatable: drills are "
            "dealt to the engines in turn): unix:///path.sock or tcp://127.0.0.1:PORT.",
        ),
    ] = None,
    s3_image: Annotated[
        str | None,
        typer.Option(
            "--s3-image",
            help="Image of the lab's S3 server for s3 stores without endpoint_url (default "
            "recovery-drill/s3:moto; a minio/minio image runs MinIO). Never pulled.",
        ),
    ] = None,
) -> None:
    """Run drills; write OUT/<run-id>/journal.json for each, record it in the history, and
    print a summary. For a drill plan, also write the report files into OUT."""
    from harness.engines import engine_names
    from harness.plan import PlannedDrill, load_inputs
    from harness.progress import make_progress
    from harness.runner import Drill
    from harness.scenario.model import supports_engine

    _setup_logging(verbose)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        inputs = load_inputs(files)
    except ScenarioError as exc:
        _fail(EXIT_INPUT, str(exc))
    images: dict[str, str] = {}
    for item in image or []:
        name, sep, ref = item.partition("=")
        if not sep or not ref or name not in engine_names():
            _fail(
                EXIT_INPUT,
                f"--image {item!r}: expected ENGINE=IMAGE with ENGINE one of "
                f"{', '.join(engine_names())}",
            )
        images[name] = ref
    for name in engine or []:
        if "@" in name and name not in engine_names():  # a version this engine lacks
            _fail(EXIT_INPUT, f"--engine {name!r}: expected one of {', '.join(engine_names())}")
    planned: list[PlannedDrill] = []
    for path, scenario in inputs.scenarios:
        for name in engine or scenario.engines:
            if not supports_engine(scenario.engines, name):
                _fail(
                    EXIT_INPUT,
                    f"{path}: scenario {scenario.name!r} does not support engine "
                    f"{name!r} (it lists {', '.join(scenario.engines)})",
                )
            planned.append(PlannedDrill(path, scenario, name))
    for plan in inputs.plans:
        chosen = [d for d in plan.drills if not engine or d.engine in engine]
        if not chosen:
            _fail(
                EXIT_INPUT,
                f"{plan.path}: plan {plan.name!r} has no drill on "
                f"{', '.join(engine or [])} (it uses "
                f"{', '.join(sorted({d.engine for d in plan.drills}))})",
            )
        planned += chosen

    from harness.runner.docker_hosts import check_docker_host

    try:
        engines = [check_docker_host(url) for url in docker_host or []]
    except InputError as exc:
        _fail(EXIT_INPUT, str(exc))
    store = _open_history(history)  # a bad history location is bad input: before any Docker
    if not engine:
        planned = _runnable(planned, images)
    results: list[DrillResult] = []
    codes: list[int] = []
    progress = make_progress(err, quiet=quiet)
    reaper = _reaper(store)
    try:
        # A scenario with strategies runs once per strategy, each from the same starting state.
        runs = [(d, s.name) for d in planned for s in d.scenario.strategies] + [
            (d, None) for d in planned if not d.scenario.strategies
        ]
        runs.sort(key=lambda run: planned.index(run[0]))
        if (jobs > 1 and len(runs) > 1) or engines:
            results, codes = _run_parallel(
                runs, jobs=jobs, store=store, out_dir=out_dir, images=images,
                quiet=quiet, verbose=verbose, reaper=reaper, engines=engines,
                s3_image=s3_image,
            )  # fmt: skip
            runs = []
        for index, (drill_plan, strategy) in enumerate(runs, start=1):
            progress.position(index, len(runs))
            drill = Drill(
                drill_plan.scenario,
                source=drill_plan.source,
                engine=drill_plan.engine,
                out_dir=out_dir,
                image=images.get(drill_plan.engine),
                progress=progress,
                strategy=strategy,
                reaper=reaper,
                s3_image=s3_image,
            )
            result = drill.run()
            results.append(result)
            codes.append(_record(store, result, plan=drill_plan.plan))
    except KeyboardInterrupt:
        store.close()
        _fail(EXIT_INTERRUPTED, "interrupted: the lab of the current drill was removed")
    except SafetyError as exc:
        store.close()
        _fail(EXIT_INFRA, f"refused: {exc}")
    except InputError as exc:
        store.close()
        _fail(EXIT_INPUT, str(exc))
    _print_summary(results)
    if inputs.plans and results:
        names = [p.name for p in inputs.plans]
        codes.append(_plan_report(store, results, names=names, out_dir=out_dir))
    store.close()
    raise typer.Exit(run_exit([r.verdict for r in results], codes))


def _run_parallel(
    runs: Sequence[tuple[PlannedDrill, str | None]],
    *,
    jobs: int,
    store: History,
    out_dir: Path,
    images: dict[str, str],
    quiet: bool,
    verbose: bool,
    reaper: Callable[[DockerClient], object],
    engines: Sequence[str] = (),
    s3_image: str | None = None,
) -> tuple[list[DrillResult], list[int]]:
    """``run --jobs N``: the drills in processes of their own, at most N at once; results in
    the order of the sequential run, each recorded in the history as it ends. With
    ``--docker-host`` engines, the drills are dealt to them in turn."""
    import docker

    from harness.lab.docker_client import docker_client
    from harness.runner.docker_hosts import deal
    from harness.runner.parallel import DrillJob, run_parallel

    if engines:  # before any drill, on every engine: the drills themselves do not reap
        for url in engines:
            try:
                client = docker.DockerClient(base_url=url, timeout=60)
                client.ping()
            except docker.errors.DockerException as exc:
                _fail(EXIT_INFRA, f"--docker-host {url}: no Docker engine answers ({exc})")
            _reap(client, record=store.record, console=err, only_reaped=True)
    else:
        reaper(docker_client())
    workers = min(jobs, len(runs))
    placed = deal(len(runs), list(engines))
    drill_jobs = [
        DrillJob(
            index=i,
            scenario=d.scenario,
            source=d.source,
            engine=d.engine,
            out_dir=out_dir,
            image=images.get(d.engine),
            strategy=strategy,
            jobs=workers,
            docker_host=placed[i],
            s3_image=s3_image,
        )
        for i, (d, strategy) in enumerate(runs)
    ]
    codes: list[int] = []
    finished: list[int] = []

    def on_done(job: DrillJob, result: DrillResult | None) -> None:
        finished.append(job.index)
        label = job.scenario.name + (f" / {job.strategy}" if job.strategy else "")
        if result is None:
            codes.append(EXIT_INFRA)
            err.print(
                f"[{len(finished)}/{len(runs)}] {label} on {job.engine}: the drill's process "
                "died without a result (its lab is left to the reaper)",
                markup=False,
                highlight=False,
            )
            return
        codes.append(_record(store, result, plan=runs[job.index][0].plan))
        if not quiet:
            rto = result.record.measured.rto_s
            host = result.record.host
            err.print(
                f"[{len(finished)}/{len(runs)}] {label} on {job.engine}: "
                f"{result.verdict.value}, RTO {_fmt(rto, ' s')}"
                + (", host saturated" if host and host.saturated else "")
                + (f" (Docker engine {job.docker_host})" if job.docker_host else ""),
                markup=False,
                highlight=False,
            )

    done = run_parallel(drill_jobs, workers=workers, on_done=on_done, verbose=verbose)
    results = [r for _, r in sorted(done.items()) if r is not None]
    return results, codes


def _runnable(planned: list[PlannedDrill], images: dict[str, str]) -> list[PlannedDrill]:
    """Without --engine, drills on engines whose image is not available here are skipped,
    each with the reason (a scenario may list engines that only run where their official
    image can be pulled). An engine asked for by name still fails with exit 3."""
    from harness.engines import get_engine
    from harness.errors import EngineUnavailable
    from harness.lab.docker_client import docker_client
    from harness.lab.images import resolve_image

    try:
        client = docker_client()
    except EngineUnavailable as exc:
        _fail(EXIT_INFRA, str(exc))
    missing: dict[str, str] = {}
    for name in sorted({d.engine for d in planned}):
        adapter = get_engine(name)
        try:
            resolve_image(
                client,
                engine=name,
                requested=images.get(name),
                default=adapter.default_image,
                local_build=adapter.local_image,
            )
        except EngineUnavailable as exc:
            missing[name] = str(exc)
    for name, why in missing.items():
        err.print(f"skipping engine {name}: {why}", markup=False, highlight=False, soft_wrap=True)
    kept = [d for d in planned if d.engine not in missing]
    if planned and not kept:
        _fail(EXIT_INFRA, "no engine of these drills has an image available here")
    return kept


def _record(store: History, result: DrillResult, *, plan: str | None) -> int:
    """Record one finished drill; a history that cannot be written is exit 3 at the end."""
    try:
        store.record(result.record, plan=plan)
    except HarnessError as exc:
        err.print(
            f"could not record run {result.run_id} in the history ({exc}); "
            f"its journal is {result.journal_path}",
            markup=False,
            highlight=False,
        )
        return EXIT_INFRA
    return EXIT_OK


def _plan_report(
    store: History, results: list[DrillResult], *, names: list[str], out_dir: Path
) -> int:
    """Write the report of a plan run: these drills in detail, their history as trends."""
    from harness.report.history.records import drill_label
    from harness.report.model import build_report
    from harness.report.output import write_reports

    drills = {(drill_label(r.scenario, r.strategy), r.engine) for r in results}
    try:
        runs = [r for r in store.runs() if (r.drill, r.engine) in drills]
        report = build_report(
            runs,
            history=store.where,
            focus_run_ids=[r.run_id for r in results],
            procedures=[p for p in store.procedures() if (p.scenario, p.engine) in drills],
            title=f"Drill plan {', '.join(names)}",
        )
        written = write_reports(report, out_dir)
    except (HarnessError, OSError) as exc:
        err.print(f"could not write the plan's report: {exc}", markup=False, highlight=False)
        return EXIT_INFRA
    for path in written:
        out.print(f"report: {path}", markup=False, highlight=False)
    return EXIT_OK


@app.command()
def report(
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="Only runs started since: YYYY-MM-DD, an ISO-8601 time, or Nd."
        ),
    ] = None,
    fmt: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            "-f",
            help="html, md, junit or json (repeatable); default: all four into --out.",
        ),
    ] = None,
    out_path: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for the report files (default reports/); with one --format, a file "
            "name, or - for standard output (the default for one format).",
        ),
    ] = None,
    history: Annotated[
        str, typer.Option("--history", envvar="RECOVERY_DRILL_HISTORY", help=HISTORY_HELP)
    ] = DEFAULT_HISTORY,
    run_ids: Annotated[
        list[str] | None,
        typer.Option(
            "--run",
            help="Show these runs in detail (repeatable); default: the latest run of each drill.",
        ),
    ] = None,
    title: Annotated[str, typer.Option("--title", help="Report title.")] = "Recovery drill report",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Report the drill history: HTML, Markdown, JUnit XML or JSON."""
    from harness.report.model import build_report, since_iso
    from harness.report.output import FORMATS, render, write_reports

    _setup_logging(verbose)
    formats = tuple(dict.fromkeys(fmt or FORMATS))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        _fail(EXIT_INPUT, f"--format {unknown[0]!r}: expected one of {', '.join(FORMATS)}")
    try:
        since_at = since_iso(since) if since else None
    except ValueError as exc:
        _fail(EXIT_INPUT, str(exc))
    store = _open_history(history, must_exist=True)
    try:
        runs = store.runs(since=since_at)
        procedures = store.procedures()
    except HarnessError as exc:
        store.close()
        _fail(EXIT_INFRA, str(exc))
    store.close()
    if run_ids:
        missing = sorted(set(run_ids) - {r.run_id for r in runs})
        if missing:
            _fail(EXIT_INPUT, f"--run {missing[0]}: no such run in the history (or before --since)")
    data = build_report(
        runs,
        history=store.where,
        since=since_at,
        focus_run_ids=run_ids,
        procedures=procedures,
        title=title,
    )
    if not runs:
        err.print(
            f"no drill runs recorded{' since ' + since if since else ''}: the report says so",
            markup=False,
            highlight=False,
        )
    single = len(formats) == 1
    if single and (out_path is None or str(out_path) == "-"):
        sys.stdout.write(render(data, formats[0]))
        return
    target = out_path or Path("reports")
    if single and not target.is_dir() and target.suffix:
        from harness.report.journal import write_atomic

        write_atomic(target, render(data, formats[0]), mode=0o644)
        written = [target]
    else:
        if str(target) == "-":
            _fail(EXIT_INPUT, "--out -: standard output takes one --format only")
        written = write_reports(data, target, formats)
    for path in written:
        out.print(f"report: {path}", markup=False, highlight=False)


def _fmt(value: object, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}{unit}"
    return f"{value}{unit}"


def _print_summary(results: list[DrillResult]) -> None:

    table = Table(title="recovery-drill results", show_lines=False)
    for column in (
        "scenario",
        "engine",
        "verdict",
        "RTO",
        "RPO",
        "acked",
        "lost",
        "holes",
        "data",
        "seed rows lost",
        "host",
        "journal",
    ):
        table.add_column(column)
    styles = {
        "pass": "green",
        "fail": "red",
        "inconclusive": "yellow",
        "error": "magenta",
        "unrecoverable": "blue",
    }
    notes: list[str] = []
    for r in results:
        m = r.record.measured
        verified = m.data_verified
        table.add_row(
            Text(r.scenario + (f" / {r.strategy}" if r.strategy else "")),
            Text(r.engine),
            Text(r.verdict.value, style=styles[r.verdict.value]),
            _fmt(m.rto_s, " s"),
            _fmt(m.rpo_s, " s"),
            _fmt(m.acked_writes),
            _fmt(m.lost_writes),
            _fmt(m.holes),
            "-" if verified is None else ("verified" if verified else "MISMATCH"),
            _fmt(m.seed_rows_lost),
            _host_cell(r.record),
            Text(str(r.journal_path)),
        )
        for reason in r.record.reasons:
            label = r.scenario + (f" / {r.strategy}" if r.strategy else "")
            notes.append(f"{label} on {r.engine}: {reason}")
        if r.record.host is not None and r.record.host.saturated:
            label = r.scenario + (f" / {r.strategy}" if r.strategy else "")
            notes.append(f"{label} on {r.engine}: {saturated_text(r.record.host)}")
    out.print(table)
    for note in notes:
        out.print(f"  - {note}", markup=False, highlight=False)


def _host_cell(record: DrillRecord) -> Text:
    """The host column: CPU stall share (or peak load on the CPUs), red when saturated."""
    host = record.host
    if host is None or (host.load_1m_max is None and host.cpu_stall_share is None):
        return Text("-")
    if host.cpu_stall_share is not None:
        text = f"stall {host.cpu_stall_share:.0%}"
    else:
        text = f"load {host.load_1m_max:.1f}/{host.cpus}"
    text += " SATURATED" if host.saturated else ""
    return Text(text, style="red" if host.saturated else "")


def saturated_text(host: HostLoad) -> str:
    """The note under the results table for a drill run on a saturated host."""
    parallel = f", {host.jobs} drills at once" if host.jobs > 1 else ""
    stall = (
        f"work waited for a CPU {host.cpu_stall_share:.0%} of the time, "
        if host.cpu_stall_share is not None
        else ""
    )
    return (
        f"saturated host: {stall}load average up to {host.load_1m_max} on {host.cpus} CPUs"
        f"{parallel}; its RTO measures the host as much as the recovery"
    )


@app.command()
def explore(
    scenario: Annotated[Path, typer.Argument(help="A scenario file with an `explore:` section.")],
    budget: Annotated[
        int, typer.Option("--budget", min=1, help="Real drills to run at most, shrinking included.")
    ] = 20,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the search.")] = None,
    engine: Annotated[
        str | None, typer.Option("--engine", "-e", help="Engine (default: the scenario's first).")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Output folder: drills' journals, hypothesis's example database (a later "
            "search here resumes and replays), explore.json and the minimal failing scenario "
            "(default reports/explore-<scenario>).",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Search variations of a scenario (hypothesis, real drills) for one that breaks a property;
    shrink it and write the minimal failing scenario as YAML. Exit 1 when one was found, 0 when
    the budget found none, 2 bad input, 3 infrastructure failure."""
    from harness.explore import InfrastructureStop, Trial
    from harness.explore import explore as search

    _setup_logging(verbose)
    signal.signal(signal.SIGTERM, _on_sigterm)
    out_path = out_dir or Path("reports") / f"explore-{scenario.stem}"

    def on_trial(trial: Trial, n: int) -> None:
        values = ", ".join(f"{k}={v}" for k, v in trial.values.items())
        verdict = "BROKE " + "; ".join(trial.broken) if trial.broken else "held"
        err.print(
            f"[drill {n}/{budget}] {values}: {trial.verdict}, RTO {_fmt(trial.rto_s, ' s')}, "
            f"RPO {_fmt(trial.rpo_s, ' s')}, lost {_fmt(trial.lost_writes)}: {verdict}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )

    try:
        outcome = search(
            scenario, engine=engine, budget=budget, seed=seed, out=out_path, on_trial=on_trial
        )
    except ScenarioError as exc:
        _fail(EXIT_INPUT, str(exc))
    except InputError as exc:
        _fail(EXIT_INPUT, str(exc))
    except InfrastructureStop as exc:
        _fail(EXIT_INFRA, f"search stopped: a drill failed on the infrastructure: {exc}")
    except KeyboardInterrupt:
        _fail(EXIT_INTERRUPTED, "interrupted: the lab of the current drill was removed")
    say = f"{outcome.drills} drills in {outcome.wall_s:.0f} s"
    if outcome.found is None or outcome.trial is None:
        out.print(f"no variation broke a property ({say}); search state in {out_path}")
        raise typer.Exit(EXIT_OK)
    out.print(f"found a failing variation ({say}), shrunk to:", markup=False, highlight=False)
    for key, value in outcome.found.items():
        out.print(f"  {key}: {value}", markup=False, highlight=False)
    for reason in outcome.trial.broken:
        out.print(f"  broke {reason}", markup=False, highlight=False)
    out.print(
        f"minimal failing scenario: {outcome.minimal_path} "
        f"(reproduce: recovery-drill run {outcome.minimal_path} -e {engine or '<engine>'})",
        markup=False,
        highlight=False,
    )
    raise typer.Exit(EXIT_FAIL)


@app.command("list")
def list_scenarios(
    folder: Annotated[Path, typer.Argument(help="Folder of scenario files.")] = Path("scenarios"),
) -> None:
    """List scenarios with their summary, engines and expected outcome."""
    from harness.validation import load_scenarios

    files = sorted(folder.rglob("*.yaml"))
    try:
        loaded = load_scenarios(files)
    except ScenarioError as exc:
        _fail(EXIT_INPUT, str(exc))
    table = Table(title=f"scenarios in {folder}")
    for column in ("scenario", "file", "engines", "expected", "summary"):
        table.add_column(column)
    for path, s in loaded:
        expects = [(x.name, x.expect) for x in s.strategies] or [("", s.expect)]
        expected = "; ".join(
            (f"{name}: " if name else "")
            + f"objectives {e.objectives}"
            + ("" if e.recovered else ", unrecoverable")
            + ("" if e.data_verified else ", data not verified")
            for name, e in expects
        )
        # Text cells: a file name or a summary is shown as written, never read as markup.
        table.add_row(
            *(Text(v) for v in (s.name, str(path.relative_to(folder)), ", ".join(s.engines))),
            Text(expected),
            Text(s.summary),
        )
    out.print(table)


@app.command()
def cleanup(
    run_id: Annotated[
        str | None,
        typer.Option(
            "--run",
            help="Only this run: removed when its owner process is gone (or not named); "
            "a live run, or one of another host, only with --force.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="With --run: remove that run even if its owner process is alive."
        ),
    ] = False,
    history: Annotated[
        str, typer.Option("--history", envvar="RECOVERY_DRILL_HISTORY", help=HISTORY_HELP)
    ] = DEFAULT_HISTORY,
) -> None:
    """Reap what killed runs left: remove the resources (labelled by recovery-drill) of runs
    whose owner process is gone, and mark their journals `killed` in the run folder and the
    history. Resources of a live run, of another host's run and of a run that names no owner
    are left alone, each with the reason printed."""
    from harness.lab.docker_client import docker_client
    from harness.report.history import History

    if run_id is not None and not run_id.strip():
        _fail(EXIT_INPUT, "--run '': expected a run id (its folder name under --out of `run`)")
    if force and run_id is None:
        _fail(EXIT_INPUT, "--force needs --run ID: it removes one named run, never every run")
    try:
        client = docker_client()
    except HarnessError as exc:
        _fail(EXIT_INFRA, str(exc))
    stores: list[History] = []

    def record(killed: DrillRecord) -> None:
        if not stores:  # opened only when there is a killed run to record
            stores.append(History.open(history))
        stores[0].record(killed)

    try:
        code = _reap(client, record=record, run_id=run_id, force=force, console=out)
    finally:
        for store in stores:
            store.close()
    raise typer.Exit(code)


def _reap(
    client: DockerClient,
    *,
    record: Callable[[DrillRecord], None],
    run_id: str | None = None,
    force: bool = False,
    console: Console,
    only_reaped: bool = False,
) -> int:
    """Reap dead runs (see ``cleanup``) and say what was done (and, unless ``only_reaped``,
    what was left alone and why); exit 3 when a removal or a history record failed."""
    from harness.runner.reap import reap_killed

    failures: list[str] = []

    def recorded(killed: DrillRecord) -> None:
        try:
            record(killed)
        except HarnessError as exc:
            failures.append(f"could not record killed run {killed.run_id} in the history: {exc}")

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    try:
        reaping, runs = reap_killed(client, run_id=run_id, force=force, record=recorded)
    except HarnessError as exc:
        err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        return EXIT_INFRA
    for reaped in runs:
        found, owner = reaped.found, reaped.found.owner
        whose = f"owner process {owner.pid} on {owner.host}" if owner else "no owner named"
        say(f"reaped run {found.run_id} ({whose}: {found.liveness}): {reaped.note}")
    if not only_reaped:
        for found, why in reaping.left:
            say(f"left alone run {found.run_id} ({found.resources} resources): {why}")
        say(f"removed {reaping.removed} resources")
    for failure in failures:
        err.print(failure, markup=False, highlight=False, soft_wrap=True)
    return EXIT_INFRA if failures else EXIT_OK


def _reaper(store: History) -> Callable[[DockerClient], object]:
    """Before the first drill of a run: reap what killed runs left (printing only the reaped)."""
    reaped: list[bool] = []

    def reap(client: DockerClient) -> None:
        if not reaped:
            reaped.append(True)
            _reap(client, record=store.record, console=err, only_reaped=True)

    return reap


@app.command("restore-test")
def restore_test_command(
    source: Annotated[
        str,
        typer.Argument(
            help="A dump file, a dump folder, a pgBackRest repository folder, or an "
            "s3://BUCKET/KEY[?versionId=V] object (with --endpoint-url)."
        ),
    ],
    engine: Annotated[str, typer.Option("--engine", "-e", help="Engine that restores it.")],
    checks_file: Annotated[
        Path | None,
        typer.Option("--checks", help="YAML file of checks: name, sql, expect {value|min|max}."),
    ] = None,
    rto_s: Annotated[
        float | None, typer.Option("--rto-s", help="Fail if fetch + restore + verify is longer.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Catalog name.")] = None,
    backup_set: Annotated[
        str | None,
        typer.Option("--set", help="pgBackRest repository: the set to restore (newest)."),
    ] = None,
    image: Annotated[str | None, typer.Option("--image", help="Server image to use.")] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="The database the backup was taken of, as `audit` and `gate` name it "
            "[default: what the dump's header says, where it says it].",
        ),
    ] = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML here.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write JSON here.")] = None,
    history: Annotated[
        str, typer.Option("--history", envvar="RECOVERY_DRILL_HISTORY", help=HISTORY_HELP)
    ] = DEFAULT_HISTORY,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
    endpoint_url: Annotated[
        str | None,
        typer.Option("--endpoint-url", help="s3:// source: the S3 API endpoint [AWS's]."),
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="s3:// source: the region [AWS_DEFAULT_REGION].")
    ] = None,
    access_key_env: Annotated[
        str,
        typer.Option("--access-key-env", help="s3:// source: the variable holding the key id."),
    ] = "AWS_ACCESS_KEY_ID",
    secret_key_env: Annotated[
        str,
        typer.Option("--secret-key-env", help="s3:// source: the variable holding the secret."),
    ] = "AWS_SECRET_ACCESS_KEY",
) -> None:
    """Restore a backup made outside the tool into a scratch server: time to fetch, restore
    and verified read+write; the team's checks; catalogued in the history (exit 0/1/3)."""
    from harness.backups.s3source import S3Access
    from harness.engines import engine_names
    from harness.report.history.external import record_restore_test
    from harness.report.restore_tests import write_json, write_junit
    from harness.runner.restore_test import restore_test
    from harness.scenario.checks import load_checks

    _setup_logging(verbose)
    if engine not in engine_names():
        _fail(EXIT_INPUT, f"unknown engine {engine!r} (known: {', '.join(engine_names())})")
    if rto_s is not None and rto_s <= 0:
        _fail(EXIT_INPUT, "--rto-s must be positive")
    try:
        checks = load_checks(checks_file) if checks_file else []
    except ScenarioError as exc:
        _fail(EXIT_INPUT, str(exc))
    store = _open_history(history)
    try:
        result = restore_test(
            source,
            engine_name=engine,
            checks=checks,
            rto_s=rto_s,
            image=image,
            name=name,
            backup_set=backup_set,
            database=database,
            s3=S3Access(endpoint_url, region, access_key_env, secret_key_env),
        )
    except KeyboardInterrupt:
        store.close()
        _fail(EXIT_INTERRUPTED, "interrupted: the restore test's lab was removed")
    except InputError as exc:
        store.close()
        _fail(EXIT_INPUT, str(exc))
    if json_out:
        write_json(result, json_out)
    if junit:
        write_junit(result, junit)
    code = {"pass": EXIT_OK, "fail": EXIT_FAIL}.get(result.status, EXIT_INFRA)
    try:
        record_restore_test(store.db, result)
    except HarnessError as exc:
        err.print(f"could not record the restore test in the history: {exc}", markup=False)
        code = worst([code, EXIT_INFRA])
    store.close()
    figures = ", ".join(
        f"{k} {v:.2f} s"
        for k, v in (
            ("fetch", result.fetch_s),
            ("restore", result.restore_s),
            ("verified read+write", result.verify_s),
            ("RTO", result.rto_s),
        )
        if v is not None
    )
    out.print(
        f"restore-test {result.location} on {result.engine}: {result.status.upper()} "
        f"({result.verification}; {figures or 'no figures'})",
        markup=False,
        highlight=False,
    )
    for check in result.data_checks:
        mark = "ok" if check.passed else "FAILED"
        out.print(
            f"  check {check.name}: {mark} (expected {check.expected}, got {check.actual})",
            markup=False,
            highlight=False,
        )
    if result.reason:
        err.print(f"  {result.reason}", markup=False, highlight=False)
    raise typer.Exit(code)


@app.command()
def catalog(
    history: Annotated[
        str, typer.Option("--history", envvar="RECOVERY_DRILL_HISTORY", help=HISTORY_HELP)
    ] = DEFAULT_HISTORY,
) -> None:
    """List catalogued backups (restore-tested external ones and drills' own), and when each
    was last proven restorable."""
    from rich.table import Table

    from harness.report.history.external import catalog as catalog_rows

    store = _open_history(history, must_exist=True)
    rows = catalog_rows(store.db)
    store.close()
    table = Table(title="backup catalog")
    for column in (
        "origin",
        "name",
        "engine",
        "type",
        "size",
        "verification",
        "last tested",
        "last status",
        "last proven restorable",
        "location",
    ):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.origin,
            r.name,
            r.engine,
            r.backup_type,
            _fmt(r.size_bytes),
            r.verification,
            r.last_tested_at or "-",
            r.last_status or "-",
            r.last_restorable_at or "never",
            r.location,
        )
    out.print(table)


# --- seed 001's audit and migration gate ------------------------------------------------------
FORMAT_HELP = "table (the terminal), json, markdown or junit."
OUT_HELP = "Write the json/markdown/junit output to this file instead of standard output."
REMOTE_HELP = "Allow a database that is not on this machine's loopback (127.0.0.1, ::1)."


def _existing_history(location: str) -> History | None:
    """The history to read proofs from; None when a local one was never created (an audit
    reads, it does not create a history)."""
    if "://" not in location and not Path(location).exists():
        return None
    return _open_history(location)


def _audit_format(fmt: str) -> str:
    from harness.audit.render import FORMATS

    if fmt not in FORMATS:
        _fail(EXIT_INPUT, f"--format {fmt}: use one of {', '.join(FORMATS)}")
    return fmt


def _emit(text: str, out_file: Path | None) -> None:
    from harness.report.journal import write_atomic

    if out_file is None:
        sys.stdout.write(text)
        return
    try:
        write_atomic(out_file, text, mode=0o644)
    except OSError as exc:
        _fail(EXIT_INPUT, f"{out_file}: cannot write: {exc.strerror}")
    out.print(f"wrote {out_file}", markup=False, highlight=False)


@app.command()
def audit(
    url: Annotated[
        str,
        typer.Argument(
            help="postgresql://USER[:PASS]@HOST[:PORT]/DB, "
            "mariadb://..., mysql://..., sqlserver://..."
        ),
    ],
    fmt: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)] = "table",
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help=OUT_HELP)] = None,
    allow_remote: Annotated[bool, typer.Option("--allow-remote", help=REMOTE_HELP)] = False,
    history: Annotated[
        str, typer.Option("--history", envvar="RECOVERY_DRILL_HISTORY", help=HISTORY_HELP)
    ] = DEFAULT_HISTORY,
) -> None:
    """Seed 001's 60-second audit of a live database, read-only: backup tracking, tables by
    size and statistics age, migration tables, PITR capability, replication, and the last
    restore test the history holds. Exit 0 when nothing is critical, 1 otherwise, 2 bad input,
    3 the database cannot be reached."""
    from harness.audit.audit import run_audit
    from harness.audit.render import audit_table, render_audit
    from harness.audit.target import parse_target

    fmt = _audit_format(fmt)
    try:
        target = parse_target(url, allow_remote=allow_remote)
    except InputError as exc:
        _fail(EXIT_INPUT, str(exc))
    store = _existing_history(history)
    try:
        report = run_audit(target, history=store, history_where=history)
    except InfrastructureError as exc:
        _fail(EXIT_INFRA, str(exc))
    finally:
        if store is not None:
            store.close()
    if fmt == "table" and out_file is None:
        audit_table(report, out)
    else:
        _emit(render_audit(report, "json" if fmt == "table" else fmt), out_file)
    raise typer.Exit(EXIT_OK if report.passed else EXIT_FAIL)


@app.command()
def gate(
    url: Annotated[str, typer.Argument(help="The database about to be migrated (as for audit).")],
    checklist: Annotated[
        Path | None,
        typer.Option("--checklist", help="Seed 001's migration safety checklist (YAML)."),
    ] = None,
    max_backup_age: Annotated[
        str,
        typer.Option(
            "--max-backup-age", help="The restore-tested backup must be younger: 90m, 24h, 7d."
        ),
    ] = "24h",
    fmt: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)] = "table",
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help=OUT_HELP)] = None,
    allow_remote: Annotated[bool, typer.Option("--allow-remote", help=REMOTE_HELP)] = False,
    history: Annotated[
        str, typer.Option("--history", envvar="RECOVERY_DRILL_HISTORY", help=HISTORY_HELP)
    ] = DEFAULT_HISTORY,
) -> None:
    """The migration safety gate, as a CI step before a migration: passes only with a
    restore-tested backup of this database younger than --max-backup-age (data verified),
    point-in-time recovery in place, and every checklist item done with evidence. Exit 0 pass,
    1 blocked (each failing item named with what would satisfy it), 2 bad input, 3 the
    database cannot be reached."""
    from harness.audit.checklist import load_checklist
    from harness.audit.gate import parse_age, run_gate
    from harness.audit.render import gate_table, render_gate
    from harness.audit.target import parse_target

    fmt = _audit_format(fmt)
    try:
        max_age_s = parse_age(max_backup_age)
    except ValueError as exc:
        _fail(EXIT_INPUT, f"--max-backup-age: {exc}")
    try:
        target = parse_target(url, allow_remote=allow_remote)
        loaded = load_checklist(checklist) if checklist is not None else None
    except InputError as exc:
        _fail(EXIT_INPUT, str(exc))
    store = _existing_history(history)
    try:
        result = run_gate(target, history=store, checklist=loaded, max_backup_age_s=max_age_s)
    except InfrastructureError as exc:
        _fail(EXIT_INFRA, str(exc))
    finally:
        if store is not None:
            store.close()
    if fmt == "table" and out_file is None:
        gate_table(result, out)
    else:
        _emit(render_gate(result, "json" if fmt == "table" else fmt), out_file)
    raise typer.Exit(EXIT_OK if result.passed else EXIT_FAIL)


def main() -> None:
    """Console-script entry point: exit codes as documented above, never a traceback for input."""
    try:
        app()
    except HarnessError as exc:  # pragma: no cover - commands translate their own errors
        err.print(str(exc), markup=False)
        sys.exit(error_exit(exc))
    except KeyboardInterrupt as exc:
        sys.exit(error_exit(exc))


if __name__ == "__main__":
    main()
