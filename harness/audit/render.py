"""An audit or a gate as a terminal table, JSON, Markdown or JUnit XML.

JUnit: one test case per check (audit) or per gate item; a critical finding or a failing gate
item is a ``<failure>``, so CI shows what blocked. Nothing here ever sees a password: the
target is the masked URL.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.audit.gate import GateResult
from harness.audit.model import AuditReport, Severity

Format = Literal["table", "json", "markdown", "junit"]
FORMATS: tuple[str, ...] = ("table", "json", "markdown", "junit")
STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.WARNING: "yellow",
    Severity.INFO: "cyan",
    Severity.OK: "green",
}
MAX_TABLES = 10


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n = n / 1024  # type: ignore[assignment]
    return str(n)


def audit_table(report: AuditReport, console: Console) -> None:
    head = Text(
        f"{report.engine} {report.server_version} · database {report.database} · "
        f"{report.target} · {report.duration_s:.2f} s"
    )
    console.print(head)
    table = Table(show_lines=False)
    for col in ("severity", "check", "finding", "detail", "fix"):
        table.add_column(col, overflow="fold")
    for f in report.findings:
        table.add_row(
            Text(f.severity.value, style=STYLE[f.severity]),
            Text(f.check),
            Text(f.title),
            Text(f.detail),
            Text(f.fix),
        )
    console.print(table)
    if report.tables:
        sizes = Table(title=f"largest user tables (of {len(report.tables)})")
        for col in ("table", "size", "rows (estimate)", "statistics age"):
            sizes.add_column(col)
        for t in report.tables[:MAX_TABLES]:
            age = "never" if t.stats_age_days is None else f"{t.stats_age_days:.1f} d"
            sizes.add_row(
                Text(f"{t.schema}.{t.name}"),
                _size(t.size_bytes),
                "?" if t.rows_estimate is None else str(t.rows_estimate),
                age,
            )
        console.print(sizes)
    verdict = (
        "critical findings: " + str(len(report.critical))
        if report.critical
        else "no critical finding"
    )
    console.print(Text(verdict, style="bold red" if report.critical else "bold green"))


def audit_markdown(report: AuditReport) -> str:
    lines = [
        f"# Audit of {report.database} ({report.engine} {report.server_version})",
        "",
        f"Target `{report.target}`, {report.started_at}, {report.duration_s:.2f} s. "
        + (f"**{len(report.critical)} critical**." if report.critical else "No critical finding."),
        "",
        "| severity | check | finding | detail | fix |",
        "|---|---|---|---|---|",
    ]
    for f in report.findings:
        sev = f"**{f.severity.value}**" if f.severity is Severity.CRITICAL else f.severity.value
        lines.append(f"| {sev} | {f.check} | {_md(f.title)} | {_md(f.detail)} | {_md(f.fix)} |")
    if report.tables:
        lines += ["", "| table | size | rows (estimate) | statistics age |", "|---|---|---|---|"]
        for t in report.tables[:MAX_TABLES]:
            age = "never" if t.stats_age_days is None else f"{t.stats_age_days:.1f} d"
            lines.append(
                f"| {_md(t.schema)}.{_md(t.name)} | {_size(t.size_bytes)} | "
                f"{'?' if t.rows_estimate is None else t.rows_estimate} | {age} |"
            )
    return "\n".join(lines) + "\n"


def audit_junit(report: AuditReport) -> str:
    suite = ET.Element(
        "testsuite",
        {
            "name": f"recovery-drill audit {report.database}",
            "tests": str(len(report.findings)),
            "failures": str(len(report.critical)),
            "errors": "0",
            "time": f"{report.duration_s:.3f}",
            "timestamp": report.started_at,
        },
    )
    for i, f in enumerate(report.findings):
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": f"audit.{report.engine}.{f.check}", "name": f"{i:02d} {f.title}"},
        )
        props = ET.SubElement(case, "properties")
        for name, value in (("severity", f.severity.value), ("detail", f.detail), ("fix", f.fix)):
            ET.SubElement(props, "property", {"name": name, "value": value})
        if f.severity is Severity.CRITICAL:
            failure = ET.SubElement(case, "failure", {"message": f.title, "type": "critical"})
            failure.text = "\n".join(x for x in (f.detail, f"fix: {f.fix}" if f.fix else "") if x)
    return _xml(suite)


def gate_table(result: GateResult, console: Console) -> None:
    console.print(
        Text(
            f"gate for {result.database} ({result.engine}) · {result.target}"
            + (f" · migration {result.migration}" if result.migration else "")
        )
    )
    table = Table()
    for col in ("item", "result", "found / what would satisfy it"):
        table.add_column(col, overflow="fold")
    for item in result.items:
        table.add_row(
            Text(item.name),
            Text(
                "pass" if item.passed else "BLOCKED", style="green" if item.passed else "bold red"
            ),
            Text(item.detail),
        )
    console.print(table)
    blocked = [i.name for i in result.items if not i.passed]
    console.print(
        Text(
            f"gate BLOCKED by {len(blocked)} items: {', '.join(blocked)}"
            if blocked
            else "gate passed",
            style="bold red" if blocked else "bold green",
        )
    )


def gate_markdown(result: GateResult) -> str:
    blocked = [i for i in result.items if not i.passed]
    lines = [
        f"# Migration gate for {result.database} ({result.engine})",
        "",
        f"Target `{result.target}`, decided {result.decided_at}: "
        + (f"**BLOCKED** by {len(blocked)} items." if blocked else "**passed**."),
        "",
        "| item | result | found / what would satisfy it |",
        "|---|---|---|",
    ]
    for i in result.items:
        lines.append(f"| {i.name} | {'pass' if i.passed else '**BLOCKED**'} | {_md(i.detail)} |")
    return "\n".join(lines) + "\n"


def gate_junit(result: GateResult) -> str:
    blocked = [i for i in result.items if not i.passed]
    suite = ET.Element(
        "testsuite",
        {
            "name": f"recovery-drill gate {result.database}",
            "tests": str(len(result.items)),
            "failures": str(len(blocked)),
            "errors": "0",
            "timestamp": result.decided_at,
        },
    )
    for item in result.items:
        case = ET.SubElement(suite, "testcase", {"classname": "gate", "name": item.name})
        if not item.passed:
            failure = ET.SubElement(case, "failure", {"message": item.detail, "type": "blocked"})
            failure.text = item.detail
    return _xml(suite)


def _xml(suite: ET.Element) -> str:
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render_audit(report: AuditReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, default=str) + "\n"
    if fmt == "markdown":
        return audit_markdown(report)
    return audit_junit(report)


def render_gate(result: GateResult, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2, default=str) + "\n"
    if fmt == "markdown":
        return gate_markdown(result)
    return gate_junit(result)
