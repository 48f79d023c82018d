"""A logical backup taken and restored with parallel jobs (``parallel: 2``), on both engines:
the drill passes with the seed data verified row for row, and the journal splits the restore
phase into the backup's re-check, the fresh server's start and the restore tool's own run.
The two engines' drills run at once (``run --jobs 2``): nothing checked here is a timing."""

from __future__ import annotations

from pathlib import Path

from .test_readme_claims import HERE, cli, journals


def test_parallel_logical_restore_on_both_engines(tmp_path: Path) -> None:
    done = cli(
        "run",
        HERE / "parallel-restore.yaml",
        "--engine",
        "postgres",
        "--engine",
        "mariadb",
        "--out",
        tmp_path,
        "--jobs",
        "2",
        "--quiet",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    by_engine = journals(tmp_path)
    assert set(by_engine) == {"postgres", "mariadb"}
    for engine, journal in by_engine.items():
        assert journal["verdict"] == "pass", (engine, journal["reasons"])
        nightly = next(b for b in journal["backups"] if b["name"] == "nightly")
        assert nightly["parallel"] == 2, nightly
        assert nightly["verification"] == "restore_tested", nightly
        measured = journal["measured"]
        assert measured["restored_from"] == "nightly", measured
        assert measured["data_verified"] is True, measured
        assert measured["seed_rows_lost"] == 0, measured
        phases = journal["phases"]
        split = [phases[k] for k in ("backup_check_s", "server_start_s", "restore_tool_s")]
        assert all(v is not None and v > 0 for v in split), (engine, phases)
        assert sum(split) <= phases["restore_s"], (engine, phases)
