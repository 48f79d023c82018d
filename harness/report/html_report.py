"""The HTML report: one self-contained file (inline CSS and SVG, no script, nothing fetched)."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from harness.report import charts
from harness.report.history.store import StoredRun
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

MAX_ROWS = 500


def size(value: int | None) -> str:
    """'355.6 KiB'."""
    if value is None:
        return "-"
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{value} B"


def count(value: float | None) -> str:
    return "-" if value is None else str(int(value))


def when_lines(iso: str | None) -> Markup:
    """The date, then the time on its own line."""
    date, _, clock = when(iso).partition(" ")
    return Markup("{}<br>{}").format(date, clock) if clock else Markup("{}").format(date)


def backup_offset(run: StoredRun, name: str) -> float | None:
    """When backup ``name`` started, in seconds from the fault."""
    return next((s.offset_s for s in run.steps if s.kind == "backup" and s.name == name), None)


def slug(text: str) -> str:
    """An HTML id fragment: 'bad-migration / pitr' -> 'bad-migration-pitr'."""
    return "-".join("".join(c if c.isalnum() or c in "-_." else " " for c in text).split())


def badge(status: str) -> Markup:
    """A coloured label that also says its status in words (never colour alone)."""
    slug = status.replace(" ", "-")
    return Markup('<span class="badge b-{}">{}</span>').format(slug, status)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("harness.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        when=when,
        when_lines=when_lines,
        backup_offset=backup_offset,
        seconds=seconds,
        size=size,
        count=count,
        badge=badge,
        slug=slug,
        objectives_text=objectives_text,
        objectives_status=objectives_status,
        data_lost_text=data_lost_text,
        runs_met_text=runs_met_text,
        three_two_one_text=three_two_one_text,
        team_lines=team_lines,
        saturation_note=saturation_note,
        max_rows=MAX_ROWS,
        timeline=lambda run: Markup(charts.timeline(run)),
        against_objectives=lambda run: Markup(charts.against_objectives(run)),
        trend_chart=lambda t, metric: Markup(charts.trend_chart(t, metric=metric)),
    )
    return env


def render_html(report: Report) -> str:
    """The report as one HTML document."""
    return _environment().get_template("report.html.j2").render(r=report)
