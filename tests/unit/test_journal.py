"""write_atomic and the journal: whole files or the old file, never a half-written one."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from harness.report.journal import read_journal, write_atomic, write_journal


def test_creates_the_file_and_its_folders(tmp_path: Path) -> None:
    path = tmp_path / "run-1" / "deep" / "journal.json"
    write_atomic(path, "hello\n")
    assert path.read_text(encoding="utf-8") == "hello\n"
    assert [p.name for p in path.parent.iterdir()] == ["journal.json"]


def test_replaces_content_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    path.write_text("old content that is longer than the new one\n", encoding="utf-8")
    for text in ("first\n", "second ✓\n", ""):
        write_atomic(path, text)
        assert path.read_text(encoding="utf-8") == text
    assert [p.name for p in tmp_path.iterdir()] == ["journal.json"]


def test_failed_write_keeps_the_old_content_and_removes_the_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    write_atomic(path, "good\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(path, "bad \ud800 surrogate")
    assert path.read_text(encoding="utf-8") == "good\n"
    assert [p.name for p in tmp_path.iterdir()] == ["journal.json"]


def test_journal_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    journal = {"status": "done", "measured": {"rto_s": 1.5, "lost_seqs": [[3, 5]]}, "ok": True}
    write_journal(path, journal)
    assert read_journal(path) == journal
    assert path.read_text(encoding="utf-8").endswith("}\n")


def test_journal_writes_unknown_types_as_text(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    write_journal(path, {"source": Path("scenarios/quickstart.yaml")})
    assert read_journal(path) == {"source": "scenarios/quickstart.yaml"}


def test_journal_is_private_to_its_owner_by_default(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    write_journal(path, {"status": "started"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
