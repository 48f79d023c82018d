"""harness.seeding's parallel plumbing and harness.dataset's server-side query, without a server.

That a server's rows equal ``rows`` is checked against real servers (integration tests)."""

from __future__ import annotations

import threading
import time

import pytest

from harness.dataset import P, id_ranges, row, rows, salts, select_sql
from harness.seeding import parts_for, per_table, workers_for


def test_workers_are_one_per_table_up_to_the_cpus() -> None:
    assert workers_for(1, cpus=8) == 1
    assert workers_for(25, cpus=2) == 2
    assert workers_for(3, cpus=4) == 3
    assert workers_for(0, cpus=4) == 1


class _Conn:
    def __init__(self, name: str) -> None:
        self.name, self.closed, self.busy = name, False, threading.Lock()

    def close(self) -> None:
        self.closed = True


def test_per_table_runs_in_order_on_distinct_connections_and_closes_the_new_ones() -> None:
    main = _Conn("main")
    made: list[_Conn] = []

    def connect() -> _Conn:
        made.append(_Conn(f"extra-{len(made)}"))
        return made[-1]

    def work(c: _Conn, item: int) -> tuple[int, str]:
        assert c.busy.acquire(blocking=False), "a connection was used by two threads at once"
        try:
            time.sleep(0.01)
            return item * 2, c.name
        finally:
            c.busy.release()

    out = per_table(main, connect, work, range(10))
    assert [x for x, _ in out] == [i * 2 for i in range(10)]
    assert len(made) == workers_for(10) - 1
    assert all(c.closed for c in made) and not main.closed


def test_per_table_raises_the_first_error_and_still_closes() -> None:
    made: list[_Conn] = []

    def connect() -> _Conn:
        made.append(_Conn("x"))
        return made[-1]

    def work(c: _Conn, item: int) -> int:
        if item == 3:
            raise ValueError("table 3 failed")
        return item

    with pytest.raises(ValueError, match="table 3"):
        per_table(_Conn("main"), connect, work, range(6))
    assert all(c.closed for c in made)


def test_rows_are_row_by_row_and_salts_depend_on_seed_and_table() -> None:
    assert list(rows(seed=7, table_index=2, count=5)) == [
        row(seed=7, table_index=2, row_id=i) for i in range(1, 6)
    ]
    assert salts(7, 2) != salts(8, 2) != salts(7, 3)
    assert all(0 <= s < P for s in salts(7, 2))


def test_the_row_formula_stays_within_64_bit_integers() -> None:
    # The largest intermediate on the server is u * u + C (u < P) and id * M + S.
    assert (P - 1) ** 2 + 2**31 < 2**63
    assert (2**31 - 1) * 1_103_515_245 + P < 2**63


@pytest.mark.parametrize("dialect", ["postgres", "mysql"])
def test_select_sql_names_the_five_columns_and_carries_the_salts(dialect: str) -> None:
    sql = select_sql(seed=3, table_index=4, ids="ids", dialect=dialect)
    assert sql.startswith("SELECT id, ")
    for column in ("account", "amount", "note", "created"):
        assert f" AS {column}" in sql
    assert "FROM ids" in sql
    for salt in salts(3, 4):
        assert str(salt) in sql
    assert (" DIV " in sql) is (dialect == "mysql")


def test_select_sql_refuses_an_unknown_dialect() -> None:
    with pytest.raises(ValueError, match="dialect"):
        select_sql(seed=1, table_index=1, ids="x", dialect="oracle")


@pytest.mark.parametrize(
    ("count", "parts"), [(1, 1), (1, 4), (10, 3), (7, 2), (400_000, 2), (5, 5)]
)
def test_id_ranges_cover_every_id_once_in_near_equal_parts(count: int, parts: int) -> None:
    ranges = id_ranges(count, parts)
    ids = [i for first, last in ranges for i in range(first, last + 1)]
    assert ids == list(range(1, count + 1))
    sizes = [last - first + 1 for first, last in ranges]
    assert len(ranges) == min(count, parts) and max(sizes) - min(sizes) <= 1


def test_tables_are_cut_only_when_they_do_not_divide_among_the_workers() -> None:
    assert parts_for(4, 2) == 1
    assert parts_for(3, 2) == 2
    assert parts_for(1, 2) == 2
    assert parts_for(5, 1) == 1
