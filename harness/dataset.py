"""Deterministic seed data and its reference fingerprints, independent of any database.

Every column of a seeded row is a function of (seed, table, id) alone, in integer arithmetic
that PostgreSQL, MariaDB/MySQL and Python compute identically: with P = 2^31 - 1 and, per
column group c, constants M_c, C_c and a salt S_c (from md5 of ``"{seed}:{table}:{c}"``),

    u = (id * M_c + S_c) mod P,  w_c = (u * u + C_c) mod P

(a squaring modulo a prime: a quadratic polynomial in id, no pattern a reader or gzip
notices), and then ``amount`` = (w_1 mod 10^7) / 100, ``account`` = w_2 mod 99999 + 1,
``created`` = 2020-01-01 + ((w_2 div 99999) mod 2000) days, ``note`` = WORDS[w_3 mod 26]
WORDS[(w_3 div 26) mod 26] ((w_3 div 676) mod 10^6). Every product stays below 2^63.

No state carries from one row to the next, so a server computes the same rows from
``generate_series`` (PostgreSQL) or a sequence table (MariaDB) as ``rows`` does here
(``select_sql`` writes that query), in any order and in parallel: seeding runs on the
server, and PostgreSQL and MariaDB hold identical rows for the same seed. ``rows`` stays the
definition (SQL Server loads from it, the tests check the engines against it). A fingerprint
is the row count plus the sum of the first 60 bits of md5 over each row's text form
``id|account|amount|note|created``: order-independent and cheap on the server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

WORDS = (
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
    "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo",
    "sierra", "tango", "uniform", "victor", "whiskey", "xray", "yankee", "zulu",
)  # fmt: skip
EPOCH = dt.date(2020, 1, 1)
DAYS = 2000  # created lies in [EPOCH, EPOCH + DAYS)


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


@dataclass(frozen=True)
class SeedPlan:
    """How an engine loads a dataset on the server, as SQL in three stages run one after the
    other. Each stage is a list of units that may run in parallel (each on a connection of its
    own); a unit is statements run in order in one transaction."""

    create: list[list[str]]
    load: list[list[str]]
    finish: list[list[str]]

    def stages(self) -> list[list[list[str]]]:
        return [self.create, self.load, self.finish]


def id_ranges(count: int, parts: int) -> list[tuple[int, int]]:
    """Ids 1..count in at most ``parts`` contiguous, non-empty, near-equal (first, last) ranges."""
    parts = max(1, min(parts, count))
    bounds = [count * k // parts for k in range(parts + 1)]
    return [(bounds[k] + 1, bounds[k + 1]) for k in range(parts) if bounds[k + 1] > bounds[k]]


def table_name(index: int) -> str:
    """Name of the index-th seeded table (1-based)."""
    return f"seed_{index:02d}"


def table_names(count: int) -> list[str]:
    """Names of all seeded tables."""
    return [table_name(i) for i in range(1, count + 1)]


# The row formula's constants (see the module docstring): P prime, per group (M, C, D).
P = 2_147_483_647
GROUPS = ((1_103_515_245, 12_345), (69_069, 1_013_904_223), (48_271, 16_807))
MAX_ROW_ID = 2**31 - 1  # id * M_c + S_c stays below 2^63


def salts(seed: int, table_index: int) -> tuple[int, ...]:
    """S_c of each column group: md5 of ``"{seed}:{table}:{c}"``, modulo P."""

    def salt(c: int) -> int:
        key = f"{seed}:{table_index}:{c}".encode()
        return int(hashlib.md5(key, usedforsecurity=False).hexdigest()[:8], 16) % P

    return tuple(salt(c) for c in range(1, len(GROUPS) + 1))


def _mix(row_id: int, group: tuple[int, int], salt: int) -> int:
    m, c = group
    u = (row_id * m + salt) % P
    return (u * u + c) % P


def row(*, seed: int, table_index: int, row_id: int) -> tuple[int, int, str, str, str]:
    """One seeded row as a text-ready tuple (id, account, amount, note, created)."""
    return _row(row_id, salts(seed, table_index))


def _row(row_id: int, salt: tuple[int, ...]) -> tuple[int, int, str, str, str]:
    w1, w2, w3 = (_mix(row_id, g, s) for g, s in zip(GROUPS, salt, strict=True))
    cents = w1 % 10_000_000
    amount = f"{cents // 100}.{cents % 100:02d}"
    account = w2 % 99_999 + 1
    created = (EPOCH + dt.timedelta(days=(w2 // 99_999) % DAYS)).isoformat()
    note = f"{WORDS[w3 % 26]} {WORDS[(w3 // 26) % 26]} {(w3 // 676) % 1_000_000}"
    return row_id, account, amount, note, created


def rows(*, seed: int, table_index: int, count: int) -> Iterator[tuple[int, int, str, str, str]]:
    """The rows of one seeded table as text-ready tuples (id, account, amount, note, created)."""
    salt = salts(seed, table_index)
    for row_id in range(1, count + 1):
        yield _row(row_id, salt)


def select_sql(*, seed: int, table_index: int, ids: str, dialect: str) -> str:
    """The SELECT that computes ``rows`` on the server over the integer column ``id`` of the
    FROM item ``ids`` (``generate_series(1, n) AS g(id)``, ``(SELECT seq AS id FROM seq_1_to_n)
    AS g``), as columns (id, account, amount, note, created).

    ``dialect`` is "postgres" or "mysql" (MariaDB and MySQL 8): integer division and the word
    lookup differ, the arithmetic does not.
    """
    if dialect not in ("postgres", "mysql"):
        raise ValueError(f"unknown SQL dialect {dialect!r}")
    div = " / " if dialect == "postgres" else " DIV "

    def w(index: int) -> str:
        (m, c), salt = GROUPS[index], salts(seed, table_index)[index]
        u = f"((id * {m} + {salt}) % {P})"
        return f"(({u} * {u} + {c}) % {P})"

    def word(expr: str) -> str:
        names = ", ".join(f"'{x}'" for x in WORDS)
        if dialect == "postgres":
            return f"(ARRAY[{names}])[{expr} + 1]"
        return f"ELT({expr} + 1, {names})"

    if dialect == "postgres":
        # Each hash once per row: a subquery PostgreSQL keeps (OFFSET 0) computes w1..w3.
        ids = f"(SELECT id, {w(0)} AS w1, {w(1)} AS w2, {w(2)} AS w3 FROM {ids} OFFSET 0) AS r"
        w1, w2, w3 = "w1", "w2", "w3"
    else:  # MariaDB merges derived tables, repeating the expressions anyway: inline them
        w1, w2, w3 = w(0), w(1), w(2)
    day = f"({w2}{div}99999 % {DAYS})"
    if dialect == "postgres":
        amount = f"(({w1} % 10000000)::numeric / 100)::numeric(12, 2)"
        created = f"(DATE '{EPOCH.isoformat()}' + {day}::int)"
        parts = (word(f"{w3} % 26"), word(f"({w3}{div}26) % 26"), f"({w3}{div}676 % 1000000)")
        note = "(" + " || ' ' || ".join(parts) + ")"
        account = f"({w2} % 99999 + 1)::int"
    else:
        amount = f"CAST({w1} % 10000000 / 100 AS DECIMAL(12, 2))"
        created = f"(DATE '{EPOCH.isoformat()}' + INTERVAL {day} DAY)"
        parts = (word(f"{w3} % 26"), word(f"({w3}{div}26) % 26"), f"{w3}{div}676 % 1000000")
        note = "CONCAT(" + ", ' ', ".join(parts) + ")"
        account = f"({w2} % 99999 + 1)"
    return (
        f"SELECT id, {account} AS account, {amount} AS amount, {note} AS note, "
        f"{created} AS created FROM {ids}"
    )


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
