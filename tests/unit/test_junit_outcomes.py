"""The JUnit report's outcome mapping, attribute by attribute (mutated by `make mutate`).

pass and `unrecoverable` (expected) are plain test cases; fail is a <failure>; inconclusive
and error are <error>s; the suite's counts agree with the cases; figures are plain decimals.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from harness.report.history.store import StoredRun
from harness.report.junit_report import SUITE, _num, render_junit
from harness.report.model import build_report


def stored(
    run_id: str,
    verdict: str | None,
    *,
    reasons: tuple[str, ...] = (),
    error: str = "",
    figures: dict[str, float] | None = None,
    plan: str | None = None,
    duration_s: float | None = 12.5,
    objectives_met: bool | None = True,
) -> StoredRun:
    return StoredRun(
        run_id=run_id,
        scenario=f"s-{run_id}",
        engine="postgres",
        scenario_file=None,
        summary=None,
        status="done",
        verdict=verdict,
        started_at="2026-12-01T10:00:00+00:00",
        ended_at=None,
        duration_s=duration_s,
        image="img:1",
        error=error,
        reasons=reasons,
        rto_objective_s=30.0,
        rpo_objective_s=None,
        max_lost_writes_objective=5,
        objectives_met=objectives_met,
        objectives_missed=(),
        data_verified=True,
        restored_from="nightly-1",
        plan=plan,
        strategy=None,
        figures=figures or {},
    )


def junit(*runs: StoredRun) -> ET.Element:
    report = build_report(list(runs), history="h", focus_run_ids=[r.run_id for r in runs])
    text = render_junit(report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')
    assert text.endswith("</testsuites>\n")
    return ET.fromstring(text)


def case(root: ET.Element, run_id: str) -> ET.Element:
    found = [c for c in root.iter("testcase") if c.get("name") == f"s-{run_id} on postgres"]
    assert len(found) == 1
    return found[0]


def props(c: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in c.iter("property")}


ALL = (
    stored("p", "pass"),
    stored("u", "unrecoverable"),
    stored("f", "fail", reasons=("RTO 40 s > 30 s", "lost 9 > 5"), objectives_met=False),
    stored("i", "inconclusive", reasons=("fault did not take effect",), objectives_met=None),
    stored("e", "error", error="failed while restoring: boom", objectives_met=None),
    stored("n", None, error="", objectives_met=None),
)


def test_suite_counts_match_the_cases() -> None:
    root = junit(*ALL)
    suite = root.find("testsuite")
    assert suite is not None
    for element in (root, suite):
        assert element.get("tests") == "6"
        assert element.get("failures") == "1"
        assert element.get("errors") == "3"  # inconclusive, error, no verdict; not unrecoverable
        assert element.get("skipped") == "0"
        assert element.get("time") == "75.000"
    assert root.get("name") == SUITE == "recovery-drill"
    cases = list(root.iter("testcase"))
    assert len(cases) == 6
    assert sum(1 for c in cases if c.find("failure") is not None) == 1
    assert sum(1 for c in cases if c.find("error") is not None) == 3


def test_an_expected_unrecoverable_is_no_error_and_no_failure() -> None:
    root = junit(stored("u", "unrecoverable"))
    assert (root.get("errors"), root.get("failures")) == ("0", "0")
    c = case(root, "u")
    assert c.find("error") is None and c.find("failure") is None
    out = c.findtext("system-out") or ""
    assert "the drill proved the data cannot come back, as expected" in out
    assert out.startswith("s-u on postgres (u): unrecoverable (the drill")


def test_pass_is_a_plain_case() -> None:
    c = case(junit(stored("p", "pass")), "p")
    assert c.find("error") is None and c.find("failure") is None
    out = c.findtext("system-out") or ""
    assert out.startswith("s-p on postgres (p): pass\n")
    assert "as expected" not in out


def test_a_missed_expectation_is_a_failure() -> None:
    c = case(junit(*ALL), "f")
    failure = c.find("failure")
    assert failure is not None and c.find("error") is None
    assert failure.get("type") == "expectation-missed"
    assert failure.get("message") == "RTO 40 s > 30 s; lost 9 > 5"
    assert failure.text == "RTO 40 s > 30 s\nlost 9 > 5"


def test_inconclusive_is_an_error_that_says_nothing_was_tested() -> None:
    c = case(junit(*ALL), "i")
    error = c.find("error")
    assert error is not None and c.find("failure") is None
    assert error.get("type") == "inconclusive"
    assert error.get("message") == "fault did not take effect"
    assert error.text == "the drill tested nothing: fault did not take effect"


@pytest.mark.parametrize(("run_id", "text"), [("e", "failed while restoring: boom")])
def test_an_errored_drill_is_an_error_with_its_message(run_id: str, text: str) -> None:
    c = case(junit(*ALL), run_id)
    error = c.find("error")
    assert error is not None and c.find("failure") is None
    assert error.get("type") == "error"
    assert error.get("message") == text
    assert error.text == text
    assert props(c)["verdict"] == "error"


def test_no_verdict_at_all_is_an_error_without_a_reason() -> None:
    c = case(junit(*ALL), "n")
    error = c.find("error")
    assert error is not None and error.get("type") == "error"
    assert error.get("message") == "no reason recorded"
    assert error.text == "no reason recorded"
    assert props(c)["verdict"] == "error"
    assert (c.findtext("system-out") or "").startswith("s-n on postgres (n): error\n")


def test_case_attributes_and_properties() -> None:
    run = stored(
        "p",
        "pass",
        plan="nightly",
        duration_s=3.25,
        figures={
            "rto_s": 2.5,
            "rpo_s": 0.125,
            "lost_writes": 1234567.0,
            "acked_writes": 2000000.0,
            "holes": 0.0,
            "seed_rows_lost": 3.0,
        },
    )
    c = case(junit(run), "p")
    assert c.get("classname") == "nightly.postgres"
    assert c.get("time") == "3.250"
    assert c.get("timestamp") == "2026-12-01T10:00:00+00:00"
    assert props(c) == {
        "run_id": "p",
        "scenario": "s-p",
        "strategy": "",
        "engine": "postgres",
        "image": "img:1",
        "verdict": "pass",
        "rto_s": "2.5",
        "rpo_s": "0.125",
        "lost_writes": "1234567",
        "acked_writes": "2000000",
        "holes": "0",
        "seed_rows_lost": "3",
        "rto_objective_s": "30",
        "rpo_objective_s": "",
        "max_lost_writes_objective": "5",
        "objectives": "met",
        "data_verified": "true",
        "restored_from": "nightly-1",
    }
    out = c.findtext("system-out") or ""
    assert "RTO 2.5 s, RPO 0.125 s\n" in out
    assert "objectives: RTO ≤ 30 s, lost writes ≤ 5 -> met\n" in out
    assert "data lost: 1234567 of 2000000 acknowledged writes" in out


def test_no_plan_and_no_figures() -> None:
    c = case(junit(stored("p", "pass", duration_s=None, figures={})), "p")
    assert c.get("classname") == "recovery-drill.postgres"
    assert c.get("time") == "0.000"
    p = props(c)
    assert p["rto_s"] == p["rpo_s"] == p["lost_writes"] == ""
    assert "RTO - s, RPO - s\n" in (c.findtext("system-out") or "")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (0, "0"),
        (7, "7"),
        (0.0, "0"),
        (1234567.0, "1234567"),
        (123456789012.0, "123456789012"),
        (2.5, "2.5"),
        (0.000125, "0.000125"),
        (3.14159265, "3.141593"),
        (-0.25, "-0.25"),
    ],
)
def test_figures_are_plain_decimals(value: float | int | None, text: str) -> None:
    assert _num(value) == text
    assert "e+" not in _num(value) and "e-" not in _num(value)


def test_missing_values_are_empty_and_the_suite_names_the_report() -> None:
    run = StoredRun(
        **{
            **stored("m", "pass", duration_s=None).__dict__,
            "image": None,
            "restored_from": None,
            "rpo_objective_s": 10.0,
            "data_verified": None,
        }
    )
    report = build_report([run], history="h", focus_run_ids=["m"], title="Drill plan nightly")
    root = ET.fromstring(render_junit(report))
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("name") == "Drill plan nightly"
    assert suite.get("timestamp") == report.generated_at
    assert root.get("time") == suite.get("time") == "0.000"
    c = case(root, "m")
    properties = c.find("properties")
    assert properties is not None and len(properties.findall("property")) == 18
    p = props(c)
    assert (p["image"], p["restored_from"], p["data_verified"]) == ("", "", "")
    assert p["rpo_objective_s"] == "10"
    unverified = StoredRun(**{**run.__dict__, "data_verified": False})
    assert props(case(junit(unverified), "m"))["data_verified"] == "false"


@pytest.mark.parametrize(("value", "text"), [(2.0000001, "2"), (1e-7, "0"), (-3.0000004, "-3")])
def test_figures_that_round_to_an_integer_lose_the_point(value: float, text: str) -> None:
    assert _num(value) == text
