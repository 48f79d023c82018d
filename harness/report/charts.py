"""Charts as inline SVG, drawn server-side: no JavaScript, no CDN, readable offline and in print.

Three charts: the timeline of one drill (seconds from the fault), its RTO/RPO against the
objectives, and the trend of RTO or RPO across runs of one drill with the objective dashed.
Every mark carries a ``<title>`` (a tooltip, and text for screen readers); every chart has a
role, a title and a description.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from harness.report.history.store import Step, StoredRun
from harness.report.model import Trend, TrendPoint, seconds, when

# Colours (also checked for in the browser test's screenshot).
RED = "#c62828"
GREEN = "#2e7d32"
ORANGE = "#ef6c00"
BLUE = "#1565c0"
PURPLE = "#6a1b9a"
GREY = "#757575"
LIGHT = "#e0e0e0"
INK = "#212121"
LOSS = "#ffcdd2"

PHASE_COLOURS = {"detect": ORANGE, "restore": BLUE, "verify": PURPLE}
OUTCOME_COLOURS = {"ok": GREEN, "rejected": ORANGE, "failed": RED}
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _n(value: float) -> str:
    return f"{value:.1f}"


def nice_ticks(low: float, high: float, *, count: int = 6) -> list[float]:
    """Round tick values (1, 2, 5 x 10^k apart) covering [low, high]."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _svg(width: int, height: int, title: str, desc: str, body: list[str], *, cls: str) -> str:
    ident = f"{cls}-{hashlib.sha1(f'{title}|{desc}'.encode()).hexdigest()[:10]}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{cls}" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{ident}-t {ident}-d" {FONT}>'
        f'<title id="{ident}-t">{_e(title)}</title><desc id="{ident}-d">{_e(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


@dataclass(frozen=True)
class _Scale:
    low: float
    high: float
    left: float
    right: float

    def __call__(self, value: float) -> float:
        span = self.high - self.low or 1.0
        return self.left + (value - self.low) / span * (self.right - self.left)


# -- timeline -----------------------------------------------------------------------------------
def timeline(run: StoredRun) -> str:
    """Backups, fault, detection, phases, each recovery step and verification, on one axis."""
    steps = [s for s in run.steps if s.offset_s is not None]
    if not steps:
        return _svg(
            600,
            40,
            f"Timeline of {run.drill} on {run.engine}",
            "Nothing was recorded on the timeline.",
            [f'<text x="10" y="24" fill="{GREY}">nothing happened on the timeline</text>'],
            cls="timeline",
        )
    backups = [s for s in steps if s.kind == "backup"]
    phases = [s for s in steps if s.kind == "phase"]
    recovery = [s for s in steps if s.kind == "recovery_step"]
    markers = [s for s in steps if s.kind in ("fault", "detected", "recovered")]
    rpo = run.figure("rpo_s")
    rto = run.figure("rto_s")
    faulted = any(s.kind == "fault" for s in steps)
    axis = "seconds from the fault" if faulted else "seconds from the start of the drill"

    ends = [(s.offset_s or 0.0) + (s.duration_s or 0.0) for s in steps]
    starts = [s.offset_s or 0.0 for s in steps]
    low, high = min([0.0, *starts]), max([0.0, *ends])
    if rpo:
        low = min(low, -rpo)
    objective = run.rto_objective_s
    show_objective = objective is not None and (rto is None or objective <= 2 * max(rto, 0.001))
    if show_objective and objective is not None:
        high = max(high, objective)
    pad = (high - low) * 0.04 or 0.5
    low, high = low - pad, high + pad

    lanes: list[tuple[str, list[Step]]] = []
    if backups:
        lanes.append(("backups", backups))
    if phases:
        lanes.append(("RTO phases", phases))
    lanes += [(s.name, [s]) for s in recovery]
    label_w, width, lane_h, top = 170, 960, 24, 58
    height = top + max(1, len(lanes)) * lane_h + 34
    x = _Scale(low, high, label_w, width - 16)
    bottom = top + len(lanes) * lane_h
    body: list[str] = []

    # The window of lost writes: from the newest surviving acknowledged write to the fault.
    if rpo:
        body.append(
            f'<rect class="rpo-window" x="{_n(x(-rpo))}" y="{top}" '
            f'width="{_n(x(0) - x(-rpo))}" height="{bottom - top}" fill="{LOSS}">'
            f"<title>RPO {seconds(rpo)}: acknowledged writes in this window were lost</title>"
            "</rect>"
        )
    for tick in nice_ticks(low, high, count=8):
        px = x(tick)
        body.append(
            f'<line x1="{_n(px)}" y1="{top}" x2="{_n(px)}" y2="{bottom}" stroke="{LIGHT}"/>'
            f'<text x="{_n(px)}" y="{bottom + 16}" text-anchor="middle" fill="{GREY}">'
            f"{tick:g}</text>"
        )
    body.append(
        f'<text x="{width - 16}" y="{bottom + 30}" text-anchor="end" fill="{GREY}">{axis}</text>'
    )
    for i, (name, items) in enumerate(lanes):
        y = top + i * lane_h
        body.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" fill="{INK}">{_e(name)}</text>'
        )
        for s in items:
            body.append(_bar(x, y + 4, lane_h - 8, s))
    if show_objective and objective is not None:
        px = x(objective)
        body.append(
            f'<line class="objective" x1="{_n(px)}" y1="{top - 6}" x2="{_n(px)}" y2="{bottom}" '
            f'stroke="{RED}" stroke-width="1.5" stroke-dasharray="6 4">'
            f"<title>RTO objective: {objective:g} s after the fault</title></line>"
        )
        markers = [
            *markers,
            Step("objective", f"RTO objective {objective:g} s", None, objective, 0.0, ""),
        ]
    body += _markers(x, markers, top=top, bottom=bottom, right=width - 4)
    desc = _timeline_desc(run)
    return _svg(
        width, height, f"Timeline of {run.drill} on {run.engine}", desc, body, cls="timeline"
    )


def _bar(x: _Scale, y: float, h: float, s: Step) -> str:
    start = s.offset_s or 0.0
    duration = s.duration_s or 0.0
    if s.kind == "phase":
        colour = PHASE_COLOURS.get(s.name, GREY)
    elif s.kind == "backup":
        colour = (
            RED
            if s.outcome == "rejected"
            else (GREEN if s.outcome in ("checksum_matches", "restore_tested") else GREY)
        )
    else:
        colour = OUTCOME_COLOURS.get(s.outcome or "", GREY)
    px, w = x(start), max(2.0, x(start + duration) - x(start))
    tip = f"{s.name}: {seconds(duration)} from {start:+.2f} s"
    if s.outcome:
        tip += f", {s.outcome}"
    if s.detail:
        tip += f" ({s.detail})"
    label = s.name if s.kind in ("phase", "backup") else ""
    text = ""
    if label and w > 7 * len(label):
        text = (
            f'<text x="{_n(px + w / 2)}" y="{_n(y + h - 4)}" text-anchor="middle" '
            f'fill="#ffffff" font-size="11">{_e(label)}</text>'
        )
    elif label:
        text = (
            f'<text x="{_n(px + w + 3)}" y="{_n(y + h - 4)}" fill="{INK}" font-size="11">'
            f"{_e(label)}</text>"
        )
    return (
        f'<g class="bar {_e(s.kind)}"><rect x="{_n(px)}" y="{_n(y)}" width="{_n(w)}" '
        f'height="{_n(h)}" rx="2" fill="{colour}"><title>{_e(tip)}</title></rect>{text}</g>'
    )


def _markers(
    x: _Scale, markers: Sequence[Step], *, top: int, bottom: int, right: float
) -> list[str]:
    """Vertical lines with labels stacked in up to three rows so they never overlap."""
    out: list[str] = []
    row_ends = [-1e9, -1e9, -1e9]
    for m in sorted(markers, key=lambda s: s.offset_s or 0.0):
        px = x(m.offset_s or 0.0)
        if m.kind == "fault":
            colour = RED if m.outcome != "no effect" else GREY
            label = f"fault: {m.name}" + (" (no effect)" if m.outcome == "no effect" else "")
            dash = "" if m.outcome != "no effect" else ' stroke-dasharray="3 3"'
        elif m.kind == "detected":
            colour, label, dash = ORANGE, "detected", ' stroke-dasharray="4 2"'
        elif m.kind == "recovered":
            colour, label, dash = GREEN, f"recovered (RTO {seconds(m.offset_s)})", ""
        elif m.kind == "objective":
            colour, label, dash = RED, m.name, ' stroke-dasharray="6 4"'
        else:
            continue
        width = 7.0 * len(label)
        # Labels run right of their line, or left of it when they would leave the chart.
        flip = px + 2 + width > right
        x0, x1 = (px - 2 - width, px) if flip else (px, px + 2 + width)
        row = next((i for i, end in enumerate(row_ends) if x0 > end + 4), len(row_ends) - 1)
        row_ends[row] = x1
        y = 14 + row * 14
        if m.kind != "objective":
            out.append(
                f'<line class="marker {m.kind}" x1="{_n(px)}" y1="{y + 3}" x2="{_n(px)}" '
                f'y2="{bottom}" stroke="{colour}" stroke-width="2"{dash}>'
                f"<title>{_e(label)} at {(m.offset_s or 0):+.3f} s"
                + (f": {_e(m.detail)}" if m.detail else "")
                + "</title></line>"
            )
        anchor = ' text-anchor="end"' if flip else ""
        out.append(
            f'<text x="{_n(px - 2 if flip else px + 2)}" y="{y}"{anchor} fill="{colour}" '
            f'font-weight="600">{_e(label)}</text>'
        )
    return out


def _timeline_desc(run: StoredRun) -> str:
    parts = []
    for s in run.steps:
        if s.offset_s is None:
            continue
        parts.append(
            f"{s.kind} {s.name} at {s.offset_s:+.2f} s"
            + (f" for {seconds(s.duration_s)}" if s.duration_s else "")
            + (f" ({s.outcome})" if s.outcome else "")
        )
    return "; ".join(parts)


# -- measured against the objectives ---------------------------------------------------------
def against_objectives(run: StoredRun) -> str:
    """Horizontal bars: RTO, RPO (and lost writes when limited) against their objectives."""
    rows: list[tuple[str, float | None, float | None, str]] = [
        ("RTO", run.figure("rto_s"), run.rto_objective_s, "s"),
        ("RPO", run.figure("rpo_s"), run.rpo_objective_s, "s"),
    ]
    if run.max_lost_writes_objective is not None:
        rows.append(
            ("lost writes", run.figure("lost_writes"), float(run.max_lost_writes_objective), "")
        )
    label_w, bar_w, row_h, width = 90, 420, 30, 760
    height = row_h * len(rows) + 12
    body: list[str] = []
    summary = []
    for i, (name, measured, objective, unit) in enumerate(rows):
        y = 6 + i * row_h
        body.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{name}</text>')
        body.append(f'<rect x="{label_w}" y="{y + 4}" width="{bar_w}" height="16" fill="#f5f5f5"/>')
        u = f" {unit}" if unit else ""
        if measured is None:
            verdict, colour = "not measured", GREY
            body.append(f'<text x="{label_w + 6}" y="{y + 17}" fill="{GREY}">not measured</text>')
        else:
            top_value = max(measured, objective or 0.0) * 1.15 or 1.0
            scale = _Scale(0.0, top_value, label_w, label_w + bar_w)
            ok = objective is None or measured <= objective
            colour = GREEN if ok else RED
            verdict = "no objective" if objective is None else ("met" if ok else "MISSED")
            w = max(2.0, scale(measured) - label_w)
            body.append(
                f'<rect class="measured" x="{label_w}" y="{y + 4}" width="{_n(w)}" height="16" '
                f'fill="{colour}"><title>{name} measured: {measured:g}{u}</title></rect>'
            )
            if objective is not None:
                px = scale(objective)
                body.append(
                    f'<line class="objective" x1="{_n(px)}" y1="{y}" x2="{_n(px)}" '
                    f'y2="{y + 24}" stroke="{INK}" stroke-width="2" stroke-dasharray="4 3">'
                    f"<title>{name} objective: {objective:g}{u}</title></line>"
                )
        measured_text = "-" if measured is None else f"{measured:.2f}".rstrip("0").rstrip(".")
        objective_text = "none" if objective is None else f"≤ {objective:g}{u}"
        text = (
            f"{measured_text}{u if measured is not None else ''} (objective {objective_text}): "
            f"{verdict}"
        )
        summary.append(f"{name} {text}")
        body.append(
            f'<text x="{label_w + bar_w + 10}" y="{y + 17}" fill="{colour}" '
            f'font-weight="600">{_e(text)}</text>'
        )
    return _svg(
        width,
        height,
        f"{run.drill} on {run.engine}: measured against objectives",
        "; ".join(summary),
        body,
        cls="gauge",
    )


# -- trends ------------------------------------------------------------------------------------
def trend_chart(trend: Trend, *, metric: str) -> str:
    """RTO or RPO of every run of one drill, the objective drawn as a dashed line."""
    label = metric.upper()
    values = [_value(p, metric) for p in trend.points]
    objectives = [_objective(p, metric) for p in trend.points]
    width, height, left, right, top, bottom = 460, 210, 48, 14, 22, 40
    known = [v for v in values + objectives if v is not None]
    high = max(known, default=1.0) * 1.15 or 1.0
    y = _Scale(0.0, high, height - bottom, top)
    n = len(trend.points)
    inset = 18  # keeps the first and last points (and their labels) off the axes
    plot_w = width - left - right - 2 * inset
    x0 = left + inset
    xs = [x0 + plot_w / 2] if n == 1 else [x0 + i * plot_w / (n - 1) for i in range(n)]
    body: list[str] = []
    for tick in nice_ticks(0.0, high, count=4):
        py = y(tick)
        body.append(
            f'<line x1="{left}" y1="{_n(py)}" x2="{width - right}" y2="{_n(py)}" '
            f'stroke="{LIGHT}"/><text x="{left - 6}" y="{_n(py + 4)}" text-anchor="end" '
            f'fill="{GREY}">{tick:g}</text>'
        )
    body.append(f'<text x="10" y="{top - 8}" fill="{GREY}">{label} (s)</text>')
    for seg in _runs_of(values, xs):
        if len(seg) > 1:
            pts = " ".join(f"{_n(px)},{_n(y(value))}" for px, value in seg)
            body.append(
                f'<polyline class="measured" points="{pts}" fill="none" stroke="{BLUE}" '
                f'stroke-width="2.5"/>'
            )
    # The objective, as a step line (it may change between runs), over the measured line.
    segments = _runs_of(objectives, xs)
    for seg in segments:
        pts = " ".join(f"{_n(px)},{_n(y(value))}" for px, value in seg)
        if len(seg) == 1:
            px, value = seg[0]
            pts = f"{_n(px - 20)},{_n(y(value))} {_n(px + 20)},{_n(y(value))}"
        body.append(
            f'<polyline class="objective" points="{pts}" fill="none" stroke="{RED}" '
            f'stroke-width="2" stroke-dasharray="7 5"><title>{label} objective</title>'
            "</polyline>"
        )
    for px, p, v, objective in zip(xs, trend.points, values, objectives, strict=True):
        when_text = when(p.started_at)
        if v is None:
            body.append(
                f'<g class="unmeasured"><circle cx="{_n(px)}" cy="{_n(y(0))}" r="5" fill="#fff" '
                f'stroke="{GREY}" stroke-width="2"/><title>{_e(when_text)} ({p.run_id}): '
                f"{label} not measured, drill {_e(p.verdict or 'error')}</title></g>"
            )
            continue
        ok = objective is None or v <= objective
        if n <= 10 or px == xs[-1]:
            # Values stay readable when they sit far below a generous objective.
            body.append(
                f'<text class="value" x="{_n(px)}" y="{_n(y(v) - 9)}" text-anchor="middle" '
                f'fill="{INK}" font-size="11">{v:.2f}</text>'
            )
        body.append(
            f'<circle class="point {"met" if ok else "missed"}" cx="{_n(px)}" cy="{_n(y(v))}" '
            f'r="5" fill="{GREEN if ok else RED}" stroke="#fff" stroke-width="1.5">'
            f"<title>{_e(when_text)} ({p.run_id}): {label} {v:.2f} s, objective "
            f"{'none' if objective is None else f'{objective:g} s'}, "
            f"{'met' if ok else 'MISSED'}, drill {_e(p.verdict or 'error')}</title></circle>"
        )
    # Date labels: first and last run (and the middle one when there are many).
    shown = sorted({0, n - 1} | ({n // 2} if n > 4 else set()))
    for i in shown:
        anchor = "middle" if n == 1 or 0 < i < n - 1 else ("start" if i == 0 else "end")
        body.append(
            f'<text x="{_n(xs[i])}" y="{height - bottom + 16}" text-anchor="{anchor}" '
            f'fill="{GREY}" font-size="11">{_e(_short(trend.points[i].started_at))}</text>'
        )
    body.append(
        f'<text x="{width - right}" y="{height - 6}" text-anchor="end" fill="{GREY}" '
        f'font-size="11">{n} run{"s" if n != 1 else ""}, oldest left</text>'
    )
    desc = f"{label} per run: " + ", ".join(
        f"{_short(p.started_at)} {'-' if v is None else f'{v:.2f} s'}"
        for p, v in zip(trend.points, values, strict=True)
    )
    return _svg(width, height, f"{label} of {trend.key} across runs", desc, body, cls="trend")


def _value(p: TrendPoint, metric: str) -> float | None:
    return p.rto_s if metric == "rto" else p.rpo_s


def _objective(p: TrendPoint, metric: str) -> float | None:
    return p.rto_objective_s if metric == "rto" else p.rpo_objective_s


def _runs_of(values: list[float | None], xs: list[float]) -> list[list[tuple[float, float]]]:
    """Consecutive known values, as separate polylines (a gap where a run measured nothing)."""
    out: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for px, v in zip(xs, values, strict=True):
        if v is None:
            if current:
                out.append(current)
            current = []
        else:
            current.append((px, v))
    if current:
        out.append(current)
    return out


def _short(iso: str) -> str:
    text = when(iso)
    return text[5:16] if len(text) >= 16 else text
