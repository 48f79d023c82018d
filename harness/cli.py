"""The command line, and the only place that maps outcomes and exceptions to exit codes.

Exit codes: 0 every drill met its expectations; 1 a drill missed them; 2 invalid input or
usage; 3 infrastructure failure (no Docker engine, image missing, a container failed);
4 inconclusive (a fault did not take effect); 130 interrupted. When several drills run, the
most severe code wins, in the order 3, 1, 4, 0.
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

from harness.errors import HarnessError, InputError, SafetyError, ScenarioError
from harness.verdict import Verdict

if TYPE_CHECKING:
    from harness.runner import DrillResult

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_INFRA, EXIT_INCONCLUSIVE, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
VERDICT_EXIT = {
    Verdict.PASS: EXIT_OK,
    Verdict.FAIL: EXIT_FAIL,
    Verdict.INCONCLUSIVE: EXIT_INCONCLUSIVE,
    Verdict.ERROR: EXIT_INFRA,
}
SEVERITY = [EXIT_INFRA, EXIT_FAIL, EXIT_INCONCLUSIVE, EXIT_OK]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Chaos recovery drills for databases: break real servers, recover, measure RTO and RPO.",
)
# Wide enough that tables stay readable in CI logs, where there is no terminal to measure.
out = Console(width=None if sys.stdout.isatty() else 180)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 180)
log = logging.getLogger("harness")


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
    err.print(message, markup=False, highlight=False)
    raise typer.Exit(code)


def worst(codes: list[int]) -> int:
    """The most severe exit code of several drills (3, then 1, then 4, then 0)."""
    for code in SEVERITY:
        if code in codes:
            return code
    return EXIT_OK


def _on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files to check.")],
) -> None:
    """Check scenario files; print every problem as FILE:LINE: path: message (exit 2 if any)."""
    from harness.scenario import load_scenarios

    try:
        loaded = load_scenarios(files)
    except ScenarioError as exc:
        _fail(EXIT_INPUT, str(exc))
    for path, scenario in loaded:
        out.print(f"{path}: ok ({scenario.name}: {', '.join(scenario.engines)})", highlight=False)


@app.command()
def run(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario files to run.")],
    engine: Annotated[
        list[str] | None,
        typer.Option(
            "--engine", "-e", help="Engine to run on (repeatable); default: the scenario's engines."
        ),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder for journals.")] = Path(
        "reports"
    ),
    image: Annotated[
        list[str] | None,
        typer.Option(
            "--image", help="ENGINE=IMAGE to run instead of the default image (repeatable)."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Run drills; write OUT/<run-id>/journal.json for each and print a summary."""
    from harness.engines import engine_names
    from harness.progress import make_progress
    from harness.runner import Drill
    from harness.scenario import load_scenarios

    _setup_logging(verbose)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        loaded = load_scenarios(scenarios)
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
    plan: list[tuple[Path, str]] = []
    for path, scenario in loaded:
        chosen = engine or scenario.engines
        for name in chosen:
            if name not in scenario.engines:
                _fail(
                    EXIT_INPUT,
                    f"{path}: scenario {scenario.name!r} does not support engine "
                    f"{name!r} (it lists {', '.join(scenario.engines)})",
                )
            plan.append((path, name))

    results: list[DrillResult] = []
    progress = make_progress(err, quiet=quiet)
    try:
        for path, name in plan:
            scenario = next(s for p, s in loaded if p == path)
            drill = Drill(
                scenario,
                source=path,
                engine=name,
                out_dir=out_dir,
                image=images.get(name),
                progress=progress,
            )
            results.append(drill.run())
    except KeyboardInterrupt:
        _fail(EXIT_INTERRUPTED, "interrupted: the lab of the current drill was removed")
    except SafetyError as exc:
        _fail(EXIT_INFRA, f"refused: {exc}")
    except InputError as exc:
        _fail(EXIT_INPUT, str(exc))
    _print_summary(results)
    raise typer.Exit(worst([VERDICT_EXIT[r.verdict] for r in results]))


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
        "journal",
    ):
        table.add_column(column)
    styles = {"pass": "green", "fail": "red", "inconclusive": "yellow", "error": "magenta"}
    notes: list[str] = []
    for r in results:
        j, m = r.journal, r.journal["measured"]
        verified = m.get("data_verified")
        table.add_row(
            r.scenario,
            r.engine,
            f"[{styles[r.verdict.value]}]{r.verdict.value}[/]",
            _fmt(m.get("rto_s"), " s"),
            _fmt(m.get("rpo_s"), " s"),
            _fmt(m.get("acked_writes")),
            _fmt(m.get("lost_writes")),
            _fmt(m.get("holes")),
            "-" if verified is None else ("verified" if verified else "MISMATCH"),
            str(r.journal_path),
        )
        for reason in j.get("reasons", []):
            notes.append(f"{r.scenario} on {r.engine}: {reason}")
    out.print(table)
    for note in notes:
        out.print(f"  - {note}", markup=False, highlight=False)


@app.command("list")
def list_scenarios(
    folder: Annotated[Path, typer.Argument(help="Folder of scenario files.")] = Path("scenarios"),
) -> None:
    """List scenarios with their summary, engines and expected outcome."""
    from harness.scenario import load_scenarios

    files = sorted(folder.glob("*.yaml"))
    try:
        loaded = load_scenarios(files)
    except ScenarioError as exc:
        _fail(EXIT_INPUT, str(exc))
    table = Table(title=f"scenarios in {folder}")
    for column in ("scenario", "engines", "expected", "summary"):
        table.add_column(column)
    for _, s in loaded:
        expected = f"objectives {s.expect.objectives}" + (
            "" if s.expect.recovered else ", unrecoverable"
        )
        table.add_row(s.name, ", ".join(s.engines), expected, s.summary)
    out.print(table)


@app.command()
def cleanup(
    run_id: Annotated[str | None, typer.Option("--run", help="Only this run's resources.")] = None,
) -> None:
    """Remove what interrupted runs left (only resources labelled by recovery-drill)."""
    from harness.lab.docker_client import docker_client
    from harness.lab.lab import remove_resources

    try:
        removed = remove_resources(docker_client(), run_id=run_id)
    except HarnessError as exc:
        _fail(EXIT_INFRA, str(exc))
    out.print(f"removed {removed} resources")


def main() -> None:
    """Console-script entry point: exit codes as documented above, never a traceback for input."""
    try:
        app()
    except HarnessError as exc:  # pragma: no cover - commands translate their own errors
        err.print(str(exc), markup=False)
        sys.exit(EXIT_INPUT if isinstance(exc, InputError) else EXIT_INFRA)
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    main()
