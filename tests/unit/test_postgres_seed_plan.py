"""PostgreSQL's seeding plan (harness.engines.postgres.seed) and the fingerprints it must keep.

That the server's rows through either path equal the Python definition is checked against a
real server (tests/integration/test_postgres_engine.py)."""

from __future__ import annotations

import re
import shlex

from harness.dataset import DatasetSpec, Fingerprint, reference_fingerprint, select_sql
from harness.engines.postgres.seed import seed_plan

# Computed once with the code on main before seeding moved to COPY (harness.dataset is the
# definition; both server paths must give these, see the integration test).
PINNED = {
    (11, 1, 3000): "1684653761741719190895",
    (11, 2, 3000): "1736026190091772567052",
}


def test_the_definition_still_gives_the_fingerprints_it_gave_before() -> None:
    for (seed, index, count), digest in PINNED.items():
        assert reference_fingerprint(seed=seed, table_index=index, count=count) == Fingerprint(
            rows=count, digest=digest
        )


def test_copy_plan_creates_and_loads_each_table_in_one_transaction_with_freeze() -> None:
    dataset = DatasetSpec(tables=3, rows_per_table=1000, seed=7)
    plan = seed_plan(dataset, parts=2, user="drill", database="drill")
    assert plan.create == []
    assert len(plan.load) == 3  # one unit per table: FREEZE needs the CREATE in its transaction
    for index, unit in enumerate(plan.load, 1):
        table = f"seed_{index:02d}"
        assert unit[1].startswith(f"CREATE TABLE {table} ")
        copy = unit[2]
        match = re.fullmatch(
            rf"COPY {table} FROM PROGRAM \$seed\$(.*)\$seed\$ WITH \(FORMAT binary, FREEZE\)",
            copy,
            flags=re.DOTALL,
        )
        assert match, copy
        argv = shlex.split(match.group(1))
        assert argv[:2] == ["psql", "-X"] and argv[argv.index("-U") + 1] == "drill"
        inner = argv[argv.index("-c") + 1]
        ids = "generate_series(1::bigint, 1000) AS g(id)"
        select = select_sql(seed=7, table_index=index, ids=ids, dialect="postgres")
        assert inner == f"COPY ({select}) TO STDOUT (FORMAT binary)"
    assert [u[1:] for u in plan.finish] == [
        [f"ALTER TABLE seed_{i:02d} ADD PRIMARY KEY (id)", f"ANALYZE seed_{i:02d}"]
        for i in (1, 2, 3)
    ]


def test_insert_plan_loads_id_ranges_of_tables_created_first() -> None:
    dataset = DatasetSpec(tables=3, rows_per_table=1000, seed=7)
    plan = seed_plan(dataset, parts=2, user="drill", database="drill", via="insert")
    assert len(plan.create) == 3 and len(plan.load) == 6
    assert "generate_series(1::bigint, 500)" in plan.load[0][1]
    assert "generate_series(501::bigint, 1000)" in plan.load[1][1]
    assert all(u[1].startswith("INSERT INTO seed_0") for u in plan.load)


def test_names_with_shell_characters_are_quoted_for_the_program() -> None:
    plan = seed_plan(
        DatasetSpec(tables=1, rows_per_table=5), parts=1, user="o'brien", database="a b"
    )
    program = re.search(r"\$seed\$(.*)\$seed\$", plan.load[0][2], flags=re.DOTALL)
    assert program
    argv = shlex.split(program.group(1))
    assert argv[argv.index("-U") + 1] == "o'brien" and argv[argv.index("-d") + 1] == "a b"
