"""Engine parity: the engine-neutral scenarios on MariaDB reach the verdicts they reach on
PostgreSQL, and their journals have the same fields.

test_drills.py checks the PostgreSQL verdicts in depth; here one PostgreSQL quickstart journal
is the reference for the journal's shape, so the PostgreSQL drills are not run twice: it is the
session's shared quickstart run, as is MariaDB's empty-backup run (test_secrets.py scans it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.measurement.verdict import Verdict
from harness.runner import Drill, DrillResult
from harness.validation import load_scenario

from .conftest import SCENARIOS, SharedDrills
from .truth import acked, read_acks, recomputed, run_tapped, tap_of

# The verdict each scenario reaches on PostgreSQL (asserted in test_drills.py).
VERDICTS = {
    "quickstart": Verdict.PASS,
    "empty-backup": Verdict.PASS,
    "kill-restart": Verdict.PASS,
    "wrong-path-wipe": Verdict.INCONCLUSIVE,
}
# Dicts keyed by data rather than by field (one entry per seeded table).
DATA_KEYED = {"fingerprints.reference", "fingerprints.recovered"}
# Lists whose items carry optional keys by design (a lag sample has "error" only when the
# sample failed): their items' fields are data, not schema.
FREE_FORM_ITEMS = {"lag.samples[]"}


def run(name: str, engine: str, out: Path) -> DrillResult:
    path = SCENARIOS / f"{name}.yaml"
    return run_tapped(Drill(load_scenario(path), source=path, engine=engine, out_dir=out))


def fields(value: Any, path: str = "") -> set[str]:
    """Every field path of a journal: dict keys recursively, list items merged as ``[]``."""
    if isinstance(value, dict):
        out: set[str] = set()
        for key, item in value.items():
            name = "*" if path in DATA_KEYED else str(key)
            child = f"{path}.{name}" if path else name
            out |= {child} | fields(item, child)
        return out
    if isinstance(value, list):
        if not value or f"{path}[]" in FREE_FORM_ITEMS:
            return set()
        return set().union(*(fields(item, f"{path}[]") for item in value))
    return set()


@pytest.fixture(scope="module")
def postgres_quickstart(shared_drills: SharedDrills) -> DrillResult:
    return shared_drills.run(SCENARIOS / "quickstart.yaml", "postgres").result


def test_quickstart_journals_have_the_same_fields_on_both_engines(
    postgres_quickstart: DrillResult, tmp_path: Path
) -> None:
    result = run("quickstart", "mariadb", tmp_path)
    j = result.journal
    assert postgres_quickstart.verdict is Verdict.PASS, postgres_quickstart.journal["reasons"]
    assert result.verdict is Verdict.PASS, j["reasons"]
    assert j["engine"] == "mariadb" and j["image"]
    assert fields(j) == fields(postgres_quickstart.journal)
    assert j["measured"]["data_verified"] is True
    assert j["backups"][0]["verification"] == "restore_tested"
    assert j["faults"][0]["took_effect"] is True
    assert "ibdata1 gone" in j["faults"][0]["evidence"]
    assert j["measured"]["lost_writes"] > 0 and j["measured"]["holes"] == 0
    # The loss recomputed from acks.jsonl and the rows read back, as on PostgreSQL.
    t = recomputed(result)
    assert t.lost and not t.holes and not t.unexpected


@pytest.mark.parametrize("name", ["empty-backup", "kill-restart", "wrong-path-wipe"])
def test_scenario_reaches_the_postgres_verdict_on_mariadb(
    name: str, postgres_quickstart: DrillResult, shared_drills: SharedDrills, tmp_path: Path
) -> None:
    if name == "empty-backup":
        result = shared_drills.run(SCENARIOS / f"{name}.yaml", "mariadb").result
    else:
        result = run(name, "mariadb", tmp_path)
    j = result.journal
    assert result.verdict is VERDICTS[name], j["reasons"]
    # Same fields as PostgreSQL's journal; some lists are empty and some values null here.
    reference = fields(postgres_quickstart.journal)
    assert fields(j) <= reference, sorted(fields(j) - reference)
    top = {k for k in reference if "." not in k and "[]" not in k}
    assert set(j) == top
    assert set(j["measured"]) == set(postgres_quickstart.journal["measured"])
    if name == "empty-backup":
        backups = {b["name"]: b for b in j["backups"]}
        assert backups["nightly-2"]["exit_code"] == 0
        assert 0 < backups["nightly-2"]["size_bytes"] < 1024
        assert "Access denied" in backups["nightly-2"]["log_tail"]
        assert backups["nightly-1"]["verification"] == "restore_tested"
        assert j["measured"]["restored_from"] == "nightly-1"
    if name in ("empty-backup", "kill-restart"):
        recomputed(result)
    if name == "kill-restart":
        m = j["measured"]
        assert m["lost_writes"] == 0 and m["rpo_s"] == 0 and m["acked_writes"] > 50
        assert acked(read_acks(result.journal_path.parent)) <= tap_of(result).survivors
        assert "exit code 137" in j["faults"][0]["evidence"]
    if name == "wrong-path-wipe":
        assert j["faults"][0]["took_effect"] is False
        assert j["recovery"] == []
