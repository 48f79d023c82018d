"""restore-test names the database a backup was taken of from the dump's own header."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from harness.backups.external import sniff_source_database

DATA = Path(__file__).parent / "data"
# Made by PostgreSQL 15's pg_dump -Fc of a database named Chinook_x (880 bytes).
CUSTOM = DATA / "pgdump-custom-pg15.dump"


def test_pg_custom_archive_header_names_its_database(tmp_path: Path) -> None:
    assert sniff_source_database(CUSTOM) == "Chinook_x"
    zipped = tmp_path / "x.dump.gz"
    zipped.write_bytes(gzip.compress(CUSTOM.read_bytes()))
    assert sniff_source_database(zipped) == "Chinook_x"
    folder = tmp_path / "dir"
    folder.mkdir()
    shutil.copy(CUSTOM, folder / "toc.dat")  # a directory archive's toc.dat has the same header
    assert sniff_source_database(folder) == "Chinook_x"


def test_a_truncated_header_says_nothing(tmp_path: Path) -> None:
    cut = tmp_path / "cut.dump"
    cut.write_bytes(CUSTOM.read_bytes()[:30])
    assert sniff_source_database(cut) is None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("-- MariaDB dump 10.19\n--\n-- Host: localhost    Database: Chinook\n", "Chinook"),
        ('--\n\\connect "Chinook_x"\n\nSET x = 1;\n', "Chinook_x"),
        ("\\connect shop\n", "shop"),
        ("\\c chinook;\n", "chinook"),
        ("CREATE TABLE t (a int);\n", None),
    ],
)
def test_text_dumps(tmp_path: Path, text: str, name: str | None) -> None:
    path = tmp_path / "dump.sql"
    path.write_text(text, encoding="utf-8")
    assert sniff_source_database(path) == name
