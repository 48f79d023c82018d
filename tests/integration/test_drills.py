"""Whole drills against real PostgreSQL containers, checked against the acknowledgment log.

Every loss figure in the journal is compared exactly with the one recomputed by truth.py from
acks.jsonl and the rows the test itself read from the recovered database. The quickstart and
empty-backup drills are the session's shared ones (conftest.SharedDrills: test_engines_parity.py
and test_secrets.py check the same runs)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from harness.measurement.verdict import Verdict
from harness.runner import Drill, DrillResult
from harness.validation import load_scenario

from .conftest import SCENARIOS, SharedDrills
from .truth import acked, check_loss, read_acks, run_tapped, tap_of


def run(name: str, out: Path) -> DrillResult:
    path = SCENARIOS / f"{name}.yaml"
    drill = Drill(load_scenario(path), source=path, engine="postgres", out_dir=out)
    return run_tapped(drill)


def acks(result: DrillResult) -> list[dict[str, Any]]:
    lines = (result.journal_path.parent / "acks.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def when(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso)


def expand(ranges: list[list[int]]) -> set[int]:
    return {s for a, b in ranges for s in range(a, b + 1)}


def test_quickstart_loses_exactly_the_writes_after_the_backup(shared_drills: SharedDrills) -> None:
    result = shared_drills.run(SCENARIOS / "quickstart.yaml", "postgres").result
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    assert j["status"] == "done"
    for key in (
        "scenario",
        "engine",
        "image",
        "verdict",
        "objectives",
        "measured",
        "phases",
        "faults",
        "backups",
        "recovery",
    ):
        assert key in j
    m = j["measured"]
    assert m["data_verified"] is True
    assert j["faults"] == [j["faults"][0]] and j["faults"][0]["took_effect"] is True
    backup = j["backups"][0]
    assert backup["verification"] == "restore_tested"
    assert backup["size_bytes"] > 1024 and len(backup["sha256"]) == 64

    # Independent check against the acknowledgment log: writes acknowledged before the dump
    # started survive; writes acknowledged by the wiped primary after the dump ended are lost;
    # writes to the restored server survive. Only the ~0.2 s of the dump itself is ambiguous.
    lost = expand(m["lost_seq_ranges"])
    started, ended = when(backup["started_at"]), when(backup["ended_at"])
    ok = [a for a in acks(result) if a["status"] == "ok"]
    assert ok, "the writer acknowledged nothing"
    definitely_lost = {
        a["seq"] for a in ok if a["target"] == "primary" and when(a["issued_at"]) > ended
    }
    definitely_kept = {
        a["seq"] for a in ok if a["target"] != "primary" or when(a["issued_at"]) < started
    }
    assert definitely_lost and definitely_kept
    assert definitely_lost <= lost
    assert not (definitely_kept & lost)
    assert m["lost_writes"] == len(lost)
    assert m["holes"] == 0 and m["unexpected"] == 0
    # Recomputed from the log and the rows read back: the same loss, write for write.
    log, kept = read_acks(result.journal_path.parent), tap_of(result).survivors
    truth = check_loss(j, log, kept)
    assert definitely_kept <= kept and not (definitely_lost & kept)
    assert truth.lost and not truth.holes and not truth.unexpected
    # RPO window: the fault came ~3 s after the backup (scenario: backup at 2 s, fault at 5 s).
    assert 2.0 < m["rpo_s"] < 4.5
    p = j["phases"]
    assert abs(p["detect_s"] + p["restore_s"] + p["verify_s"] - m["rto_s"]) < 0.01
    assert 0 < m["rto_s"] < j["objectives"]["rto_s"]


def test_empty_backup_is_rejected_and_recovery_falls_back(shared_drills: SharedDrills) -> None:
    result = shared_drills.run(SCENARIOS / "empty-backup.yaml", "postgres").result
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    backups = {b["name"]: b for b in j["backups"]}
    empty = backups["nightly-2"]
    assert empty["exit_code"] == 0, "the broken job must look successful"
    assert 0 < empty["size_bytes"] < 1024
    assert empty["verification"] == "exists"
    assert "size plausible" in empty["verification_failure"]
    assert backups["nightly-1"]["verification"] == "restore_tested"
    fault = next(f for f in j["faults"] if f["type"] == "silent_empty_backup")
    assert fault["took_effect"] is True and fault["target"] == "backup:nightly-2"
    steps = [(r["step"], r["outcome"], r["backup"]) for r in j["recovery"]]
    assert steps[0] == ("verify_backup", "rejected", "nightly-2")
    assert ("restore_backup", "ok", "nightly-1") in steps
    assert j["measured"]["restored_from"] == "nightly-1"
    # Falling back to the older dump loses more than the gap after nightly-2 alone would.
    lost = expand(j["measured"]["lost_seq_ranges"])
    n1_ended = when(backups["nightly-1"]["ended_at"])
    n2_ended = when(empty["ended_at"])
    between = {
        a["seq"]
        for a in acks(result)
        if a["status"] == "ok" and n1_ended < when(a["issued_at"]) < n2_ended
    }
    assert between and between <= lost
    truth = check_loss(j, read_acks(result.journal_path.parent), tap_of(result).survivors)
    assert truth.lost == lost and not truth.holes


def test_kill_and_restart_loses_no_acknowledged_write(tmp_path: Path) -> None:
    result = run("kill-restart", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.PASS, j["reasons"]
    m = j["measured"]
    assert m["lost_writes"] == 0 and m["rpo_s"] == 0
    assert m["acked_writes"] > 50
    # Every acknowledged write was read back from the restarted server.
    log, kept = read_acks(result.journal_path.parent), tap_of(result).survivors
    assert acked(log) <= kept
    assert m["acked_writes"] == len(acked(log))
    truth = check_loss(j, log, kept)
    assert not truth.lost and not truth.unexpected and truth.rpo_s == 0
    assert j["faults"][0]["took_effect"] is True
    assert "exit code 137" in j["faults"][0]["evidence"]
    assert [r["step"] for r in j["recovery"]] == ["restart"]


def test_a_fault_that_does_not_take_effect_is_inconclusive(tmp_path: Path) -> None:
    result = run("wrong-path-wipe", tmp_path)
    j = result.journal
    assert result.verdict is Verdict.INCONCLUSIVE
    assert j["faults"][0]["took_effect"] is False
    assert "did not exist" in j["faults"][0]["evidence"]
    assert j["recovery"] == []
    # Nothing was measured: no figure stands for a loss that was never looked for.
    assert tap_of(result).reads == []
    assert j["measured"]["lost_writes"] is None and j["measured"]["rpo_s"] is None
