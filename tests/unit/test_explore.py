"""The explore search's machinery: paths into a scenario, value strategies, properties, and
the search itself (budget counting shrinks, shrinking to the edge, the example database) with
a stand-in drill whose RPO is the gap between the dump and the wipe. The real search runs in
tests/integration/test_ci_native.py and in the README's figures."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given

import harness.explore as ex
from harness.errors import InputError
from harness.measurement.verdict import Verdict
from harness.record import Measured, Objectives
from harness.scenario.model import ExploreRange
from tests.unit.test_pytest_plugin import _result

REPO = Path(__file__).resolve().parents[2]
SEARCH = REPO / "scenarios" / "explore" / "backup-wipe-window.yaml"


def test_paths_reach_list_items_by_name_and_index() -> None:
    data = {"backups": [{"name": "a", "at_s": 1}], "timeline": [{"fault": "kill", "at_s": 3}]}
    ex.apply(data, "backups.a.at_s", 2.5)
    ex.apply(data, "timeline.0.fault", "rm_rf_datadir")
    assert data == {
        "backups": [{"name": "a", "at_s": 2.5}],
        "timeline": [{"fault": "rm_rf_datadir", "at_s": 3}],
    }
    with pytest.raises(InputError, match="no list item 'b'"):
        ex.apply(data, "backups.b.at_s", 1)
    with pytest.raises(InputError, match="no 'topology'"):
        ex.apply(data, "topology.replicas.0.delay_s", 1)


@given(
    half=ex.strategy_for(ExploreRange(min=1, max=4, step=0.5)),
    whole=ex.strategy_for(ExploreRange(min=20, max=120, step=20)),
)
def test_range_values_stay_on_the_grid(half: float, whole: int) -> None:
    assert half in {1 + k * 0.5 for k in range(7)}
    assert isinstance(whole, int) and whole in range(20, 121, 20)


def test_a_range_upside_down_is_bad_input() -> None:
    with pytest.raises(InputError, match="above max"):
        ex.strategy_for(ExploreRange(min=5, max=1))


def test_properties_broken() -> None:
    result = _result(Verdict.FAIL, "postgres")
    record = replace(
        result.record,
        objectives=Objectives(rto_s=30, rpo_s=3, max_lost_writes=10, met=False, missed=("RPO",)),
        measured=Measured(lost_writes=11, unexpected=2),
    )
    everything = [
        "expectations_met",
        "objectives_met",
        "no_unexpected_rows",
        "lost_writes_within",
        "faults_took_effect",
    ]
    found = ex.broken(record, Verdict.FAIL, everything)
    assert [b.split(":")[0] for b in found] == everything[:4]
    assert ex.broken(result.record, Verdict.PASS, ["expectations_met"]) == []


def _fake_run(search: ex.Search, scenario) -> object:  # type: ignore[no-untyped-def]
    """A stand-in drill: RPO is the gap between the dump and the wipe."""
    gap = scenario.timeline[0].at_s - scenario.backups[0].at_s
    base = _result(Verdict.PASS, "postgres")
    met = gap <= scenario.objectives.rpo_s
    record = replace(
        base.record,
        objectives=Objectives(rto_s=30, rpo_s=3, met=met, missed=() if met else ("RPO",)),
        measured=Measured(rpo_s=gap, lost_writes=0, unexpected=0),
    )
    return replace(base, record=record, verdict=Verdict.PASS if met else Verdict.FAIL)


def test_search_shrinks_to_the_edge_within_budget_and_replays_from_its_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ex.Search, "_run", _fake_run)
    outcome = ex.explore(SEARCH, engine="postgres", budget=40, seed=3, out=tmp_path)
    assert outcome.found is not None and outcome.minimal_path is not None
    assert outcome.drills <= 40
    gap = outcome.found["timeline.0.at_s"] - outcome.found["backups.burst-dump.at_s"]
    assert gap > 3  # really failing ...
    assert outcome.found["backups.burst-dump.at_s"] == 1.0  # ... and shrunk to the edge
    assert outcome.found["workload.rate_per_s"] == 20
    text = outcome.minimal_path.read_text()
    assert "explore" not in text.split("\n# Journal")[1]  # the search section is dropped
    assert (tmp_path / "hypothesis").is_dir() and (tmp_path / "explore.json").is_file()
    again = ex.explore(SEARCH, engine="postgres", budget=40, seed=99, out=tmp_path)
    assert again.found == outcome.found  # the database replays the failure first
    assert again.drills <= 3


def test_budget_is_a_hard_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ex.Search, "_run", _fake_run)
    outcome = ex.explore(SEARCH, engine="postgres", budget=2, seed=1, out=tmp_path)
    assert outcome.drills <= 2


def test_a_scenario_without_explore_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no explore"):
        ex.explore(
            REPO / "scenarios" / "quickstart.yaml", engine=None, budget=1, seed=None, out=tmp_path
        )
