"""Reports end to end: a drill plan run twice into a fresh history, every format rendered from
it, the HTML checked in headless Chromium, and the history kept on a real PostgreSQL.

The browser screenshot is also copied to reports/browser-check/report.png in the repository
(a stable path to look at after `make test`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from harness.engines.base import Endpoint, Engine
from harness.report.history import LATEST, History, connect, migrate
from harness.report.journal import record_from_dict

from .conftest import REPO, SCENARIOS

SCREENSHOT = REPO / "reports" / "browser-check" / "report.png"
JOURNALS = REPO / "tests" / "unit" / "data" / "journals"
# Chart colours from harness/report/charts.py, as RGB.
CHART_COLOURS = {
    "restore phase / measured line": (0x15, 0x65, 0xC0),
    "verify phase": (0x6A, 0x1B, 0x9A),
    "ok step / met": (0x2E, 0x7D, 0x32),
    "lost-writes window": (0xFF, 0xCD, 0xD2),
}


@dataclass(frozen=True)
class Recorded:
    """Two runs of a plan recorded in one history, and the report rendered from it."""

    history: Path
    runs: list[Path]
    outputs: list[subprocess.CompletedProcess[str]]
    report_dir: Path


def cli(*args: str | Path, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *(str(a) for a in args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    base = tmp_path_factory.mktemp("report")
    plan = base / "plans" / "it-nightly.yaml"
    plan.parent.mkdir()
    rel = os.path.relpath(SCENARIOS, plan.parent)
    plan.write_text(
        "plan: it-nightly\n"
        "summary: The two fastest drills, for the report integration test.\n"
        "engines: [postgres]\n"
        "drills:\n"
        f"  - scenario: {rel}/quickstart.yaml\n"
        f"  - scenario: {rel}/kill-restart.yaml\n"
        "    objectives: {rto_s: 25}\n",
        encoding="utf-8",
    )
    history = base / "history.sqlite"
    runs, outputs = [], []
    for i in (1, 2):
        out = base / f"run{i}"
        # Each plan run's two drills at once (`--jobs 2`): what is checked is what the history
        # and the reports hold, no timing beyond the drills' own RTO objectives (30 s, 25 s).
        done = cli("run", plan, "--out", out, "--history", history, "--jobs", "2", "--quiet")
        assert done.returncode == 0, done.stdout + done.stderr
        runs.append(out)
        outputs.append(done)
    report_dir = base / "report"
    done = cli("report", "--history", history, "--out", report_dir, timeout_s=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return Recorded(history, runs, outputs, report_dir)


def test_a_plan_run_records_every_drill_and_writes_its_report(recorded: Recorded) -> None:
    with History.open(recorded.history) as h:
        runs = h.runs()
    assert len(runs) == 4
    assert {r.plan for r in runs} == {"it-nightly"}
    assert sorted((r.scenario, r.engine) for r in runs) == sorted(
        [("quickstart", "postgres"), ("kill-restart", "postgres")] * 2
    )
    # The plan's objective override reached the drill (and its journal).
    kill = [r for r in runs if r.scenario == "kill-restart"]
    assert {r.rto_objective_s for r in kill} == {25.0}
    assert {r.rto_objective_s for r in runs if r.scenario == "quickstart"} == {30.0}
    journals = sorted(recorded.runs[0].glob("*/journal.json"))
    assert len(journals) == 2
    # Each plan run wrote its own report, about its own two drills.
    for out, done in zip(recorded.runs, recorded.outputs, strict=True):
        for name in ("report.html", "report.md", "junit.xml", "report.json"):
            assert (out / name).stat().st_size > 0
            assert f"report: {out / name}" in done.stdout
        data = json.loads((out / "report.json").read_text(encoding="utf-8"))
        assert len(data["focus_run_ids"]) == 2
        assert set(data["focus_run_ids"]) <= {r.run_id for r in runs}
    second = json.loads((recorded.runs[1] / "report.json").read_text(encoding="utf-8"))
    assert {t["runs"] for t in second["trends"]} == {2}  # the history, not just this run


def test_report_renders_all_formats_from_two_recorded_runs(recorded: Recorded) -> None:
    d = recorded.report_dir
    data = json.loads((d / "report.json").read_text(encoding="utf-8"))
    assert data["totals"]["runs"] == 4 and data["totals"]["pass"] == 4
    trends = {t["drill"]: t for t in data["trends"]}
    assert set(trends) == {"quickstart", "kill-restart"}
    assert all(len(t["points"]) == 2 for t in trends.values())
    assert all(p["rto_s"] > 0 for t in trends.values() for p in t["points"])
    assert trends["kill-restart"]["lost_writes_total"] == 0

    root = ET.parse(d / "junit.xml").getroot()
    cases = list(root.iter("testcase"))
    assert [c.get("name") for c in cases] == ["kill-restart on postgres", "quickstart on postgres"]
    for case in cases:
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert float(props["rto_s"] or "nan") > 0
        assert props["rpo_s"] and props["lost_writes"]
        assert not case.findall("failure") and not case.findall("error")

    md = (d / "report.md").read_text(encoding="utf-8")
    assert "| kill-restart | postgres | 2 | 2 / 0 / 0 / 0 | 2 of 2 measured |" in md

    html = (d / "report.html").read_text(encoding="utf-8")
    assert html.count('class="timeline"') == 2
    assert html.count('<polyline class="measured"') == 4  # RTO and RPO lines of two drills
    assert html.count('<polyline class="objective"') == 4


# -- the HTML in a real browser ------------------------------------------------------------------
def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("headless Chromium is not installed (run `make browser`: apt-get install chromium)")


def _headless(html: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            # Offline for real: any host name the page named would fail to resolve.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--hide-scrollbars",
            *extra,
            html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def _colour_counts(png: Path) -> dict[tuple[int, int, int], int]:
    from PIL import Image

    with Image.open(png) as image:
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 24) or []
    return {colour: n for n, colour in colours}  # type: ignore[misc]


def _screenshot(html: Path, png: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    done = _headless(html, profile, "--window-size=1280,5200", f"--screenshot={png}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert png.exists(), done.stderr[-2000:]
    return done


def test_html_report_renders_in_headless_chromium(recorded: Recorded, tmp_path: Path) -> None:
    html = recorded.report_dir / "report.html"
    png = tmp_path / "report.png"
    done = _screenshot(html, png, tmp_path / "profile")
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(png, SCREENSHOT)

    counts = _colour_counts(png)
    assert len(counts) > 50, f"the screenshot looks blank: {len(counts)} colours"
    # The same page without its charts: what the charts drew is the difference.
    bare_html = tmp_path / "bare.html"
    text = html.read_text(encoding="utf-8")
    bare = text
    while "<svg" in bare:
        start = bare.index("<svg")
        bare = bare[:start] + bare[bare.index("</svg>", start) + len("</svg>") :]
    assert bare != text
    bare_html.write_text(bare, encoding="utf-8")
    bare_png = tmp_path / "bare.png"
    _screenshot(bare_html, bare_png, tmp_path / "profile-bare")
    bare_counts = _colour_counts(bare_png)
    for what, rgb in CHART_COLOURS.items():
        drawn = counts.get(rgb, 0) - bare_counts.get(rgb, 0)
        assert drawn > 400, f"charts drew {drawn} pixels of {what} {rgb}"

    dom = _headless(html, tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count('<svg xmlns="http://www.w3.org/2000/svg" class="timeline"') == 2
    assert dom.stdout.count('class="trend"') == 4


# -- the history on PostgreSQL -------------------------------------------------------------------
@pytest.fixture
def postgres_history_url(postgres_endpoint: Endpoint, postgres_engine: Engine) -> Iterator[str]:
    """A fresh database on the session's PostgreSQL server, dropped afterwards."""
    creds = postgres_engine.credentials
    admin = (
        f"postgresql://{creds.user}:{creds.password}@{postgres_endpoint.host}:"
        f"{postgres_endpoint.port}/{creds.database}"
    )
    name = "history_it"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield admin.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _journal(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((JOURNALS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def test_history_on_postgresql_migrates_records_and_reports(
    postgres_history_url: str, tmp_path: Path
) -> None:
    # A v1 history, as an older recovery-drill left it.
    db = connect(postgres_history_url)
    assert migrate(db, upto=1) == [1]
    j = _journal("empty-backup")
    with db.transaction():
        db.execute(
            "INSERT INTO drill_runs (run_id, scenario, engine, status, verdict, started_at, "
            "reasons, rto_objective_s, rpo_objective_s, objectives_met, objectives_missed, "
            "journal) VALUES (?, ?, ?, ?, ?, ?, '[]', 30, 10, TRUE, '[]', ?)",
            (
                j["run_id"],
                j["scenario"],
                j["engine"],
                j["status"],
                j["verdict"],
                j["started_at"],
                json.dumps(j),
            ),
        )
    db.close()

    with History.open(postgres_history_url) as h:
        assert h.version == LATEST
        assert "***" in h.where and "drill-secret" not in h.where
        [old] = h.runs()
        assert {b.name for b in old.backups} == {"nightly-1", "nightly-2"}  # backfilled
        for name in ("quickstart", "kill-restart", "wrong-path-wipe"):
            h.record(record_from_dict(_journal(name)), plan="nightly")
        h.record(record_from_dict(_journal("quickstart")), plan="nightly")  # idempotent
        runs = h.runs()
        assert len(runs) == 4
        quick = next(r for r in runs if r.scenario == "quickstart")
        assert quick.objectives_met is True and quick.figure("lost_writes") == 297
        assert next(r for r in runs if r.scenario == "wrong-path-wipe").objectives_met is None

    out = tmp_path / "pg-report"
    done = cli("report", "--history", postgres_history_url, "--out", out, timeout_s=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "drill-secret" not in done.stdout + done.stderr
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["totals"]["runs"] == 4
    assert "drill-secret" not in (out / "report.html").read_text(encoding="utf-8")
