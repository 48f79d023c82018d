"""A migration's fidelity check: the traps of logical replication named, sequences left
behind found for the cutover to copy, the verdict's view of repaired differences, and the
copies that leave objects out (migration.skip)."""

from __future__ import annotations

from harness.engines.base import Credentials
from harness.engines.mariadb import migration as mdb
from harness.engines.postgres import migration as pgm
from harness.measurement.catalogue import compare
from harness.runner.migration_fidelity import (
    DDL_TRAP,
    SEQUENCE_TRAP,
    behind_sequences,
    detail,
    explain,
    fidelity_record,
)
from harness.runner.state import MigrationFidelity
from harness.truth import CatalogueEntry, TableTruth, Truth

OLD = Truth(
    "shop",
    {"public.orders": TableTruth(1200, "abc"), "public.late": TableTruth(3, "def")},
    [
        CatalogueEntry("table", "public.orders", "table, 7 columns"),
        CatalogueEntry("table", "public.late", "table, 2 columns"),
        CatalogueEntry("sequence", "public.orders_order_id_seq", "1200"),
        CatalogueEntry("trigger", "public.orders.orders_status_audit", "CREATE TRIGGER ..."),
    ],
)
# A logical replication copy: the table created after the subscription never arrived, the
# sequence is unset, the trigger came with the schema.
NEW = Truth(
    "shop",
    {"public.orders": TableTruth(1200, "abc")},
    [
        CatalogueEntry("table", "public.orders", "table, 7 columns"),
        CatalogueEntry("sequence", "public.orders_order_id_seq", "unset"),
        CatalogueEntry("trigger", "public.orders.orders_status_audit", "CREATE TRIGGER ..."),
    ],
)


def test_logical_replication_traps_are_named() -> None:
    comparison = explain("logical_replication", compare(OLD, NEW))
    reasons = {f"{d.kind} {d.name}": d.reason for d in comparison.differences}
    assert reasons["sequence public.orders_order_id_seq"] == (
        f"sequence public.orders_order_id_seq at unset, source 1200 ({SEQUENCE_TRAP})"
    )
    assert reasons["table data public.late"].endswith(f"({DDL_TRAP})")
    assert reasons["table public.late"].endswith(f"({DDL_TRAP})")
    assert "trigger public.orders.orders_status_audit" not in reasons
    assert detail(comparison).startswith("2 tables, 4 objects compared: 2 missing, 1 changed")


def test_other_methods_are_not_blamed_on_logical_replication() -> None:
    comparison = explain("dump_restore", compare(OLD, NEW))
    assert comparison.differences
    assert not any(
        SEQUENCE_TRAP in d.reason or DDL_TRAP in d.reason for d in comparison.differences
    )


def test_sequences_behind_are_copied_and_count_as_repaired() -> None:
    fidelity = MigrationFidelity(OLD, NEW, explain("logical_replication", compare(OLD, NEW)))
    assert behind_sequences(fidelity) == {"public.orders_order_id_seq": 1200}
    assert fidelity.verified is False
    fidelity.repaired.append("public.orders_order_id_seq")
    assert fidelity.verified is False  # the missing table is not repaired by copying values
    same = Truth("shop", OLD.tables, [e for e in OLD.objects if e.kind != "sequence"] + [
        CatalogueEntry("sequence", "public.orders_order_id_seq", "1")])  # fmt: skip
    only_seq = MigrationFidelity(OLD, same, compare(OLD, same), ["public.orders_order_id_seq"])
    assert only_seq.verified is True
    rec = fidelity_record(fidelity)
    assert rec is not None and rec.tables == 2 and rec.objects == 4
    assert rec.objects_by_kind == {"sequence": 1, "table": 2, "trigger": 1}
    assert len(rec.differences) == 3 and rec.verified is False


def test_no_comparison_yet_is_not_a_verdict() -> None:
    assert MigrationFidelity(OLD).verified is None
    assert fidelity_record(None) is None


C = Credentials(user="drill", password="x", database="shop")


def test_postgres_copy_without_triggers_edits_the_restore_list() -> None:
    full = pgm.dump_restore_script(C, source_host="primary")
    assert "pg_restore -l" not in full and "--format=custom" in full
    script = pgm.dump_restore_script(C, source_host="primary", skip=("triggers",))
    assert "pg_restore -l /tmp/rd-migration.dump | grep -v -E" in script
    assert "(TRIGGER) " in script and "-L /tmp/rd-migration.dump.list" in script
    schema = pgm.schema_copy_script(C, source_host="primary", skip=("triggers", "routines"))
    assert "--schema-only" in schema and "(TRIGGER|FUNCTION|PROCEDURE) " in schema
    assert "x" not in schema.split("PGPASSWORD=")[1].split(";")[0].replace("$POSTGRES_PASSWORD", "")


def test_mariadb_dump_flags() -> None:
    assert mdb.object_flags() == "--triggers --routines --events"
    assert mdb.object_flags(("triggers", "routines", "events")) == "--skip-triggers"
    root = 'mariadb -uroot -p"$MARIADB_ROOT_PASSWORD"'
    seed = mdb.replica_seed_script(root, database="shop", source_host="primary")
    assert "--gtid --triggers --routines --events" in seed  # a replica keeps its routines
    dump = mdb.dump_restore_script(root, database="shop", source_host="primary", skip=("events",))
    assert "--triggers --routines " in dump and "--events" not in dump
