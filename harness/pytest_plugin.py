"""The pytest plugin: scenario and drill plan files as test items, fixtures for drills in Python.

Registered through the ``pytest11`` entry point, so installing recovery-drill is enough:

    pytest scenarios/                      every scenario there, one item per engine and strategy
    pytest drills/nightly.yaml             a plan's drills, with the plan's objectives
    pytest scenarios/ --drill-engine postgres --drill-out reports/pytest --junitxml junit.xml

**Which YAML files become drills.** Only files named on the command line, files under a
folder named on the command line unless that folder lies in the project's ``testpaths``, and
files under a folder listed in the ``drill_paths`` ini option. A plain ``pytest`` (which walks
``testpaths``) and ``pytest tests/`` never drill the YAML fixtures of a project's own test
tree; ``pytest tests/x/scenario.yaml`` (a file named explicitly) does. A YAML file that is
neither a scenario nor a plan (no top-level ``name:``/``drills:`` key) is not collected; one
that is but does not validate is a collection error with every ``FILE:LINE: message``.

**Outcomes.** The drill runs in the item's set-up; the test body checks the verdict:
``pass`` and ``unrecoverable`` (the expected outcome of such a drill) pass, ``fail`` fails with
the verdict's reasons, ``inconclusive`` (a fault did not take effect) and ``error`` (the
infrastructure failed) are pytest *errors*, not failures. An engine whose image is not
available here is skipped with the reason, unless ``--drill-engine`` names it (then error).
Each item records the journal path, run id, verdict, RTO, RPO, acked and lost writes as
``record_property`` values, which ``--junitxml`` writes as JUnit ``<property>`` elements.

**Fixtures** for teams whose drills are code: ``drill_out`` (the output folder),
``run_drill`` (run a scenario file, a ``Scenario`` or a mapping; returns the ``DrillResult``
whose ``.record`` is the typed journal, and records its properties), ``drill_result`` and
``drill_record`` (the drill named by ``@pytest.mark.drill("scenarios/x.yaml", engine=...)``)
and ``drill_lab`` (a running, labelled lab, removed after the test).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.errors import EngineUnavailable, ScenarioError
from harness.measurement.verdict import Verdict

if TYPE_CHECKING:
    from harness.lab.lab import Lab
    from harness.plan import PlannedDrill
    from harness.record import DrillRecord
    from harness.runner import DrillResult
    from harness.scenario.model import Scenario

YAML_SUFFIXES = (".yaml", ".yml")
PASSING = (Verdict.PASS, Verdict.UNRECOVERABLE)
ERRORS = (Verdict.INCONCLUSIVE, Verdict.ERROR)
DEFAULT_OUT = "reports/pytest"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("recovery-drill", "recovery-drill: scenario files as tests")
    group.addoption(
        "--drill-engine",
        action="append",
        default=[],
        metavar="ENGINE",
        help="Run drills only on this engine (repeatable); an engine named here whose image "
        "is missing is an error, not a skip.",
    )
    group.addoption(
        "--drill-out",
        default=None,
        metavar="DIR",
        help=f"Output folder for the drills' journals (default {DEFAULT_OUT}).",
    )
    parser.addini(
        "drill_paths",
        type="paths",
        default=[],
        help="Folders whose scenario and plan YAML files are collected as drills even when "
        "not named on the command line.",
    )
    parser.addini("drill_out", default="", help=f"Journal folder (default {DEFAULT_OUT}).")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "drill(scenario, engine=None, strategy=None): the drill the drill_result and "
        "drill_record fixtures run",
    )


# -- which files are drills -----------------------------------------------------------------
def _roots(config: pytest.Config) -> list[Path]:
    """Paths named on the command line, outside the project's own ``testpaths`` (so
    ``pytest tests/`` does not drill the YAML fixtures there), and the drill_paths folders."""
    roots: list[Path] = [Path(p).resolve() for p in config.getini("drill_paths")]
    if config.args_source is pytest.Config.ArgsSource.ARGS:
        tests = [(config.rootpath / t).resolve() for t in config.getini("testpaths")]
        for arg in config.args:
            path = Path(arg.split("::", 1)[0])
            if not path.is_absolute():
                path = Path(config.invocation_params.dir) / path
            path = path.resolve()
            if path.suffix in YAML_SUFFIXES or not wants_drills_from(path, tests):
                roots.append(path)
    return roots


def wants_drills_from(path: Path, roots: list[Path]) -> bool:
    """True when ``path`` is one of ``roots`` or lies under one."""
    path = path.resolve()
    return any(path == root or root in path.parents for root in roots)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in YAML_SUFFIXES:
        return None
    if not wants_drills_from(file_path, _roots(parent.config)):
        return None
    from harness.scenario.loader import read_yaml

    try:
        data, _ = read_yaml(file_path)
    except ScenarioError:
        data = {"name": None}  # let the file's own collection report the problem
    if not isinstance(data, dict) or not ({"name", "drills"} & set(data)):
        return None
    return DrillFile.from_parent(parent, path=file_path)


class DrillFile(pytest.File):
    """A scenario or plan file: one item per engine (and per strategy)."""

    def collect(self) -> Iterator[pytest.Item]:
        from harness.plan import PlannedDrill, load_inputs

        try:
            inputs = load_inputs([self.path])
        except ScenarioError as exc:
            raise self.CollectError(str(exc)) from None
        chosen = self.config.getoption("drill_engine")
        planned = [PlannedDrill(p, s, e) for p, s in inputs.scenarios for e in s.engines]
        planned += [d for plan in inputs.plans for d in plan.drills]
        for drill in planned:
            if chosen and drill.engine not in chosen:
                continue
            strategies: list[str | None] = [s.name for s in drill.scenario.strategies] or [None]
            for strategy in strategies:
                name = drill.scenario.name + (f"/{strategy}" if strategy else "")
                yield DrillItem.from_parent(
                    self,
                    name=f"{name}[{drill.engine}]",
                    planned=drill,
                    strategy=strategy,
                )


class DrillFailed(AssertionError):
    """The drill missed its expectations; the message is the verdict's reasons."""


class DrillError(Exception):
    """The drill was inconclusive or the infrastructure failed: a pytest error."""


class DrillItem(pytest.Item):
    """One drill: run in set-up, judged in the test body."""

    def __init__(self, *, planned: PlannedDrill, strategy: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.planned = planned
        self.strategy = strategy
        self.result: DrillResult | None = None
        self.add_marker(pytest.mark.drill)

    def setup(self) -> None:
        engine = self.planned.engine
        explicit = engine in self.config.getoption("drill_engine")
        if not explicit:
            why = _image_missing(self.config, engine, self.planned.scenario)
            if why:
                pytest.skip(f"engine {engine}: {why}")
        self.result = _run(self.config, self.planned, strategy=self.strategy)
        record_result(self.user_properties, self.result)
        if self.result.verdict in ERRORS:
            raise DrillError(_explain(self.result))

    def runtest(self) -> None:
        assert self.result is not None
        if self.result.verdict not in PASSING:
            raise DrillFailed(_explain(self.result))

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        if isinstance(excinfo.value, DrillFailed | DrillError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"drill {self.name}"


def _explain(result: DrillResult) -> str:
    label = result.scenario + (f" / {result.strategy}" if result.strategy else "")
    lines = [f"{label} on {result.engine}: verdict {result.verdict.value}"]
    lines += [f"  - {reason}" for reason in result.record.reasons]
    lines.append(f"journal: {result.journal_path}")
    return "\n".join(lines)


def record_result(properties: list[tuple[str, object]], result: DrillResult) -> None:
    """The drill's figures as JUnit properties (what ``record_property`` appends to)."""
    m = result.record.measured
    properties.extend(
        [
            ("journal", str(result.journal_path)),
            ("run_id", result.run_id),
            ("verdict", result.verdict.value),
            ("rto_s", "" if m.rto_s is None else m.rto_s),
            ("rpo_s", "" if m.rpo_s is None else m.rpo_s),
            ("acked_writes", "" if m.acked_writes is None else m.acked_writes),
            ("lost_writes", "" if m.lost_writes is None else m.lost_writes),
        ]
    )
    host = getattr(result.record, "host", None)
    if host is not None:
        properties.append(("host_saturated", str(host.saturated).lower()))
        if host.cpu_stall_share is not None:
            properties.append(("host_cpu_stall_share", host.cpu_stall_share))


def _out_dir(config: pytest.Config) -> Path:
    chosen = config.getoption("drill_out") or config.getini("drill_out") or DEFAULT_OUT
    path = Path(chosen)
    return path if path.is_absolute() else Path(config.invocation_params.dir) / path


_IMAGE_CACHE = pytest.StashKey[dict[str, str | None]]()


def _image_missing(config: pytest.Config, engine: str, scenario: Scenario) -> str | None:
    """Why ``engine`` cannot run here (no image, no Docker engine), or None; cached per run."""
    from harness.engines import get_engine
    from harness.lab.docker_client import docker_client
    from harness.lab.images import resolve_image

    cache = config.stash.setdefault(_IMAGE_CACHE, {})
    key = f"{engine}={scenario.images.get(engine) or ''}"
    if key not in cache:
        try:
            adapter = get_engine(engine)
            resolve_image(
                docker_client(),
                engine=engine,
                requested=scenario.images.get(engine),
                default=adapter.default_image,
                local_build=adapter.local_image,
            )
            cache[key] = None
        except EngineUnavailable as exc:
            cache[key] = str(exc)
    return cache[key]


def _run(config: pytest.Config, planned: PlannedDrill, *, strategy: str | None) -> DrillResult:
    from harness.runner import Drill

    return Drill(
        planned.scenario,
        source=planned.source,
        engine=planned.engine,
        out_dir=_out_dir(config),
        strategy=strategy,
    ).run()


# -- fixtures: drills written in Python -------------------------------------------------------
@pytest.fixture
def drill_out(request: pytest.FixtureRequest) -> Path:
    """The folder journals go to (``--drill-out``, default reports/pytest)."""
    return _out_dir(request.config)


@pytest.fixture
def run_drill(request: pytest.FixtureRequest, drill_out: Path) -> Callable[..., DrillResult]:
    """Run a drill and return its ``DrillResult`` (``.verdict``, ``.record``: the typed
    journal, ``.journal_path``); its figures become this test's JUnit properties.

    ``run_drill(scenario, engine="postgres", strategy=None, out_dir=None)`` takes a scenario
    file path, a ``Scenario``, or a mapping with a scenario's keys (validated like a file).
    """
    from harness.plan import PlannedDrill

    def run(
        scenario: str | Path | Scenario | Mapping[str, Any],
        *,
        engine: str | None = None,
        strategy: str | None = None,
        out_dir: Path | None = None,
    ) -> DrillResult:
        source, loaded = _scenario(scenario, drill_out)
        chosen = engine or loaded.engines[0]
        planned = PlannedDrill(source, loaded, chosen)
        from harness.runner import Drill

        result = Drill(
            loaded,
            source=planned.source,
            engine=chosen,
            out_dir=out_dir or drill_out,
            strategy=strategy,
        ).run()
        record_result(request.node.user_properties, result)
        return result

    return run


def _scenario(
    scenario: str | Path | Scenario | Mapping[str, Any], out: Path
) -> tuple[Path, Scenario]:
    from harness.scenario.model import Scenario
    from harness.validation import load_scenario

    if isinstance(scenario, Scenario):
        return Path(f"<{scenario.name}>"), scenario
    if isinstance(scenario, Mapping):
        import yaml

        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{scenario.get('name', 'scenario')}.yaml"
        path.write_text(yaml.safe_dump(dict(scenario), sort_keys=False), encoding="utf-8")
        scenario = path
    path = Path(scenario)
    return path, load_scenario(path)


@pytest.fixture
def drill_result(
    request: pytest.FixtureRequest, run_drill: Callable[..., DrillResult]
) -> DrillResult:
    """The drill named by the test's ``@pytest.mark.drill(scenario, engine=, strategy=)``."""
    marker = request.node.get_closest_marker("drill")
    if marker is None or not marker.args:
        raise pytest.UsageError(
            f"{request.node.nodeid}: drill_result needs @pytest.mark.drill(SCENARIO, engine=...)"
        )
    scenario = marker.args[0]
    if isinstance(scenario, str | Path) and not Path(scenario).is_absolute():
        scenario = Path(request.config.rootpath) / scenario
    return run_drill(scenario, **marker.kwargs)


@pytest.fixture
def drill_record(drill_result: DrillResult) -> DrillRecord:
    """The journal of the marked drill, as the typed record (``harness.record.DrillRecord``)."""
    return drill_result.record


@pytest.fixture
def drill_lab() -> Iterator[Lab]:
    """A running lab: its own labelled network; containers started with ``lab.start`` and
    volumes made with ``lab.volume`` are removed with it after the test."""
    from harness.lab.lab import Lab
    from harness.runner import new_run_id

    with Lab(new_run_id()) as lab:
        yield lab
