"""The writer's own transaction in the team's tables (workload.transaction), on real servers:
the example shop takes real orders (an order, its lines, the order paid so that the audit
trigger fires) under load, the data directory is wiped after the dump, and the dump restored.

A lost write is a lost order: the journal's loss is compared exactly with the one truth.py
recomputes from acks.jsonl and the orders the test itself reads back (its own SQL, at the
moment the harness reads them), independently of harness.measurement. The rest of orders,
order_line and audit_log is judged against the source truth, and the team's checks hold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import harness.runner.phases as phases
from harness.measurement.verdict import Verdict
from harness.runner import Drill
from harness.validation import load_scenario

from .conftest import SCENARIOS
from .truth import check_loss, read_acks

ENGINES = ("postgres", "mariadb")


@pytest.mark.parametrize("engine", ENGINES)
def test_lost_orders_are_exactly_the_acknowledged_orders_missing_after_a_wipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    path = SCENARIOS / "byo" / f"shop-orders-writer-{engine}.yaml"
    reads: list[frozenset[int]] = []
    harness_read = phases.surviving_writes

    def tapped(stage: Any, conn: Any) -> set[int]:
        found = harness_read(stage, conn)
        cur = conn.cursor()
        try:
            cur.execute("SELECT drill_seq FROM orders WHERE drill_seq IS NOT NULL")
            rows = [int(r[0]) for r in cur.fetchall()]
        finally:
            cur.close()
        assert len(rows) == len(set(rows)), "an order carries a writer's seq twice"
        reads.append(frozenset(rows))
        return found

    monkeypatch.setattr(phases, "surviving_writes", tapped)
    drill = Drill(load_scenario(path), source=path, engine=engine, out_dir=tmp_path)
    result = drill.run()
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    assert len(reads) == 1, f"the recovered orders were read {len(reads)} times"
    survivors = reads[0]

    log = read_acks(result.journal_path.parent)
    truth = check_loss(j, log, survivors)  # every count and range exactly
    m = j["measured"]
    # The wipe after the dump lost orders, and orders acknowledged before the dump survived.
    assert m["lost_writes"] > 0 and truth.lost
    assert survivors, "no order placed by the writer came back"
    assert all(a.seq in survivors for a in log if a.ok and a.done < log[0].done + 1.0)

    team = j["team_data"]
    assert team["verified"] is True, team["differences"]
    assert team["differences"] == []
    assert team["tables"] == 5  # orders, order_line and audit_log judged on the source's rows
    checks = {c["name"]: c for c in team["checks"]}
    assert checks["every-new-order-audited"]["passed"], checks
    assert int(checks["new-orders-restored"]["recovered"]) == len(survivors)
    assert j["workload"]["transaction"]["table"] == "orders"
