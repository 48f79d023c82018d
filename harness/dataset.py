"""Deterministic seed data and its reference fingerprints, independent of any database.

The same (seed, table, rows) always yields the same rows, so the reference fingerprint is
computed here in Python and compared with what each engine computes in SQL. A fingerprint is
the row count plus the sum of the first 60 bits of md5 over each row's text form
``id|account|amount|note|created``: order-independent and cheap on the server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass

WORDS = (
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
    "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo",
    "sierra", "tango", "uniform", "victor", "whiskey", "xray", "yankee", "zulu",
)  # fmt: skip
EPOCH = dt.date(2020, 1, 1)


@dataclass(frozen=True)
class DatasetSpec:
    """What an engine seeds: how many tables, how many rows each, and the random seed."""

    tables: int
    rows_per_table: int
    seed: int = 0


@dataclass(frozen=True)
class Fingerprint:
    """Row count and order-independent content hash of one table."""

    rows: int
    digest: str

    def as_dict(self) -> dict[str, object]:
        return {"rows": self.rows, "digest": self.digest}


def table_name(index: int) -> str:
    """Name of the index-th seeded table (1-based)."""
    return f"seed_{index:02d}"


def table_names(count: int) -> list[str]:
    """Names of all seeded tables."""
    return [table_name(i) for i in range(1, count + 1)]


def rows(*, seed: int, table_index: int, count: int) -> Iterator[tuple[int, int, str, str, str]]:
    """The rows of one seeded table as text-ready tuples (id, account, amount, note, created)."""
    rng = random.Random(f"{seed}:{table_index}")
    randrange = rng.randrange
    choice = rng.choice
    for row_id in range(1, count + 1):
        cents = randrange(0, 10_000_000)
        amount = f"{cents // 100}.{cents % 100:02d}"
        note = f"{choice(WORDS)} {choice(WORDS)} {randrange(1_000_000)}"
        created = (EPOCH + dt.timedelta(days=randrange(2000))).isoformat()
        yield row_id, randrange(1, 100_000), amount, note, created


def row_text(row: tuple[int, int, str, str, str]) -> str:
    """The canonical text form a fingerprint hashes (what concat_ws('|', ...) gives in SQL)."""
    return "|".join(str(v) for v in row)


def row_hash(text: str) -> int:
    """First 60 bits of md5(text), as SQL computes them."""
    return int(hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()[:15], 16)


def reference_fingerprint(*, seed: int, table_index: int, count: int) -> Fingerprint:
    """The fingerprint the seeded table must have."""
    total = sum(
        row_hash(row_text(r)) for r in rows(seed=seed, table_index=table_index, count=count)
    )
    return Fingerprint(rows=count, digest=str(total))


def tsv_chunks(
    *, seed: int, table_index: int, count: int, chunk_rows: int = 20_000
) -> Iterator[bytes]:
    """The rows as tab-separated COPY/LOAD DATA text, in chunks."""
    buffer: list[str] = []
    for r in rows(seed=seed, table_index=table_index, count=count):
        buffer.append("\t".join(str(v) for v in r))
        if len(buffer) >= chunk_rows:
            yield ("\n".join(buffer) + "\n").encode()
            buffer.clear()
    if buffer:
        yield ("\n".join(buffer) + "\n").encode()
