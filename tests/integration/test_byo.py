"""A team's own database on real servers: loading its files as its client would, the source
truth in SQL, every kind of damage a restore can do caught and named, the team's checks
deciding the verdict, and Chinook wiped and restored on both engines.

One server per engine for the module (the fidelity cases reload the small shop script each
time); the Chinook drills and the failing-check drill run whole drills.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import os
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.engines import get_engine
from harness.engines.base import Engine
from harness.engines.byo import byo_of
from harness.lab.images import resolve_image
from harness.lab.lab import Lab
from harness.measurement.catalogue import Comparison, Status, compare
from harness.measurement.verdict import Verdict
from harness.runner import Drill, new_run_id
from harness.scenario.model import DataCheck
from harness.server.byo import DatasetLoadError, Loaded, load_dataset, take_truth
from harness.server.node import Node, provision
from harness.truth import Truth
from harness.validation import load_scenario

from .conftest import REPO, SCENARIOS

BYO = SCENARIOS / "byo"
HERE = Path(__file__).resolve().parent
CHINOOK = REPO.parent / "shared" / "data" / "chinook"
needs_chinook = pytest.mark.skipif(
    not (CHINOOK / "chinook-postgres.sql").is_file(),
    reason=f"the Chinook sample database is not at {CHINOOK} (../shared next to the checkout)",
)
CHINOOK_FILES = {"postgres": "chinook-postgres.sql", "mariadb": "chinook-mysql.sql"}
SHOP = {
    "postgres": BYO / "data" / "shop-postgres.sql",
    "mariadb": BYO / "data" / "shop-mariadb.sql",
}


@dataclasses.dataclass
class Server:
    lab: Lab
    engine: Engine
    node: Node

    def load(self, path: Path, database: str | None = None) -> Loaded:
        if self.engine.name == "postgres":  # a closed session's backend ends asynchronously
            self.run(
                "drill",
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                "WHERE datname <> 'drill' AND pid <> pg_backend_pid()",
            )
        return load_dataset(self.lab, self.engine, self.node, path=path, database=database)

    def connect(self, database: str) -> Any:
        self.engine.credentials = dataclasses.replace(self.engine.credentials, database=database)
        return self.engine.connect(self.node.endpoint(self.lab, self.engine), timeout_s=10)

    def truth(self, database: str) -> Truth:
        conn = self.connect(database)
        try:
            return take_truth(self.engine, conn, database)
        finally:
            conn.close()

    def run(self, database: str, *statements: str) -> None:
        conn = self.connect(database)
        try:
            cur = conn.cursor()
            for statement in statements:
                cur.execute(statement)
            cur.close()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def byo_lab(client: docker.DockerClient) -> Iterator[Lab]:
    with Lab(new_run_id(), client=client) as lab:
        yield lab


@pytest.fixture(scope="module", params=["postgres", "mariadb"])
def server(request: pytest.FixtureRequest, byo_lab: Lab, client: docker.DockerClient) -> Server:
    engine = get_engine(request.param)
    image = resolve_image(
        client,
        engine=engine.name,
        requested=os.environ.get(f"RECOVERY_DRILL_{engine.name.upper()}_IMAGE"),
        default=engine.default_image,
        local_build=engine.local_image,
    ).name
    node = provision(byo_lab, engine, image=image, name=f"byo-{engine.name}")
    script = engine.after_start_script()
    if script is not None:
        assert byo_lab.exec(node.container_id, ["bash", "-c", script], timeout_s=60).ok
    return Server(byo_lab, engine, node)


@needs_chinook
def test_chinook_loads_with_its_own_script_and_its_truth_is_stable(
    server: Server, record_property: Any
) -> None:
    loaded = server.load(CHINOOK / CHINOOK_FILES[server.engine.name])
    assert loaded.database.lower() == "chinook"  # where the script's \c / USE left it
    first, second = server.truth(loaded.database), server.truth(loaded.database)
    result = compare(first, second)
    assert result.ok, result.differences
    assert result.compared["table data"] == 11
    assert sum(t.rows for t in first.tables.values()) == 15607
    kinds = {e.kind for e in first.objects}
    assert {"table", "column", "constraint", "index"} <= kinds
    record_property("load_s", loaded.took_s)
    record_property("truth_s", first.took_s)
    print(f"chinook on {server.engine.name}: load {loaded.took_s} s, truth {first.took_s} s, "
          f"{result.summary()}")  # fmt: skip


# Each case damages the freshly loaded shop one way; the comparison must name it.
DAMAGE = {
    "dropped trigger": (
        {"postgres": "DROP TRIGGER orders_status_audit ON orders",
         "mariadb": "DROP TRIGGER orders_status_audit"},
        ("trigger", {"postgres": "public.orders.orders_status_audit",
                     "mariadb": "orders.orders_status_audit"}, Status.MISSING, "missing"),
    ),
    "lost view": (
        {"postgres": "DROP VIEW customer_revenue", "mariadb": "DROP VIEW customer_revenue"},
        ("view", {"postgres": "public.customer_revenue", "mariadb": "customer_revenue"},
         Status.MISSING, "missing"),
    ),
    "sequence behind its table": (
        {"postgres": "SELECT setval('invoice_number_seq', 1000)",
         "mariadb": "ALTER SEQUENCE invoice_number_seq RESTART WITH 1000"},
        ("sequence", {"postgres": "public.invoice_number_seq", "mariadb": "invoice_number_seq"},
         Status.CHANGED, "at 1000, source "),
    ),
    "table emptied": (
        {"postgres": "DELETE FROM audit_log", "mariadb": "DELETE FROM audit_log"},
        ("table data", {"postgres": "public.audit_log", "mariadb": "audit_log"},
         Status.CHANGED, "has 0 rows, source 900"),
    ),
    "one json value changed": (
        {"postgres": "UPDATE product SET attributes = jsonb_set(attributes, '{rank}', '99') "
                     "WHERE product_id = 10",
         "mariadb": "UPDATE product SET attributes = JSON_SET(attributes, '$.rank', 99) "
                    "WHERE product_id = 10"},
        ("table data", {"postgres": "public.product", "mariadb": "product"},
         Status.CHANGED, "60 rows as in the source, content differs"),
    ),
    "one float changed in its last bit": (
        {"postgres": "UPDATE product SET weight_kg = weight_kg + 1e-15 WHERE product_id = 20",
         "mariadb": "UPDATE product SET weight_kg = weight_kg + 1e-15 WHERE product_id = 20"},
        ("table data", {"postgres": "public.product", "mariadb": "product"},
         Status.CHANGED, "60 rows as in the source, content differs"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damage_is_caught_and_named(server: Server, case: str) -> None:
    engine = server.engine.name
    damage, (kind, names, status, phrase) = DAMAGE[case]
    loaded = server.load(SHOP[engine])
    source = server.truth(loaded.database)
    server.run(loaded.database, damage[engine])
    result: Comparison = compare(source, server.truth(loaded.database))
    named = [d for d in result.differences if (d.kind, d.name) == (kind, names[engine])]
    assert named, f"{case} not caught: {result.differences}"
    assert named[0].status is status and phrase in named[0].reason, named[0]
    # Nothing else is blamed, except a table's counter moving with its rows.
    others = [d for d in result.differences if d not in named and d.kind != "auto_increment"]
    assert not others, others


def test_the_shop_truth_covers_every_kind_of_object(server: Server) -> None:
    loaded = server.load(SHOP[server.engine.name])
    truth = server.truth(loaded.database)
    kinds = {e.kind for e in truth.objects}
    expected = {"table", "column", "constraint", "index", "view", "function", "trigger",
                "sequence"}  # fmt: skip
    expected |= {"enum", "domain", "materialized view"} if server.engine.name == "postgres" else {
        "event", "procedure"}  # fmt: skip
    assert expected <= kinds, expected - kinds
    # A digest over the writer-free rows only (the writer engineer's row filter).
    part = byo_of(server.engine).digest_table
    conn = server.connect(loaded.database)
    try:
        table = "public.orders" if server.engine.name == "postgres" else "orders"
        some = part(conn, table, where="order_id <= 600")
        assert some.rows == 600 and some.digest != truth.tables[table].digest
    finally:
        conn.close()


def test_a_script_that_fails_says_where_with_the_clients_message(
    server: Server, tmp_path: Path
) -> None:
    bad = tmp_path / "broken.sql"
    bad.write_text("CREATE TABLE fine (id int);\n\nSELECT * FROM no_such_table;\nSELECT 1;\n")
    with pytest.raises(DatasetLoadError) as caught:
        server.load(bad, database=server.engine.credentials.database)
    message = str(caught.value)
    if server.engine.name == "postgres":
        assert "broken.sql:3: ERROR:" in message and "no_such_table" in message
    else:
        assert "at line 3" in message and "no_such_table" in message


def test_a_gzipped_pg_dump_archive_loads_into_the_named_database(
    server: Server, tmp_path: Path
) -> None:
    if server.engine.name != "postgres":
        pytest.skip("pg_dump archives are PostgreSQL's")
    loaded = server.load(SHOP["postgres"])
    dumped = server.lab.exec(
        server.node.container_id,
        ["bash", "-c", "pg_dump -Fc -h 127.0.0.1 -d shop -f /tmp/shop.dump"],
        timeout_s=60,
        env=server.engine.tool_env(),
    )
    assert dumped.ok, dumped.tail()
    container = server.lab.guard(server.node.container_id, action="read from")
    stream, _ = container.get_archive("/tmp/shop.dump")
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.extractfile("shop.dump")
        assert member is not None
        with gzip.open(tmp_path / "shop.dump.gz", "wb") as out:
            shutil.copyfileobj(member, out)
    copy = server.load(tmp_path / "shop.dump.gz", database="shop_copy")
    assert (copy.kind, copy.gzipped, copy.database) == ("pg_dump archive", True, "shop_copy")
    result = compare(server.truth(loaded.database), server.truth("shop_copy"))
    assert result.ok and result.compared["table data"] == 5, result.differences


def _drill(path: Path, engine: str, out: Path, **changes: Any) -> Any:
    scenario = load_scenario(path)
    if changes:
        scenario = scenario.model_copy(update=changes)
    return Drill(scenario, source=path, engine=engine, out_dir=out).run()


@needs_chinook
@pytest.mark.parametrize("engine", ["postgres", "mariadb"])
def test_chinook_wiped_and_restored_matches_every_table_and_object(
    engine: str, tmp_path: Path, record_property: Any
) -> None:
    result = _drill(HERE / "scenarios" / f"byo-chinook-{engine}.yaml", engine, tmp_path)
    team, measured = result.record.team_data, result.record.measured
    assert team is not None, result.record.reasons
    print(f"chinook drill on {engine}: {result.verdict}; load {team.load_s} s, truth "
          f"{team.truth_s} s, {team.summary}; RTO {measured.rto_s} s, RPO {measured.rpo_s} s, "
          f"lost writes {measured.lost_writes} of {measured.acked_writes}")  # fmt: skip
    assert result.verdict is Verdict.PASS, result.record.reasons
    assert team.verified and not team.differences and team.tables == 11
    assert all(c.passed for c in team.checks) and len(team.checks) == 2
    for key in ("load_s", "truth_s"):
        record_property(key, getattr(team, key))


def test_a_failing_check_fails_the_drill_with_its_name(tmp_path: Path) -> None:
    path = BYO / "shop-postgres.yaml"
    scenario = load_scenario(path)
    wrong = DataCheck(name="impossible-count", sql="SELECT count(*) FROM orders", equals=-1)
    result = _drill(path, "postgres", tmp_path, checks=[*scenario.checks, wrong])
    assert result.verdict is Verdict.FAIL
    assert any(r.startswith("check impossible-count failed: recovered 1200") for r in
               result.record.reasons), result.record.reasons  # fmt: skip
    team = result.record.team_data
    assert team is not None and not team.verified and not team.differences
    assert [c.name for c in team.checks if not c.passed] == ["impossible-count"]
    assert result.journal["team_data"]["checks"][-1]["passed"] is False
