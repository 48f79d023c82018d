"""The pytest plugin (harness/pytest_plugin.py), run with pytester: which YAML files become
items, and how a drill's verdict maps to pass, failure, error and JUnit properties.

The drill itself is replaced here by a result with the verdict under test (the mapping is
pure logic); tests/integration/test_pytest_plugin.py runs one real drill through the plugin.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import harness.pytest_plugin as plugin
from harness.measurement.verdict import Verdict
from harness.record import (
    Clock,
    Dataset,
    DrillRecord,
    DrillStatus,
    Expect,
    HostLoad,
    Measured,
    Objectives,
    Workload,
)
from harness.runner import DrillResult

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "scenarios" / "quickstart.yaml"
STRATEGIES = REPO / "scenarios" / "incidents" / "replica-is-not-a-backup.yaml"


def _result(verdict: Verdict, engine: str, *, strategy: str | None = None) -> DrillResult:
    record = DrillRecord(
        run_id="20261207T000000Z-abcdef",
        status=DrillStatus.DONE,
        scenario="quickstart",
        engine=engine,
        started_at="2026-12-07T00:00:00Z",
        verdict=verdict.value,
        reasons=() if verdict is Verdict.PASS else (f"reason for {verdict.value}",),
        objectives=Objectives(rto_s=30, rpo_s=10),
        expect=Expect(),
        measured=Measured(rto_s=1.61, rpo_s=3.2, acked_writes=250, lost_writes=160),
        dataset=Dataset(tables=1, rows_per_table=1, seed=1),
        workload=Workload(rate_per_s=50, after_recovery_s=1),
        clock=Clock(
            durations="monotonic",
            monotonic_resolution_s=1e-9,
            wall="utc",
            probe_interval_s=0.1,
            rto_uncertainty_s=0.1,
        ),
        host=HostLoad(cpus=2, jobs=4, load_1m_max=5.1, samples=3, saturated=True),
    )
    return DrillResult(
        record.run_id,
        "quickstart",
        engine,
        verdict,
        Path(f"/tmp/out/{record.run_id}/journal.json"),
        record,
        strategy,
    )


@pytest.fixture
def verdicts(monkeypatch: pytest.MonkeyPatch) -> dict[str, Verdict]:
    """Engine -> the verdict the stand-in drill returns on it."""
    chosen: dict[str, Verdict] = {}

    def fake_run(config: object, planned: plugin.PlannedDrill, *, strategy: str | None):
        return _result(chosen[planned.engine], planned.engine, strategy=strategy)

    monkeypatch.setattr(plugin, "_run", fake_run)
    return chosen


def test_scenario_files_named_on_the_command_line_are_collected_per_engine_and_strategy(
    pytester: pytest.Pytester,
) -> None:
    shutil.copy(QUICKSTART, pytester.path / "quickstart.yaml")
    shutil.copy(STRATEGIES, pytester.path / "strategies.yaml")
    (pytester.path / "notes.yaml").write_text("just: data\n")
    result = pytester.runpytest("--collect-only", "-q", str(pytester.path))
    lines = [line for line in result.outlines if "::" in line]
    quick = [line for line in lines if line.startswith("quickstart.yaml::")]
    assert quick == [
        f"quickstart.yaml::quickstart[{e}]" for e in ("postgres", "mariadb", "mysql", "sqlserver")
    ]
    strat = [line for line in lines if line.startswith("strategies.yaml::")]
    assert len(strat) >= 2 and all("/" in line for line in strat), strat
    assert not any(line.startswith("notes.yaml") for line in lines)


def test_yaml_is_not_collected_when_pytest_walks_its_testpaths(pytester: pytest.Pytester) -> None:
    """A plain `pytest` (testpaths) never turns the project's YAML fixtures into drills."""
    (pytester.path / "tests").mkdir()
    shutil.copy(QUICKSTART, pytester.path / "tests" / "quickstart.yaml")
    (pytester.path / "tests" / "test_x.py").write_text("def test_x():\n    pass\n")
    pytester.makeini("[pytest]\ntestpaths = tests\n")
    result = pytester.runpytest("--collect-only", "-q")
    assert any("test_x.py::test_x" in line for line in result.outlines)
    assert not any("quickstart" in line for line in result.outlines)
    # ... but a folder listed in drill_paths is collected without being named.
    pytester.makeini("[pytest]\ntestpaths = tests\ndrill_paths = tests\n")
    result = pytester.runpytest("--collect-only", "-q", "--drill-engine", "postgres")
    assert "tests/quickstart.yaml::quickstart[postgres]" in result.outlines


def test_an_invalid_scenario_is_a_collection_error_with_file_and_line(
    pytester: pytest.Pytester,
) -> None:
    bad = pytester.path / "bad.yaml"
    bad.write_text(QUICKSTART.read_text().replace("rto_s: 30", "rto_s: -1"))
    result = pytester.runpytest(str(bad))
    result.assert_outcomes(errors=1)
    assert any("bad.yaml:" in line and "rto_s" in line for line in result.outlines)


def test_verdicts_map_to_pass_failure_and_error(
    pytester: pytest.Pytester, verdicts: dict[str, Verdict]
) -> None:
    verdicts.update(
        postgres=Verdict.PASS,
        mariadb=Verdict.FAIL,
        mysql=Verdict.INCONCLUSIVE,
        sqlserver=Verdict.ERROR,
    )
    shutil.copy(QUICKSTART, pytester.path / "quickstart.yaml")
    args = ["quickstart.yaml", "-rA", *(f"--drill-engine={e}" for e in verdicts)]
    result = pytester.runpytest(*args, "--junitxml=junit.xml")
    result.assert_outcomes(passed=1, failed=1, errors=2)
    text = result.stdout.str()
    assert "reason for fail" in text and "reason for inconclusive" in text
    assert "Traceback" not in text
    cases = {
        c.get("name"): c for c in ET.parse(pytester.path / "junit.xml").getroot().iter("testcase")
    }
    assert set(cases) == {f"quickstart[{e}]" for e in verdicts}
    assert cases["quickstart[mariadb]"].find("failure") is not None
    assert cases["quickstart[mysql]"].find("error") is not None
    assert cases["quickstart[sqlserver]"].find("error") is not None
    props = {p.get("name"): p.get("value") for p in cases["quickstart[postgres]"].iter("property")}
    assert props["rto_s"] == "1.61" and props["rpo_s"] == "3.2"
    assert props["lost_writes"] == "160" and props["acked_writes"] == "250"
    assert props["verdict"] == "pass" and props["host_saturated"] == "true"
    assert props["journal"].endswith("journal.json")


def test_unrecoverable_passes(pytester: pytest.Pytester, verdicts: dict[str, Verdict]) -> None:
    verdicts["postgres"] = Verdict.UNRECOVERABLE
    shutil.copy(QUICKSTART, pytester.path / "quickstart.yaml")
    result = pytester.runpytest("quickstart.yaml", "--drill-engine=postgres")
    result.assert_outcomes(passed=1)


def test_drill_marker_fixture_gives_the_typed_record(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run_drill`/`drill_record`: drills written in Python get the journal as DrillRecord."""
    calls: list[tuple[str, str]] = []

    class FakeDrill:
        def __init__(self, scenario: object, *, engine: str, **kwargs: object) -> None:
            calls.append((getattr(scenario, "name", ""), engine))
            self.engine = engine

        def run(self) -> DrillResult:
            return _result(Verdict.PASS, self.engine)

    monkeypatch.setattr("harness.runner.Drill", FakeDrill)
    shutil.copy(QUICKSTART, pytester.path / "quickstart.yaml")
    pytester.makepyfile(
        """
        import pytest
        from harness.record import DrillRecord

        @pytest.mark.drill("quickstart.yaml", engine="mariadb")
        def test_code_drill(drill_record, record_property):
            assert isinstance(drill_record, DrillRecord)
            assert drill_record.measured.lost_writes == 160
        """
    )
    pytester.makeini("[pytest]\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--junitxml=j.xml")
    result.assert_outcomes(passed=1)
    assert calls == [("quickstart", "mariadb")]
    props = {p.get("name") for p in ET.parse(pytester.path / "j.xml").getroot().iter("property")}
    assert {"journal", "rto_s", "rpo_s", "lost_writes"} <= props


def test_a_folder_inside_testpaths_is_not_drilled_even_when_named(
    pytester: pytest.Pytester,
) -> None:
    """`pytest tests/` (this project's own suite) must not collect tests/**/scenarios/*.yaml."""
    (pytester.path / "tests" / "scenarios").mkdir(parents=True)
    shutil.copy(QUICKSTART, pytester.path / "tests" / "scenarios" / "quickstart.yaml")
    pytester.makeini("[pytest]\ntestpaths = tests\n")
    result = pytester.runpytest("--collect-only", "-q", "tests")
    assert not any("quickstart" in line for line in result.outlines)
    named = pytester.runpytest(
        "--collect-only", "-q", "--drill-engine=postgres", "tests/scenarios/quickstart.yaml"
    )
    assert "tests/scenarios/quickstart.yaml::quickstart[postgres]" in named.outlines
