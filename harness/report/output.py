"""Report formats and where they are written: one function per format, one file name each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.report.html_report import render_html
from harness.report.journal import write_atomic
from harness.report.json_report import render_json
from harness.report.junit_report import render_junit
from harness.report.markdown_report import render_markdown
from harness.report.model import Report

RENDERERS: dict[str, Callable[[Report], str]] = {
    "html": render_html,
    "md": render_markdown,
    "junit": render_junit,
    "json": render_json,
}
FILE_NAMES = {"html": "report.html", "md": "report.md", "junit": "junit.xml", "json": "report.json"}
FORMATS = tuple(RENDERERS)


def render(report: Report, fmt: str) -> str:
    """``report`` in format ``fmt`` (one of FORMATS)."""
    return RENDERERS[fmt](report)


def write_reports(report: Report, out_dir: Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write each format into ``out_dir`` under its file name; return the paths written."""
    written = []
    for fmt in formats:
        path = out_dir / FILE_NAMES[fmt]
        write_atomic(path, render(report, fmt), mode=0o644)
        written.append(path)
    return written
