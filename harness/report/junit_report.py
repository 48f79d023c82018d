"""The JUnit XML report: one test case per drill, so CI systems show drills as tests.

A drill that missed its expectations is a ``<failure>``; an inconclusive drill (it tested
nothing) and an infrastructure error are ``<error>``s, never passes. RTO, RPO, lost writes
and the objectives are ``<property>`` elements of each test case.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.report.history.store import StoredRun
from harness.report.model import Report, data_lost_text, objectives_status, objectives_text

SUITE = "recovery-drill"
# Verdicts that are no <error>: a pass, a missed expectation (a <failure>), and
# `unrecoverable` (every expectation met: the drill proved, as expected, that the data
# cannot come back). Inconclusive and errored drills are errors.
NOT_ERRORS = ("pass", "fail", "unrecoverable")


def _host_properties(run: StoredRun) -> list[tuple[str, str]]:
    """The host's load during the drill (journals from before it was recorded have none)."""
    if run.figure("host_cpus") is None:
        return []
    return [
        ("host_saturated", "true" if run.figure("host_saturated") else "false"),
        ("host_load_1m_max", _num(run.figure("host_load_1m_max"))),
        ("host_cpus", _num(run.figure("host_cpus"))),
        ("host_cpu_stall_share", _num(run.figure("host_cpu_stall_share"))),
    ]


def _num(value: float | int | None) -> str:
    """A figure as plain decimal text: counts as integers (never ``1.23457e+06``), times
    with up to 6 decimals (microseconds), trailing zeros dropped."""
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(int(value))


def _case(run: StoredRun) -> ET.Element:
    case = ET.Element(
        "testcase",
        {
            "classname": f"{run.plan or SUITE}.{run.engine}",
            "name": f"{run.drill} on {run.engine}",
            "time": f"{run.duration_s or 0:.3f}",
            "timestamp": run.started_at,
        },
    )
    props = ET.SubElement(case, "properties")
    for name, value in (
        ("run_id", run.run_id),
        ("scenario", run.scenario),
        ("strategy", run.strategy or ""),
        ("engine", run.engine),
        ("image", run.image or ""),
        ("verdict", run.verdict or "error"),
        ("rto_s", _num(run.figure("rto_s"))),
        ("rpo_s", _num(run.figure("rpo_s"))),
        ("lost_writes", _num(run.figure("lost_writes"))),
        ("acked_writes", _num(run.figure("acked_writes"))),
        ("holes", _num(run.figure("holes"))),
        ("seed_rows_lost", _num(run.figure("seed_rows_lost"))),
        ("rto_objective_s", _num(run.rto_objective_s)),
        ("rpo_objective_s", _num(run.rpo_objective_s)),
        ("max_lost_writes_objective", _num(run.max_lost_writes_objective)),
        ("objectives", objectives_status(run)),
        ("data_verified", "" if run.data_verified is None else str(run.data_verified).lower()),
        ("restored_from", run.restored_from or ""),
        *_host_properties(run),
    ):
        ET.SubElement(props, "property", {"name": name, "value": str(value)})
    for figure, number in sorted(run.figures.items()):  # a team's own database and checks
        if figure.startswith("check:"):
            shown = "passed" if number else "failed"
            ET.SubElement(props, "property", {"name": figure, "value": shown})
        elif figure.startswith("team_"):
            ET.SubElement(props, "property", {"name": figure, "value": _num(number)})
    reasons = "; ".join(run.reasons) or run.error or "no reason recorded"
    verdict = run.verdict or "error"
    if verdict == "fail":
        ET.SubElement(
            case, "failure", {"message": reasons, "type": "expectation-missed"}
        ).text = "\n".join(run.reasons)
    elif verdict == "inconclusive":
        ET.SubElement(case, "error", {"message": reasons, "type": "inconclusive"}).text = (
            "the drill tested nothing: " + reasons
        )
    elif verdict not in NOT_ERRORS:
        ET.SubElement(case, "error", {"message": reasons, "type": "error"}).text = (
            run.error or reasons
        )
    ET.SubElement(case, "system-out").text = (
        f"{run.drill} on {run.engine} ({run.run_id}): {verdict}"
        + (
            " (the drill proved the data cannot come back, as expected)"
            if verdict == "unrecoverable"
            else ""
        )
        + "\n"
        f"objectives: {objectives_text(run)} -> {objectives_status(run)}\n"
        f"RTO {_num(run.figure('rto_s')) or '-'} s, RPO {_num(run.figure('rpo_s')) or '-'} s\n"
        f"data lost: {data_lost_text(run)}\n"
    )
    return case


def render_junit(report: Report) -> str:
    """The focus drills of ``report`` as a JUnit XML document."""
    runs = list(report.focus)
    failures = sum(1 for r in runs if r.verdict == "fail")
    errors = sum(1 for r in runs if r.verdict not in NOT_ERRORS)
    total_time = sum(r.duration_s or 0 for r in runs)
    attrs = {
        "name": SUITE,
        "tests": str(len(runs)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": "0",
        "time": f"{total_time:.3f}",
    }
    root = ET.Element("testsuites", attrs)
    suite = ET.SubElement(
        root, "testsuite", {**attrs, "name": report.title, "timestamp": report.generated_at}
    )
    for run in runs:
        suite.append(_case(run))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
