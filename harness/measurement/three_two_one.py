"""The 3-2-1 rule counted for one drill, at the moment of the incident: at least 3 copies of the
data (the live database counts as one), on at least 2 kinds of store, at least 1 off the
database host, and (seed 000's single point of failure) no backup on a store the database host
can write to unless the store is immutable (Object Lock).

Pure logic: the caller says which backups existed and had passed verification at the fault, and
what each store is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.record import ThreeTwoOne

# The live database's own storage, as a kind of store.
DATABASE_KIND = "database disk"
KIND_NAMES = {"volume": "volume", "tmpfs": "tmpfs", "s3": "object storage"}


@dataclass(frozen=True)
class StoreView:
    """What the count needs to know about a store."""

    name: str
    kind: str
    # Mounted on the database host (a share, the WAL archive) or its credentials are there.
    db_writable: bool
    # Mounted on the database host: the copy is not off the host.
    on_db_host: bool
    immutable: bool = False


@dataclass(frozen=True)
class CopyAtFault:
    """One backup as it stood when the incident struck."""

    backup: str
    store: str
    usable: bool


def count(stores: Sequence[StoreView], copies: Sequence[CopyAtFault]) -> ThreeTwoOne:
    """The 3-2-1 figures of a drill."""
    by_name = {s.name: s for s in stores}
    usable = [c for c in copies if c.usable and c.store in by_name]
    kinds = {DATABASE_KIND} | {
        KIND_NAMES.get(by_name[c.store].kind, by_name[c.store].kind) for c in usable
    }
    off_host = sum(1 for c in usable if not by_name[c.store].on_db_host)
    immutable = sum(1 for c in usable if by_name[c.store].immutable)
    writable = tuple(
        c.backup
        for c in copies
        if c.store in by_name and by_name[c.store].db_writable and not by_name[c.store].immutable
    )
    total = 1 + len(usable)
    problems = []
    if total < 3:
        problems.append(f"{total} copies of the data (3 wanted)")
    if len(kinds) < 2:
        problems.append(f"{len(kinds)} kind of store (2 wanted)")
    if off_host < 1:
        problems.append("no copy off the database host")
    if writable:
        problems.append("backups on a store the database host can write to: " + ", ".join(writable))
    return ThreeTwoOne(
        copies=total,
        store_kinds=tuple(sorted(kinds)),
        off_host=off_host,
        immutable=immutable,
        db_writable=writable,
        met=not problems,
        problems=tuple(problems),
    )
