"""workload.transaction: placeholders bound as parameters, validation with FILE:LINE, and the
comparison that lets the writer's counters move forward only."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.measurement.transaction import compare_with_writer
from harness.scenario.transaction import bind, placeholders
from harness.truth import CatalogueEntry, TableTruth, Truth
from harness.validation import load_scenario

REPO = Path(__file__).resolve().parents[2]
BYO = REPO / "scenarios" / "byo"


def test_placeholders_become_driver_parameters_and_literal_percents_are_kept() -> None:
    sql = "INSERT INTO t (a, b, c) VALUES (:seq, :ts, 1 + :seq % 7) -- 5%"
    assert placeholders(sql) == {"seq", "ts"}
    assert bind(sql) == "INSERT INTO t (a, b, c) VALUES (%(seq)s, %(ts)s, 1 + %(seq)s %% 7) -- 5%%"
    # A PostgreSQL cast and a longer name are not placeholders.
    assert placeholders("SELECT x::seq, :sequence, a:seq") == set()
    assert bind("SELECT 1::int") == "SELECT 1::int"


def _scenario(tmp_path: Path, workload: str, *, dataset: str = "") -> Path:
    (tmp_path / "shop.sql").write_text("CREATE TABLE orders (id int);\n")
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: t\nsummary: t\nengines: [postgres, mariadb]\n"
        + (dataset or "dataset: {file: shop.sql}\n")
        + "workload:\n"
        + workload
        + "stores: [{name: s}]\nbackups: [{name: b, method: logical, at_s: 1, store: s}]\n"
        "timeline: [{fault: rm_rf_datadir, at_s: 2, target: primary}]\n"
        "recovery: {steps: [{step: restore_backup, backup: latest_verified}]}\n"
        "objectives: {rto_s: 10, rpo_s: 1}\n"
    )
    return path


def test_bad_transactions_are_refused_with_file_and_line(tmp_path: Path) -> None:
    path = _scenario(
        tmp_path,
        "  transaction:\n"
        "    table: orders\n"
        "    seq_column: drill_seq\n"
        "    sql:\n"
        "      postgres: [INSERT INTO orders (id) VALUES (:ts)]\n",
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    text = str(caught.value)
    assert f"{path}:9:" in text and "no statement binds the sequence number (:seq)" in text
    assert "no statements for engine 'mariadb'" in text

    path = _scenario(tmp_path, "  transaction: {sql: [INSERT INTO orders VALUES (:seq)]}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    text = str(caught.value)
    assert f"{path}:6: workload.transaction.table: required key is missing" in text
    assert f"{path}:6: workload.transaction.seq_column: required key is missing" in text

    path = _scenario(
        tmp_path,
        "  transaction: {table: 'orders; DROP', seq_column: s, sql: ['SELECT :seq']}\n",
    )
    with pytest.raises(ScenarioError, match=r"workload\.transaction\.table"):
        load_scenario(path)

    path = _scenario(
        tmp_path,
        "  transaction: {table: orders, seq_column: s, sql: ['SELECT :seq']}\n",
        dataset="dataset: {tables: 1}\n",
    )
    with pytest.raises(ScenarioError, match="writes into the team's own tables"):
        load_scenario(path)


@pytest.mark.parametrize("engine", ["postgres", "mariadb"])
def test_the_example_scenarios_validate(engine: str) -> None:
    s = load_scenario(BYO / f"shop-orders-writer-{engine}.yaml")
    tx = s.workload.transaction
    assert tx is not None and (tx.table, tx.seq_column) == ("orders", "drill_seq")
    assert set(tx.also_writes) == {"order_line", "audit_log"}


def _truth(seq: str, other: str = "x") -> Truth:
    return Truth(
        "shop",
        {"public.orders": TableTruth(3, "9")},
        [
            CatalogueEntry("sequence", "public.orders_order_id_seq", seq),
            CatalogueEntry("view", "public.v", other),
        ],
    )


def test_the_writers_counters_may_only_move_forward_and_everything_else_is_judged() -> None:
    counters = {"sequence public.orders_order_id_seq"}
    assert compare_with_writer(_truth("1200"), _truth("1500"), counters).ok
    assert compare_with_writer(_truth("unused"), _truth("4"), counters).ok
    behind = compare_with_writer(_truth("1200"), _truth("1000"), counters)
    assert [d.reason for d in behind.differences] == [
        "sequence public.orders_order_id_seq at 1000, behind the source's 1200 "
        "(the writer only moves it forward)"
    ]
    assert behind.compared == {"table data": 1, "sequence": 1, "view": 1}
    # Without the counter named, a sequence that moved is a difference as before.
    assert not compare_with_writer(_truth("1200"), _truth("1500"), set()).ok
    # The rest is still judged: a changed view, a missing table.
    assert not compare_with_writer(_truth("1200"), _truth("1500", other="y"), counters).ok
    gone = Truth("shop", {}, _truth("1200").objects)
    assert not compare_with_writer(_truth("1200"), gone, counters).ok
    missing = Truth("shop", _truth("1").tables, [_truth("1").objects[1]])
    assert [d.status for d in compare_with_writer(_truth("1"), missing, counters).differences] == [
        "missing"
    ]
