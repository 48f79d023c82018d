"""The engine-neutral comparison of a team's database with its source truth, and the
judging of a team's checks (pure functions: the SQL side is tested in integration)."""

from __future__ import annotations

import pytest

from harness.measurement.catalogue import Status, compare
from harness.measurement.checks import CheckRun, judge_check
from harness.scenario.model import DataCheck
from harness.truth import CatalogueEntry, TableTruth, Truth


def truth(**changes: object) -> Truth:
    tables = {
        "public.invoice": TableTruth(412, "1234"),
        "public.customer": TableTruth(59, "999"),
    }
    objects = [
        CatalogueEntry("table", "public.invoice", "table, 9 columns"),
        CatalogueEntry("table", "public.customer", "table, 13 columns"),
        CatalogueEntry("column", "public.invoice.total", "numeric(10,2) not null"),
        CatalogueEntry("trigger", "public.invoice.audit", "CREATE TRIGGER audit ..."),
        CatalogueEntry("view", "public.revenue", "SELECT ..."),
        CatalogueEntry("sequence", "public.invoice_invoice_id_seq", "413"),
        CatalogueEntry("enum", "public.status", "new, paid"),
    ]
    base = Truth("shop", tables, objects)
    return Truth(
        "shop",
        changes.get("tables", tables),  # type: ignore[arg-type]
        changes.get("objects", objects),  # type: ignore[arg-type]
    ) if changes else base  # fmt: skip


def test_identical_truths_match_and_count_what_was_compared() -> None:
    result = compare(truth(), truth())
    assert result.ok
    assert result.compared == {
        "table data": 2, "table": 2, "column": 1, "trigger": 1, "view": 1, "sequence": 1,
        "enum": 1,
    }  # fmt: skip
    assert result.summary() == "2 tables, 7 objects compared: all match"


def test_sequence_behind_names_both_values() -> None:
    objects = [
        CatalogueEntry("sequence", e.name, "412") if e.kind == "sequence" else e
        for e in truth().objects
    ]
    (diff,) = compare(truth(), truth(objects=objects)).differences
    assert diff.status is Status.CHANGED
    assert diff.reason == "sequence public.invoice_invoice_id_seq at 412, source 413"


@pytest.mark.parametrize("kind", ["trigger", "view", "enum"])
def test_a_lost_object_is_missing_by_name(kind: str) -> None:
    objects = [e for e in truth().objects if e.kind != kind]
    (diff,) = compare(truth(), truth(objects=objects)).differences
    assert (diff.kind, diff.status) == (kind, Status.MISSING)
    assert diff.name in diff.reason and "missing" in diff.reason


def test_emptied_and_changed_tables_say_how() -> None:
    tables = dict(truth().tables)
    tables["public.invoice"] = TableTruth(0, "0")
    tables["public.customer"] = TableTruth(59, "998")
    diffs = {d.name: d for d in compare(truth(), truth(tables=tables)).differences}
    assert diffs["public.invoice"].reason == "table public.invoice has 0 rows, source 412"
    assert "59 rows as in the source, content differs" in diffs["public.customer"].reason
    assert all(d.status is Status.CHANGED for d in diffs.values())


def test_a_missing_table_hides_its_own_objects_but_not_others() -> None:
    tables = {"public.customer": truth().tables["public.customer"]}
    objects = [e for e in truth().objects if not e.name.startswith("public.invoice")]
    diffs = compare(truth(), truth(tables=tables, objects=objects)).differences
    names = sorted((d.kind, d.name, d.status) for d in diffs)
    assert names == [
        ("sequence", "public.invoice_invoice_id_seq", Status.MISSING),
        ("table", "public.invoice", Status.MISSING),
        ("table data", "public.invoice", Status.MISSING),
    ]


def test_extra_objects_and_tables_are_reported() -> None:
    tables = {**truth().tables, "public.tmp": TableTruth(1, "5")}
    objects = [*truth().objects, CatalogueEntry("index", "public.tmp_idx", "CREATE INDEX")]
    diffs = compare(truth(), truth(tables=tables, objects=objects)).differences
    assert {(d.name, d.status) for d in diffs} == {
        ("public.tmp", Status.EXTRA),
        ("public.tmp_idx", Status.EXTRA),
    }
    assert compare(truth(), truth(tables=tables, objects=objects)).summary().endswith("2 extra")


def test_ignored_tables_are_not_judged_on_content() -> None:
    tables = {**truth().tables, "public.invoice": TableTruth(500, "x")}
    result = compare(truth(), truth(tables=tables), ignore_tables=frozenset({"public.invoice"}))
    assert result.ok and result.compared["table data"] == 1


def check(**fields: object) -> DataCheck:
    return DataCheck.model_validate({"name": "c", "sql": "SELECT 1", **fields})


def run(text: str | None, error: str = "") -> CheckRun:
    return CheckRun(text, text.split("\n")[0].split("|")[0] if text else None, error)


@pytest.mark.parametrize(
    ("fields", "source", "recovered", "passed"),
    [
        ({}, "412", "412", True),
        ({}, "412", "411", False),
        ({"expect": "same"}, "1|a\n2|b", "1|a\n2|b", True),
        ({"equals": 0}, "5", "0", True),
        ({"equals": 0}, "5", "0.0", True),
        ({"equals": "paid"}, "x", "paid", True),
        ({"equals": "paid"}, "x", "new", False),
        ({"min": 400}, "0", "412", True),
        ({"min": 400}, "0", "399", False),
        ({"max": 10}, "0", "11", False),
        ({"min": 1, "max": 10}, "0", "abc", False),
    ],
)
def test_checks_judge_their_expectation(
    fields: dict[str, object], source: str, recovered: str, passed: bool
) -> None:
    result = judge_check(check(**fields), run(source), run(recovered))
    assert result.passed is passed, result.reason


def test_a_check_that_errors_or_has_nothing_to_run_on_fails_with_the_reason() -> None:
    failed = judge_check(check(), run(None, "relation x does not exist"), run("1"))
    assert not failed.passed and "source: relation x does not exist" in failed.reason
    failed = judge_check(check(), run("1"), run(None, "no such table"))
    assert not failed.passed and "recovered database: no such table" in failed.reason
    failed = judge_check(check(), run("1"), None)
    assert not failed.passed and "nothing was recovered" in failed.reason
    failed = judge_check(check(), run("1"), run("2"))
    assert failed.reason == "recovered 2, source 1"
