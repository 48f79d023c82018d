"""How PostgreSQL loads the synthetic dataset: the rows computed on the server by
harness.dataset.select_sql, fed to the table through COPY.

``COPY t FROM PROGRAM`` runs, inside the server's own container, ``psql -c "COPY (SELECT ...)
TO STDOUT (FORMAT binary)"``: a second backend computes the rows, psql relays them over a pipe,
and the loading backend inserts them as COPY does, a page at a time (one WAL record per page
instead of one per row: about 40% less WAL than ``INSERT ... SELECT``). No row crosses to the
harness's host, and the two backends of one table work on two cores at once. ``FREEZE`` (the
table is created in the same transaction) writes the rows already frozen and the pages
all-visible, so the primary key build and the first read after the load set no hint bits.
Everything is WAL-logged as usual (the table is never unlogged): replicas, physical backups,
archives and PITR see the same rows as before.

``COPY FROM PROGRAM`` needs a superuser (or ``pg_execute_server_program``) and psql in the
server's image: the drill's account is the image's ``POSTGRES_USER`` (a superuser) and both the
official image and the local builds ship psql; it connects over the local socket (the images
trust local connections), so no password is written into SQL. ``via="insert"`` keeps the
``INSERT ... SELECT`` path (the bench runs both side by side); the rows are the same.
"""

from __future__ import annotations

import shlex
from typing import Literal

from harness.dataset import DatasetSpec, SeedPlan, id_ranges, select_sql, table_name

SeedVia = Literal["copy", "insert"]

COLUMNS = (
    "(id bigint NOT NULL, account integer NOT NULL, amount numeric(12,2) NOT NULL, "
    "note text NOT NULL, created date NOT NULL)"
)
# A big load is not a stuck statement: no statement timeout (SET lasts past the commit).
NO_TIMEOUT = "SET statement_timeout = 0"
# The dollar-quote around the program: the program holds digits, names and SQL without "$".
_QUOTE = "$seed$"


def seed_plan(
    dataset: DatasetSpec, *, parts: int, user: str, database: str, via: SeedVia = "copy"
) -> SeedPlan:
    """The plan: tables created and loaded, then the primary key built in one sorted pass
    (as pgbench -i does) and the table analysed.

    ``copy``: one unit per table, CREATE TABLE and COPY FREEZE in one transaction (the two
    backends of each unit already use two cores, so tables are not cut in id ranges).
    ``insert``: tables created first, then loaded in up to ``parts`` id ranges each."""
    create: list[list[str]] = []
    load: list[list[str]] = []
    finish: list[list[str]] = []
    for index in range(1, dataset.tables + 1):
        table = table_name(index)
        if via == "copy":
            ids = f"generate_series(1::bigint, {dataset.rows_per_table}) AS g(id)"
            select = select_sql(seed=dataset.seed, table_index=index, ids=ids, dialect="postgres")
            load.append(
                [
                    NO_TIMEOUT,
                    f"CREATE TABLE {table} {COLUMNS}",
                    copy_from_select(table, select, user=user, database=database),
                ]
            )
        else:
            create.append([f"CREATE TABLE {table} {COLUMNS}"])
            for first, last in id_ranges(dataset.rows_per_table, parts):
                ids = f"generate_series({first}::bigint, {last}) AS g(id)"
                select = select_sql(
                    seed=dataset.seed, table_index=index, ids=ids, dialect="postgres"
                )
                insert = f"INSERT INTO {table} (id, account, amount, note, created) {select}"
                load.append([NO_TIMEOUT, insert])
        finish.append([NO_TIMEOUT, f"ALTER TABLE {table} ADD PRIMARY KEY (id)", f"ANALYZE {table}"])
    return SeedPlan(create, load, finish)


def copy_from_select(table: str, select: str, *, user: str, database: str) -> str:
    """COPY of ``select``'s rows into ``table`` (created in the same transaction), computed by a
    second backend of the same server through psql in the server's container."""
    inner = f"COPY ({select}) TO STDOUT (FORMAT binary)"
    program = (
        f"psql -X -q -v ON_ERROR_STOP=1 -U {shlex.quote(user)} -d {shlex.quote(database)} "
        f"-c {shlex.quote(inner)}"
    )
    if _QUOTE in program:
        raise ValueError(f"the seeding program contains {_QUOTE}")
    return f"COPY {table} FROM PROGRAM {_QUOTE}{program}{_QUOTE} WITH (FORMAT binary, FREEZE)"
