"""The 3-2-1 count (issue 13): copies at the fault, kinds of store, off the database host,
backups on a store the database host can write to (immutable stores excepted)."""

from __future__ import annotations

from pathlib import Path

from harness.measurement.three_two_one import DATABASE_KIND, CopyAtFault, StoreView, count
from harness.runner.record_builder import rule_of_three
from harness.validation import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

NAS = StoreView("nas", "volume", db_writable=True, on_db_host=True)
OFFSITE = StoreView("offsite", "volume", db_writable=False, on_db_host=False)
BUCKET = StoreView("bucket", "s3", db_writable=True, on_db_host=False)
LOCKED = StoreView("locked", "s3", db_writable=True, on_db_host=False, immutable=True)


def test_a_lone_database_breaks_every_part_of_the_rule() -> None:
    rule = count([], [])
    assert (rule.copies, rule.store_kinds, rule.off_host, rule.met) == (
        1,
        (DATABASE_KIND,),
        0,
        False,
    )
    assert rule.problems == (
        "1 copies of the data (3 wanted)",
        "1 kind of store (2 wanted)",
        "no copy off the database host",
    )


def test_only_usable_backups_count_as_copies_but_every_exposed_one_is_named() -> None:
    copies = [
        CopyAtFault("nas-1", "nas", usable=True),
        CopyAtFault("nas-2", "nas", usable=False),  # empty: not a copy, still exposed
        CopyAtFault("off-1", "offsite", usable=True),
    ]
    rule = count([NAS, OFFSITE], copies)
    assert rule.copies == 3 and rule.off_host == 1
    assert rule.store_kinds == (DATABASE_KIND, "volume")
    assert rule.db_writable == ("nas-1", "nas-2") and rule.met is False
    assert rule.problems[-1] == ("backups on a store the database host can write to: nas-1, nas-2")


def test_an_immutable_bucket_is_off_host_and_not_a_single_point_of_failure() -> None:
    copies = [CopyAtFault("w", "locked", usable=True), CopyAtFault("o", "offsite", usable=True)]
    rule = count([LOCKED, OFFSITE], copies)
    assert rule.met is True and rule.problems == ()
    assert (rule.copies, rule.off_host, rule.immutable, rule.db_writable) == (3, 2, 1, ())
    assert rule.store_kinds == (DATABASE_KIND, "object storage", "volume")


def test_a_bucket_whose_credentials_sit_on_the_db_host_is_flagged() -> None:
    rule = count([BUCKET], [CopyAtFault("b", "bucket", usable=True)])
    assert rule.off_host == 1 and rule.db_writable == ("b",) and not rule.met


def test_the_incident_library_pair_counts_as_its_story_says() -> None:
    # ransomware: offsite-weekly off host, nas-nightly on the share the DB host mounts.
    s = load_scenario(SCENARIOS / "incidents" / "ransomware.yaml")
    rule = rule_of_three(
        s,
        [CopyAtFault("offsite-weekly", "offsite", True), CopyAtFault("nas-nightly", "nas", True)],
    )
    assert rule is not None
    assert (rule.copies, rule.off_host, rule.db_writable) == (3, 1, ("nas-nightly",))
    s = load_scenario(SCENARIOS / "incidents" / "ransomware-object-lock.yaml")
    rule = rule_of_three(
        s,
        [
            CopyAtFault("locked-weekly", "locked", True),
            CopyAtFault("unlocked-nightly", "unlocked", True),
        ],
    )
    assert rule is not None
    assert (rule.copies, rule.off_host, rule.immutable) == (3, 2, 1)
    assert rule.db_writable == ("unlocked-nightly",)
    assert rule_of_three(s, None) is None
