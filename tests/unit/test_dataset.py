"""Seed data: deterministic rows, md5-based fingerprints and TSV chunks, without a database.

Whether PostgreSQL computes the same fingerprint in SQL needs a server: integration tests check it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.dataset import (
    reference_fingerprint,
    row_hash,
    row_text,
    rows,
    table_name,
    table_names,
    tsv_chunks,
)

SEEDS = st.integers(-(2**31), 2**31)


def md5_60(text: str) -> int:
    """Independent reference: the first 15 hex digits (60 bits) of md5 over the UTF-8 text."""
    return int(hashlib.md5(text.encode("utf-8")).hexdigest()[:15], 16)


# RFC 1321, appendix A.5 test suite.
@pytest.mark.parametrize(
    ("text", "md5_hex"),
    [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
    ],
)
def test_row_hash_is_the_first_60_bits_of_md5(text: str, md5_hex: str) -> None:
    assert row_hash(text) == int(md5_hex[:15], 16)


@given(st.text(max_size=200))
def test_row_hash_matches_md5_for_any_text(text: str) -> None:
    value = row_hash(text)
    assert value == md5_60(text)
    assert 0 <= value < 2**60


def test_row_text_joins_with_pipes() -> None:
    assert (
        row_text((7, 42, "12.05", "alpha bravo 3", "2021-02-03"))
        == "7|42|12.05|alpha bravo 3|2021-02-03"
    )


@settings(deadline=None, max_examples=30)
@given(seed=SEEDS, table=st.integers(1, 50), count=st.integers(0, 300))
def test_same_seed_gives_identical_rows_and_fingerprint(seed: int, table: int, count: int) -> None:
    first = list(rows(seed=seed, table_index=table, count=count))
    again = list(rows(seed=seed, table_index=table, count=count))
    assert first == again
    assert reference_fingerprint(seed=seed, table_index=table, count=count) == (
        reference_fingerprint(seed=seed, table_index=table, count=count)
    )


@settings(deadline=None, max_examples=30)
@given(seed=SEEDS, other=SEEDS, table=st.integers(1, 50))
def test_different_seed_gives_different_rows_and_fingerprint(
    seed: int, other: int, table: int
) -> None:
    if seed == other:
        other += 1
    count = 50
    assert list(rows(seed=seed, table_index=table, count=count)) != list(
        rows(seed=other, table_index=table, count=count)
    )
    a = reference_fingerprint(seed=seed, table_index=table, count=count)
    b = reference_fingerprint(seed=other, table_index=table, count=count)
    assert a.digest != b.digest


def test_tables_of_one_seed_differ() -> None:
    tables = [list(rows(seed=1, table_index=i, count=20)) for i in (1, 2, 3)]
    assert tables[0] != tables[1] != tables[2] != tables[0]


def test_a_longer_table_starts_with_the_rows_of_a_shorter_one() -> None:
    short = list(rows(seed=9, table_index=1, count=10))
    long = list(rows(seed=9, table_index=1, count=25))
    assert long[:10] == short


@settings(deadline=None, max_examples=30)
@given(seed=SEEDS, table=st.integers(1, 50), count=st.integers(0, 200))
def test_reference_fingerprint_is_count_and_sum_of_md5_60(
    seed: int, table: int, count: int
) -> None:
    fingerprint = reference_fingerprint(seed=seed, table_index=table, count=count)
    expected = sum(
        md5_60("|".join(str(v) for v in r)) for r in rows(seed=seed, table_index=table, count=count)
    )
    assert fingerprint.rows == count
    assert fingerprint.digest == str(expected)
    assert fingerprint.as_dict() == {"rows": count, "digest": str(expected)}


@settings(deadline=None, max_examples=30)
@given(seed=SEEDS, table=st.integers(1, 50))
def test_rows_have_the_documented_shape(seed: int, table: int) -> None:
    count = 100
    produced = list(rows(seed=seed, table_index=table, count=count))
    assert [r[0] for r in produced] == list(range(1, count + 1))
    for _, account, amount, note, created in produced:
        assert 1 <= account < 100_000
        assert re.fullmatch(r"\d{1,5}\.\d{2}", amount)
        assert re.fullmatch(r"[a-z]+ [a-z]+ \d{1,6}", note)
        day = dt.date.fromisoformat(created)
        assert dt.date(2020, 1, 1) <= day < dt.date(2020, 1, 1) + dt.timedelta(days=2000)
        # Nothing COPY's text format or the | separator would need to escape.
        text = row_text((0, account, amount, note, created))
        assert not set(text) & {"\t", "\n", "\r", "\\"}
        assert text.count("|") == 4


@pytest.mark.parametrize(
    ("count", "chunk_rows"), [(0, 5), (1, 5), (20, 5), (21, 5), (7, 1), (50, 1000)]
)
def test_tsv_chunks_are_the_rows_as_tsv(count: int, chunk_rows: int) -> None:
    chunks = list(tsv_chunks(seed=5, table_index=2, count=count, chunk_rows=chunk_rows))
    assert len(chunks) == math.ceil(count / chunk_rows)
    assert all(chunk.endswith(b"\n") for chunk in chunks)
    lines = b"".join(chunks).decode().splitlines()
    assert len(lines) == count
    expected = ["\t".join(str(v) for v in r) for r in rows(seed=5, table_index=2, count=count)]
    assert lines == expected
    assert all(len(line.split("\t")) == 5 for line in lines)


def test_table_names() -> None:
    assert table_name(3) == "seed_03"
    assert table_names(3) == ["seed_01", "seed_02", "seed_03"]
    assert table_names(0) == []
