"""The Markdown report: the HTML report's tables, for pull requests and wikis."""

from __future__ import annotations

from collections.abc import Sequence

from harness.report.host_note import saturation_note
from harness.report.model import (
    Report,
    data_lost_text,
    objectives_status,
    objectives_text,
    runs_met_text,
    seconds,
    team_lines,
    three_two_one_text,
    when,
)

MAX_ROWS = 100


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(
    head: list[str], rows: Sequence[Sequence[object]], *, right: set[int] | None = None
) -> list[str]:
    right = right or set()
    lines = ["| " + " | ".join(head) + " |"]
    lines.append(
        "| " + " | ".join("---:" if i in right else "---" for i in range(len(head))) + " |"
    )
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _status(text: str) -> str:
    return f"**{text.upper()}**"


def render_markdown(report: Report) -> str:
    """The report as GitHub-flavoured Markdown."""
    r = report
    out = [f"# {r.title}", ""]
    period = (
        f" Runs from {when(r.first_at)} to {when(r.last_at)}"
        + (f" (since {when(r.since)})" if r.since else "")
        + "."
        if r.runs
        else ""
    )
    out += [f"Generated {when(r.generated_at)} from the history at `{r.history}`.{period}", ""]
    out += ["## Summary", ""]
    if not r.runs:
        since = f" since {when(r.since)}" if r.since else ""
        out += [f"No drill runs are recorded{since}: nothing was tested in this period.", ""]
        return "\n".join(out)
    t = r.totals
    out += [
        f"**{t['runs']}** drill runs of **{len(r.trends)}** drills: {t['pass']} passed, "
        f"{t['fail']} failed, {t['inconclusive']} inconclusive, {t['error']} errors. "
        f"Objectives met in **{t['objectives_met']} of {t['measured']}** measured runs.",
        "",
    ]
    rows = []
    for run in r.focus:
        missed = (
            f" ({'; '.join(run.objectives_missed)})"
            if run.objectives_met is False and run.objectives_missed
            else ""
        )
        result = _status(run.verdict or "error") + (
            f" ({'; '.join(run.reasons)})" if run.reasons else ""
        )
        rows.append(
            [
                f"**{run.drill}**: {run.summary or ''}",
                run.engine,
                when(run.started_at),
                objectives_text(run),
                seconds(run.figure("rto_s")),
                seconds(run.figure("rpo_s")),
                _status(objectives_status(run)) + missed,
                data_lost_text(run),
                result,
                runs_met_text(r.trend(run)),
            ]
        )
    out += _table(
        [
            "What was tested",
            "Engine",
            "When",
            "Objectives",
            "RTO",
            "RPO",
            "Met?",
            "Data lost",
            "Result",
            "Objectives over the period",
        ],
        rows,
        right={4, 5},
    )
    out += ["", "## Trends across runs", ""]
    out += _table(
        [
            "Drill",
            "Engine",
            "Runs",
            "Pass / fail / inconclusive / error",
            "Objectives met",
            "Median RTO",
            "Worst RTO",
            "Median RPO",
            "Worst RPO",
            "Lost writes (all runs)",
            "Last run",
        ],
        [
            [
                tr.drill,
                tr.engine,
                tr.runs,
                " / ".join(str(tr.verdicts[v]) for v in ("pass", "fail", "inconclusive", "error")),
                f"{tr.objectives_met} of {tr.measured} measured",
                seconds(tr.median_rto_s),
                seconds(tr.worst_rto_s),
                seconds(tr.median_rpo_s),
                seconds(tr.worst_rpo_s),
                tr.lost_writes_total,
                when(tr.last_started_at),
            ]
            for tr in r.trends
        ],
        right={2, 5, 6, 7, 8, 9},
    )
    out += ["", "## Drill details", ""]
    for run in r.focus:
        out += [f"### {run.drill} on {run.engine}: {_status(run.verdict or 'error')}", ""]
        out += [
            f"{run.summary or ''} Run `{run.run_id}`, started {when(run.started_at)}, "
            f"took {seconds(run.duration_s)}.",
            "",
        ]
        for reason in run.reasons:
            out.append(f"- {reason}")
        if run.reasons:
            out.append("")
        rule = three_two_one_text(run)
        if rule is not None:  # flagged in bold where the rule is broken
            out += [rule if rule.startswith("3-2-1 met") else f"**{rule}**", ""]
        out += team_lines(run)
        if saturation_note(run):
            out += [f"> **Warning:** {saturation_note(run)}.", ""]
        marks = [s for s in run.steps if s.offset_s is not None]
        if marks:
            out += _table(
                ["Timeline", "Kind", "At (s from the fault)", "Took", "Outcome", "Detail"],
                [
                    [
                        s.name,
                        s.kind,
                        f"{s.offset_s:+.2f}",
                        seconds(s.duration_s),
                        s.outcome or "",
                        s.detail,
                    ]
                    for s in sorted(marks, key=lambda s: s.offset_s or 0.0)
                    if s.kind != "phase"
                ],
                right={2, 3},
            )
            out.append("")
        if run.backups:
            out += _table(
                ["Backup", "Verification", "Used to recover"],
                [
                    [
                        b.name,
                        "; ".join(
                            ("passed " if ok else "FAILED ")
                            + test
                            + (f": {detail}" if detail else "")
                            for test, ok, detail in b.tests
                        )
                        or "none",
                        "yes" if b.used_for_recovery else "no",
                    ]
                    for b in run.backups
                ],
            )
            out.append("")
    out += ["## All runs in the period", ""]
    newest = list(reversed(r.runs))[:MAX_ROWS]
    if len(r.runs) > MAX_ROWS:
        out += [f"The {MAX_ROWS} newest of {len(r.runs)} runs (the JSON report has all).", ""]
    out += _table(
        [
            "When",
            "Drill",
            "Engine",
            "Plan",
            "Result",
            "Objectives",
            "RTO",
            "RPO",
            "Lost writes",
            "Run",
        ],
        [
            [
                when(run.started_at),
                run.drill,
                run.engine,
                run.plan or "-",
                run.verdict or "error",
                objectives_status(run),
                seconds(run.figure("rto_s")),
                seconds(run.figure("rpo_s")),
                "-" if run.figure("lost_writes") is None else int(run.figure("lost_writes") or 0),
                f"`{run.run_id}`",
            ]
            for run in newest
        ],
        right={6, 7, 8},
    )
    out.append("")
    return "\n".join(out)
