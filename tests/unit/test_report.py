"""The report model and its four renderers, from real journals recorded in a SQLite history."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.report.charts import nice_ticks, timeline, trend_chart
from harness.report.history import History
from harness.report.journal import record_from_dict
from harness.report.model import Report, build_report, since_iso, trends
from harness.report.output import FILE_NAMES, FORMATS, render, write_reports

JOURNALS = Path(__file__).parent / "data" / "journals"
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


def journal(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((JOURNALS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def missed_rerun(j: dict[str, Any]) -> dict[str, Any]:
    """quickstart again, a day earlier, recovering too slowly: objectives missed, drill failed."""
    out = copy.deepcopy(j)
    out["run_id"] = "20261120T051852Z-000000"
    out["started_at"] = "2026-11-20T05:18:52.386+00:00"
    out["measured"]["rto_s"] = 41.5
    out["objectives"].update(met=False, missed=["RTO 41.50 s > 30 s"])
    out["verdict"] = "fail"
    out["reasons"] = ["objectives: expected met, got missed", "missed: RTO 41.50 s > 30 s"]
    return out


@pytest.fixture
def history(tmp_path: Path) -> History:
    h = History.open(tmp_path / "h.sqlite")
    h.record(record_from_dict(missed_rerun(journal("quickstart"))), plan="nightly")
    for name in ("quickstart", "empty-backup", "kill-restart", "wrong-path-wipe"):
        h.record(record_from_dict(journal(name)), plan="nightly")
    return h


@pytest.fixture
def report(history: History) -> Report:
    return build_report(
        history.runs(), history=history.where, procedures=history.procedures(), now=NOW
    )


# -- the model -------------------------------------------------------------------------------------
def test_focus_is_the_latest_run_of_each_drill(report: Report) -> None:
    assert [(r.scenario, r.engine) for r in report.focus] == [
        ("empty-backup", "postgres"),
        ("kill-restart", "postgres"),
        ("quickstart", "postgres"),
        ("wrong-path-wipe", "postgres"),
    ]
    quick = next(r for r in report.focus if r.scenario == "quickstart")
    assert quick.verdict == "pass"  # the newer run, not the failed one the day before


def test_totals_count_measured_runs_honestly(report: Report) -> None:
    t = report.totals
    assert (t["runs"], t["pass"], t["fail"], t["inconclusive"], t["error"]) == (5, 3, 1, 1, 0)
    # wrong-path-wipe measured nothing: it is neither met nor missed.
    assert (t["measured"], t["objectives_met"]) == (4, 3)


def test_trends_aggregate_per_scenario_and_engine(report: Report) -> None:
    by_key = {t.key: t for t in report.trends}
    quick = by_key["quickstart on postgres"]
    assert quick.runs == 2 and quick.measured == 2 and quick.objectives_met == 1
    assert quick.verdicts == {
        "pass": 1,
        "fail": 1,
        "inconclusive": 0,
        "error": 0,
        "unrecoverable": 0,
    }
    assert quick.worst_rto_s == 41.5
    assert quick.median_rto_s == pytest.approx((41.5 + 2.7769) / 2)
    assert quick.lost_writes_total == 2 * 297
    assert [p.rto_s for p in quick.points] == [41.5, pytest.approx(2.7769)]  # oldest first
    wrong = by_key["wrong-path-wipe on postgres"]
    assert wrong.measured == 0 and wrong.median_rto_s is None
    assert wrong.points[0].objectives_met is None
    assert trends([]) == []


def test_focus_can_be_chosen_by_run_id(history: History) -> None:
    r = build_report(history.runs(), history="h", focus_run_ids=["20261120T051852Z-000000"])
    assert [x.verdict for x in r.focus] == ["fail"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-31", "2026-01-31T00:00:00.000+00:00"),
        ("2026-01-31T12:30:00+02:00", "2026-01-31T10:30:00.000+00:00"),
        ("7d", "2026-11-15T12:00:00.000+00:00"),
    ],
)
def test_since_accepts_dates_times_and_days(text: str, expected: str) -> None:
    assert since_iso(text, now=NOW) == expected


def test_since_rejects_anything_else() -> None:
    with pytest.raises(ValueError, match="30d"):
        since_iso("last week")


# -- charts ----------------------------------------------------------------------------------------
def test_nice_ticks_cover_the_range_with_round_steps() -> None:
    ticks = nice_ticks(-4.3, 3.1, count=8)
    assert ticks[0] >= -4.3 and ticks[-1] <= 3.1 and 0 in ticks
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert steps == {1.0}


def test_timeline_draws_every_step_and_marker(report: Report) -> None:
    run = next(r for r in report.focus if r.scenario == "empty-backup")
    svg = timeline(run)
    ET.fromstring(svg)  # well-formed
    assert svg.count('class="bar recovery_step"') == 3
    assert svg.count('class="bar backup"') == 2
    assert svg.count('class="bar phase"') == 3
    assert 'class="marker fault"' in svg and 'class="marker detected"' in svg
    assert 'class="marker recovered"' in svg and 'class="rpo-window"' in svg
    assert "fault: silent_empty_backup" in svg and "fault: rm_rf_datadir" in svg
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg


def test_timeline_of_a_drill_that_tested_nothing_still_draws_its_fault(report: Report) -> None:
    run = next(r for r in report.focus if r.scenario == "wrong-path-wipe")
    svg = timeline(run)
    assert "fault: rm_rf_datadir (no effect)" in svg
    assert 'class="marker recovered"' not in svg


def test_trend_chart_draws_measured_line_and_dashed_objective(report: Report) -> None:
    quick = next(t for t in report.trends if t.drill == "quickstart")
    svg = trend_chart(quick, metric="rto")
    ET.fromstring(svg)
    assert re.search(r'<polyline class="objective"[^>]*stroke-dasharray', svg)
    assert '<polyline class="measured"' in svg
    assert svg.count('class="point missed"') == 1 and svg.count('class="point met"') == 1
    unmeasured = next(t for t in report.trends if t.drill == "wrong-path-wipe")
    assert 'class="unmeasured"' in trend_chart(unmeasured, metric="rpo")


# -- renderers -------------------------------------------------------------------------------------
def test_html_is_self_contained_and_has_the_charts(report: Report) -> None:
    html = render(report, "html")
    assert html.startswith("<!doctype html>")
    assert "<script" not in html.lower()
    # Nothing is fetched: no src= at all, links only to anchors in the page.
    assert not re.search(r"\ssrc\s*=", html, re.IGNORECASE)
    assert re.findall(r'href="([^"]*)"', html) and all(
        h.startswith("#") for h in re.findall(r'href="([^"]*)"', html)
    )
    assert "@import" not in html and "url(" not in html
    assert html.count('class="timeline"') == 4
    assert html.count('class="trend"') == 2 * 4
    assert html.count('class="gauge"') == 4
    # The auditor's table comes before anything else.
    assert html.index('id="summary-table"') < html.index('id="trends"') < html.index('id="drills"')


def test_html_summary_says_what_was_lost_and_what_was_not_measured(report: Report) -> None:
    html = render(report, "html")
    summary = html[html.index('id="summary-table"') : html.index('id="trends"')]
    assert "297 of 451 acknowledged writes" in summary
    assert "RTO ≤ 30 s, RPO ≤ 0 s, lost writes ≤ 0" in summary
    assert "not measured" in summary and "INCONCLUSIVE" not in summary  # badges are CSS-styled
    assert 'class="badge b-inconclusive">inconclusive<' in summary
    assert "met in 1 of 2 runs" in summary
    assert "met in 0 of 0 runs (1 more not measured)" in summary


def test_html_escapes_what_comes_from_the_journal(history: History) -> None:
    j = journal("kill-restart")
    j["run_id"] = "x"
    j["summary"] = "<script>alert(1)</script>"
    history.record(record_from_dict(j))
    html = render(build_report(history.runs(run_ids=["x"]), history="h"), "html")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_markdown_has_the_same_tables(report: Report) -> None:
    md = render(report, "md")
    assert md.startswith("# Recovery drill report")
    summary = md[md.index("## Summary") : md.index("## Trends")]
    rows = [line for line in summary.splitlines() if line.startswith("| **")]
    assert len(rows) == 4
    assert all(line.count(" | ") == 9 for line in rows)
    assert "**NOT MEASURED**" in summary and "**MISSED**" not in summary
    assert "| quickstart | postgres | 2 | 1 / 1 / 0 / 0 | 1 of 2 measured |" in md


def test_junit_has_one_case_per_drill_and_fails_those_that_missed(report: Report) -> None:
    root = ET.fromstring(render(report, "junit"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "0", "1")
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {
        "empty-backup on postgres",
        "kill-restart on postgres",
        "quickstart on postgres",
        "wrong-path-wipe on postgres",
    }
    props = {
        p.get("name"): p.get("value") for p in cases["quickstart on postgres"].iter("property")
    }
    assert props["rto_s"] == "2.7769" and props["rpo_s"] == "3.1666"
    assert props["lost_writes"] == "297" and props["objectives"] == "met"
    inconclusive = cases["wrong-path-wipe on postgres"]
    [error] = inconclusive.findall("error")
    assert error.get("type") == "inconclusive"


def test_junit_failure_for_a_drill_that_missed_its_expectations(history: History) -> None:
    runs = history.runs(run_ids=["20261120T051852Z-000000"])
    root = ET.fromstring(render(build_report(runs, history="h"), "junit"))
    [case] = root.iter("testcase")
    [failure] = case.findall("failure")
    assert "objectives: expected met, got missed" in (failure.get("message") or "")
    assert root.get("failures") == "1"


def test_json_carries_everything(report: Report) -> None:
    data = json.loads(render(report, "json"))
    assert data["format"] == "recovery-drill-report/1"
    assert len(data["runs"]) == 5 and len(data["focus_run_ids"]) == 4
    quick = next(t for t in data["trends"] if t["drill"] == "quickstart")
    assert next(p["rto_s"] for p in quick["points"]) == 41.5
    run = next(r for r in data["runs"] if r["scenario"] == "empty-backup")
    assert {b["name"] for b in run["backups"]} == {"nightly-1", "nightly-2"}
    assert run["objectives_status"] == "met"
    assert data["procedures"]


def test_an_empty_history_says_nothing_was_tested(tmp_path: Path) -> None:
    r = build_report([], history="h", since="2026-01-01")
    for fmt in FORMATS:
        text = render(r, fmt)
        assert text
    assert "nothing was tested" in render(r, "html")
    assert ET.fromstring(render(r, "junit")).get("tests") == "0"


def test_write_reports_writes_every_format_readable_by_others(
    report: Report, tmp_path: Path
) -> None:
    written = write_reports(report, tmp_path / "out")
    assert sorted(p.name for p in written) == sorted(FILE_NAMES.values())
    for path in written:
        assert path.stat().st_mode & 0o777 == 0o644
        assert path.stat().st_size > 0


def test_the_period_is_shown_as_a_utc_time(history: History) -> None:
    since = since_iso("2026-11-21", now=NOW)
    r = build_report(history.runs(since=since), history="h", since=since)
    assert "(since 2026-11-21 00:00 UTC)" in render(r, "html")
    assert "(since 2026-11-21 00:00 UTC)" in render(r, "md")
    assert len(r.runs) == 4  # the missed run of 2026-11-20 is before the period


def test_a_drill_that_failed_before_its_fault_is_timed_from_its_start(history: History) -> None:
    j = journal("quickstart")
    j.update(run_id="early", faults=[], recovery=[], status="failed", verdict="error")
    j["phases"] = {"detect_s": None, "restore_s": None, "verify_s": None}
    j["measured"] = {k: None for k in j["measured"]}
    history.record(record_from_dict(j))
    [run] = history.runs(run_ids=["early"])
    svg = timeline(run)
    assert "seconds from the start of the drill" in svg and 'class="bar backup"' in svg
    assert "fault:" not in svg


def test_each_strategy_of_a_comparison_is_its_own_drill(tmp_path: Path) -> None:
    h = History.open(tmp_path / "s.sqlite")
    for i, (strategy, rto) in enumerate([("pitr", 9.0), ("promote-replica", 1.5), ("pitr", 8.0)]):
        j = journal("quickstart")
        j.update(run_id=f"s{i}", scenario="bad-migration", strategy=strategy)
        j["started_at"] = f"2026-11-21T06:0{i}:00.000+00:00"
        j["measured"]["rto_s"] = rto
        h.record(record_from_dict(j))
    r = build_report(h.runs(), history="h", procedures=h.procedures())
    assert [(t.drill, t.runs) for t in r.trends] == [
        ("bad-migration / pitr", 2),
        ("bad-migration / promote-replica", 1),
    ]
    assert [x.drill for x in r.focus] == ["bad-migration / pitr", "bad-migration / promote-replica"]
    assert {p.scenario: p.tests for p in r.procedures} == {
        "bad-migration / pitr": 2,
        "bad-migration / promote-replica": 1,
    }
    names = [c.get("name") for c in ET.fromstring(render(r, "junit")).iter("testcase")]
    assert names == [
        "bad-migration / pitr on postgres",
        "bad-migration / promote-replica on postgres",
    ]
    assert 'id="trend-bad-migration-pitr-postgres"' in render(r, "html")
