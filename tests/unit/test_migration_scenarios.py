"""The `migration:` section: shipped scenarios validate; bad methods, versions and gates are
bad input on their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.engines.migrations import ROLLBACK, migration_methods
from harness.errors import ScenarioError
from harness.scenario.model import MigrationMethod
from harness.validation import load_scenario

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = sorted((ROOT / "scenarios/migrations").glob("*.yaml"))


def test_each_method_on_each_engine_is_shipped_with_myspace_and_its_twin() -> None:
    shipped = {
        (s.engines[0].partition("@")[0], s.migration.method)
        for s in map(load_scenario, MIGRATIONS)
        if s.migration
    }
    wanted = {("postgres", m) for m in migration_methods("postgres")} | {
        ("mariadb", m) for m in migration_methods("mariadb")
    }
    assert len(wanted) == 7 and shipped == wanted
    names = {p.stem for p in MIGRATIONS}
    assert {"myspace-for-real", "myspace-for-real-twin"} <= names


def test_every_method_answers_the_rollback_question() -> None:
    methods = set(MigrationMethod.__args__)  # type: ignore[attr-defined]
    assert set(ROLLBACK) == methods
    assert [m for m, (ok, _) in ROLLBACK.items() if not ok] == [
        "pg_upgrade_link",
        "inplace_upgrade",
    ]


BASE = (ROOT / "scenarios/migrations/pg-dump-restore.yaml").read_text()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "method: dump_restore",
            "method: inplace_upgrade",
            "engine 'postgres' has no migration method 'inplace_upgrade'",
        ),
        ("to_version: postgres@17", "to_version: mariadb@11.8", "a migration stays on its engine"),
        (
            "to_version: postgres@17",
            "to_version: postgres@15",
            "'postgres@15' is already the version migrated to",
        ),
        ("to_version: postgres@17", "to_version: postgres@99", "unknown engine 'postgres@99'"),
        (
            "method: dump_restore",
            "method: pg_upgrade_link\n  gate: {compare_with: new-server}",
            "pg_upgrade_link stops the old server before copying",
        ),
        (
            "method: dump_restore",
            "method: pg_upgrade_copy\n  skip: [triggers]",
            "pg_upgrade_copy carries the whole data directory over: it cannot skip triggers",
        ),
        (
            "method: dump_restore",
            "method: dump_restore\n  skip: [events]",
            "postgres has no events",
        ),
    ],
)
def test_bad_migration_is_bad_input_on_its_line(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(BASE.replace(old, new))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    found = [p for p in caught.value.problems if message in p.message]
    assert found, [p.message for p in caught.value.problems]
    assert found[0].line is not None and found[0].line > 1
