"""The PostgreSQL adapter against a real server: seeding, fingerprints, probe, writer rows."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from harness.dataset import DatasetSpec, reference_fingerprint, table_name
from harness.engines.base import Endpoint, Engine


@pytest.fixture()
def conn(postgres_engine: Engine, postgres_endpoint: Endpoint):  # type: ignore[no-untyped-def]
    c = postgres_engine.connect(postgres_endpoint, timeout_s=10)
    c.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    yield c
    c.close()


def test_seeded_tables_match_the_python_reference(postgres_engine: Engine, conn) -> None:  # type: ignore[no-untyped-def]
    dataset = DatasetSpec(tables=2, rows_per_table=3000, seed=11)
    postgres_engine.prepare(conn)
    postgres_engine.seed(conn, dataset)
    tables = [table_name(1), table_name(2)]
    measured = postgres_engine.fingerprints(conn, tables)
    expected = {
        t: reference_fingerprint(seed=11, table_index=i, count=3000)
        for i, t in enumerate(tables, 1)
    }
    assert measured == expected
    assert measured[tables[0]] != measured[tables[1]]


def test_one_changed_row_changes_the_fingerprint(postgres_engine: Engine, conn) -> None:  # type: ignore[no-untyped-def]
    postgres_engine.prepare(conn)
    postgres_engine.seed(conn, DatasetSpec(tables=1, rows_per_table=500, seed=5))
    before = postgres_engine.fingerprints(conn, [table_name(1)])
    conn.execute(f"UPDATE {table_name(1)} SET amount = amount + 0.01 WHERE id = 250")
    after = postgres_engine.fingerprints(conn, [table_name(1)])
    assert before[table_name(1)].rows == after[table_name(1)].rows == 500
    assert before != after


def test_probe_fails_on_an_empty_database_and_passes_on_a_seeded_one(
    postgres_engine: Engine, conn
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(psycopg.Error):
        postgres_engine.probe(conn)
    postgres_engine.prepare(conn)
    postgres_engine.seed(conn, DatasetSpec(tables=1, rows_per_table=10, seed=1))
    postgres_engine.probe(conn)


def test_writer_rows_round_trip(postgres_engine: Engine, conn) -> None:  # type: ignore[no-untyped-def]
    postgres_engine.prepare(conn)
    now = dt.datetime.now(dt.UTC)
    for seq in (1, 2, 5):
        postgres_engine.insert_write(conn, seq, now)
    assert postgres_engine.write_seqs(conn) == {1, 2, 5}
    with pytest.raises(psycopg.Error) as caught:
        postgres_engine.insert_write(conn, 2, now)
    assert postgres_engine.is_definite_failure(caught.value)


def test_parallel_seeding_takes_the_reference_on_the_server(  # type: ignore[no-untyped-def]
    postgres_engine: Engine, postgres_endpoint: Endpoint, conn
) -> None:
    """harness.seeding loads and fingerprints tables on several connections at once; the
    reference it returns is the Python definition's (so the same as MariaDB's, same seed)."""
    from harness.scenario.model import Dataset
    from harness.seeding import seed

    opened = []

    def connect():  # type: ignore[no-untyped-def]
        c = postgres_engine.connect(postgres_endpoint, timeout_s=10)
        opened.append(c)
        return c

    seeded = seed(
        postgres_engine, conn, Dataset(tables=3, rows_per_table=2000, seed=5), connect=connect
    )
    assert seeded.reference == {
        table_name(i): reference_fingerprint(seed=5, table_index=i, count=2000) for i in (1, 2, 3)
    }
    assert opened and all(c.closed for c in opened)
    assert seeded.source_bytes > 3 * 2000 * 40


def test_copy_and_insert_seeding_give_the_same_rows_and_fingerprints(  # type: ignore[no-untyped-def]
    postgres_engine: Engine, conn
) -> None:
    """The COPY FREEZE path (the default) and the earlier INSERT ... SELECT path load the same
    rows: the fingerprints are those the code on main gave before the change (pinned), and
    only the COPY path's pages are all-visible (written frozen)."""
    from harness.engines.postgres import PostgresEngine

    assert isinstance(postgres_engine, PostgresEngine)
    dataset = DatasetSpec(tables=2, rows_per_table=3000, seed=11)
    pinned = {
        table_name(1): "1684653761741719190895",
        table_name(2): "1736026190091772567052",
    }
    found = {}
    for via in ("copy", "insert"):
        engine = PostgresEngine()
        engine.credentials = postgres_engine.credentials
        engine.seed_via = via  # type: ignore[assignment]
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        engine.prepare(conn)
        engine.seed(conn, dataset)
        fingerprints = engine.fingerprints(conn, list(pinned))
        assert {t: f.digest for t, f in fingerprints.items()} == pinned, via
        assert all(f.rows == 3000 for f in fingerprints.values())
        row = conn.execute(
            "SELECT sum(relpages), sum(relallvisible) FROM pg_class WHERE relname = ANY(%s)",
            (list(pinned),),
        ).fetchone()
        assert row is not None and row[0] > 0
        found[via] = (int(row[0]), int(row[1]))
    assert found["copy"][1] == found["copy"][0], found  # every page all-visible: frozen
    assert found["insert"][1] == 0, found
