"""Cross-version migration drills on real servers of two major versions (issue 14):
PostgreSQL 15 -> 17 (pg_upgrade copy and --link, dump and restore, logical replication) and
MariaDB 10.11 -> 11.8 (in place, dump and restore, replication), and Myspace for real with its
gated twin. Each runs the shipped scenario in scenarios/migrations/ through the drill runner
and checks the journal, and where it can, against the writer's own log (acks.jsonl)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.engines import get_engine
from harness.lab.images import image_present
from harness.measurement.verdict import Verdict
from harness.runner import Drill, DrillResult
from harness.validation import load_scenario

from .conftest import SCENARIOS

MIGRATIONS = SCENARIOS / "migrations"


def _need(client: docker.DockerClient, *refs: str) -> None:
    for ref in refs:
        engine = get_engine(ref)
        images = [engine.default_image, engine.local_image]
        if not any(i and image_present(client, i) for i in images):
            pytest.skip(
                f"no image for {ref} ({' or '.join(i for i in images if i)}): "
                "run compose/images/build.sh postgres-17 mariadb-11.8"
            )


def run(client: docker.DockerClient, name: str, out: Path) -> DrillResult:
    path = MIGRATIONS / f"{name}.yaml"
    scenario = load_scenario(path)
    assert scenario.migration is not None
    _need(client, *scenario.engines, scenario.migration.to_version)
    drill = Drill(scenario, source=path, engine=scenario.engines[0], out_dir=out)
    return drill.run()


def steps(j: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {r["step"]: (r["outcome"], r["detail"]) for r in j["recovery"]}


def evidence(j: dict[str, Any]) -> str:
    [fault] = [f for f in j["faults"] if f["type"] == "migration"]
    return str(fault["evidence"])


def acks(result: DrillResult) -> list[dict[str, Any]]:
    text = (result.journal_path.parent / "acks.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def started(j: dict[str, Any], step: str) -> dt.datetime:
    at = next(r["started_at"] for r in j["recovery"] if r["step"] == step)
    return dt.datetime.fromisoformat(at)


def assert_migrated(result: DrillResult, old: str, new: str, rollback: str) -> dict[str, Any]:
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    m = j["measured"]
    assert m["data_verified"] is True and m["recovered_by"] == "cutover"
    assert m["lost_writes"] == 0 and m["seed_rows_lost"] == 0
    assert m["rto_s"] is not None and 0 < m["rto_s"] < 60
    text = evidence(j)
    assert f" {old}." in text and f"-> {new}." in text, text  # real server versions
    assert f"rollback after cutover: {rollback}" in text, text
    # After the cutover the clients wrote to the new server, and it kept those writes.
    on_new = [a for a in acks(result) if a["target"] == "new-server" and a["status"] == "ok"]
    assert on_new, "no acknowledged write on the new server"
    return j


def test_pg_upgrade_copy_15_to_17(client: docker.DockerClient, tmp_path: Path) -> None:
    j = assert_migrated(run(client, "pg-upgrade-copy", tmp_path), "15", "17", "yes")
    assert steps(j)["pg_upgrade"] == ("ok", "pg_upgrade --copy 15 -> 17")
    assert steps(j)["stop old server"][0] == "ok"


def test_pg_upgrade_link_leaves_no_rollback(client: docker.DockerClient, tmp_path: Path) -> None:
    j = assert_migrated(run(client, "pg-upgrade-link", tmp_path), "15", "17", "no")
    assert steps(j)["pg_upgrade"] == ("ok", "pg_upgrade --link 15 -> 17")
    assert "pg_control.old" in evidence(j)


def test_pg_dump_restore_freezes_writes(client: docker.DockerClient, tmp_path: Path) -> None:
    result = run(client, "pg-dump-restore", tmp_path)
    j = assert_migrated(result, "15", "17", "yes")
    frozen = started(j, "freeze writes")
    late = [
        a["seq"]
        for a in acks(result)
        if a["target"] == "primary"
        and a["status"] == "ok"
        and dt.datetime.fromisoformat(a["issued_at"]) > frozen + dt.timedelta(seconds=0.1)
    ]
    assert late == [], f"the old server acknowledged writes after the freeze: {late}"


def fidelity(j: dict[str, Any]) -> dict[str, str]:
    """The migration fidelity check's differences, reason by "kind name"."""
    f = j["migration_fidelity"]
    assert f is not None and f["tables"] > 0 and f["objects"] > 0, f
    return {f"{d['kind']} {d['name']}": d["reason"] for d in f["differences"]}


SHOP_SEQUENCES = {
    "sequence public.customer_customer_id_seq",
    "sequence public.invoice_number_seq",
    "sequence public.orders_order_id_seq",
    "sequence public.product_product_id_seq",
    "sequence public.audit_log_audit_id_seq",
}


def test_logical_replication_names_the_sequence_trap(
    client: docker.DockerClient, tmp_path: Path
) -> None:
    result = run(client, "pg-logical-replication-sequences-forgotten", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    m = j["measured"]
    assert m["data_verified"] is False and m["lost_writes"] == 0 and m["recovered_by"] == "cutover"
    outcome, detail = steps(j)["fidelity check"]
    assert outcome == "failed"
    found = fidelity(j)
    # Every sequence of the shop the rows used is left behind, and only sequences differ.
    assert set(found) >= SHOP_SEQUENCES, found
    assert {k.split()[0] for k in found} == {"sequence"}, found
    for key in SHOP_SEQUENCES:
        assert "sequence values are not replicated by logical replication" in found[key], found
    assert "sequence public.orders_order_id_seq at " in detail, detail
    assert j["migration_fidelity"]["verified"] is False
    assert "copy sequence values" not in steps(j)  # this cutover forgot them
    assert steps(j)["subscribe"][0] == "ok" and steps(j)["catch up"][0] == "ok"


def test_logical_replication_cutover_copies_the_sequences(
    client: docker.DockerClient, tmp_path: Path
) -> None:
    result = run(client, "pg-logical-replication", tmp_path)
    j = assert_migrated(result, "15", "17", "yes")
    outcome, detail = steps(j)["fidelity check"]
    assert outcome == "failed" and "sequence public.orders_order_id_seq" in detail, detail
    found = fidelity(j)
    assert set(found) >= SHOP_SEQUENCES and {k.split()[0] for k in found} == {"sequence"}
    assert steps(j)["copy sequence values"][0] == "ok"
    f = j["migration_fidelity"]
    assert f["verified"] is True and set(f["repaired"]) == {k.split()[1] for k in found}
    assert f"{len(found)} sequence value(s) copied at the cutover" in evidence(j)
    assert j["team_data"]["verified"] is True  # the shop on the new server matches its source


def test_pg_dump_restore_without_triggers_is_caught(
    client: docker.DockerClient, tmp_path: Path
) -> None:
    result = run(client, "pg-dump-restore-triggers-skipped", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    assert j["measured"]["data_verified"] is False and j["measured"]["lost_writes"] == 0
    found = fidelity(j)
    # Exactly the trigger is missing: every table's digest, view (printed by 15 and by 17)
    # and function matches.
    assert found == {
        "trigger public.orders.orders_status_audit": (
            "trigger public.orders.orders_status_audit missing"
        )
    }, found
    assert j["migration_fidelity"]["objects_by_kind"]["materialized view"] == 1
    assert "trigger public.orders.orders_status_audit missing" in evidence(j)
    assert steps(j)["fidelity check"][0] == "failed"


def test_mariadb_dump_without_routines_is_caught(
    client: docker.DockerClient, tmp_path: Path
) -> None:
    result = run(client, "mariadb-dump-restore-routines-skipped", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    assert j["measured"]["data_verified"] is False and j["measured"]["lost_writes"] == 0
    found = fidelity(j)
    missing = {k for k, why in found.items() if why.endswith(" missing")}
    assert missing == set(found), found  # nothing changed: only objects lost
    kinds = {k.split()[0] for k in missing}
    assert kinds == {"trigger", "function", "procedure", "event"}, found
    assert "trigger orders.orders_status_audit" in missing, found
    assert steps(j)["fidelity check"][0] == "failed"


@pytest.mark.parametrize(
    ("name", "rollback", "step"),
    [
        ("mariadb-inplace-upgrade", "no", "mariadb-upgrade"),
        ("mariadb-dump-restore", "yes", "dump and restore"),
        ("mariadb-replication", "yes", "catch up"),
    ],
)
def test_mariadb_10_11_to_11_8(
    client: docker.DockerClient, tmp_path: Path, name: str, rollback: str, step: str
) -> None:
    result = run(client, name, tmp_path)
    j = assert_migrated(result, "10.11", "11.8", rollback)
    assert steps(j)[step][0] == "ok"
    if name != "mariadb-inplace-upgrade":
        frozen = started(j, "freeze writes")
        late = [
            a["seq"]
            for a in acks(result)
            if a["target"] == "primary"
            and a["status"] == "ok"
            and dt.datetime.fromisoformat(a["issued_at"]) > frozen + dt.timedelta(seconds=0.1)
        ]
        assert late == [], f"the old server acknowledged writes after the freeze: {late}"


def test_myspace_for_real_loses_the_rows_the_copy_missed(
    client: docker.DockerClient, tmp_path: Path
) -> None:
    result = run(client, "myspace-for-real", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    m = j["measured"]
    # A tenth of 2 x 500 seed rows never arrived; the old server is gone: 100 rows lost.
    assert m["seed_rows_lost"] == 100 and m["data_verified"] is False
    assert sorted(m["tables_damaged"]) == ["seed_01", "seed_02"]
    assert steps(j)["copy loses rows (silently)"] == (
        "ok",
        "100 rows never arrived (nobody is told)",
    )
    assert steps(j)["decommission old server"][0] == "ok"
    assert "gate before cutover" not in steps(j)
    text = evidence(j)
    assert "postgres 15." in text and "-> 17." in text and "100 rows" in text


def test_myspace_twin_gate_blocks_the_cutover(client: docker.DockerClient, tmp_path: Path) -> None:
    result = run(client, "myspace-for-real-twin", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    outcome, detail = steps(j)["gate before cutover"]
    assert outcome == "rejected" and "seed_01" in detail and "seed_02" in detail, detail
    assert "decommission old server" not in steps(j) and "cutover" not in steps(j)
    assert [f["blocked_by_gate"] for f in j["faults"]] == [True]
    m = j["measured"]
    assert m["data_verified"] is True and m["seed_rows_lost"] == 0 and m["lost_writes"] == 0
    # The clients never left the old server.
    assert {a["target"] for a in acks(result)} == {"primary"}
