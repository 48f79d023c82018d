"""Score a mutmut run and hold it to the allow-list of equivalent mutants (used by `make mutate`).

Reads `mutmut results --all true` output (one `    name: status` line per mutant) on stdin,
prints one line: killed / total and the survivors, and exits 1 when a mutant that is not killed
is missing from the allow-list, or when an allow-listed mutant was killed or no longer exists
(the list is stale: mutant names are positions within a function, so editing a function renames
its mutants; re-check that function's entries with `mutmut show NAME`).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path


def allowed(path: Path) -> dict[str, str]:
    """Mutant name -> reason, from `name  # reason` lines (blank lines and # comments skipped)."""
    entries: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, _, reason = line.partition("#")
        if name.strip():
            entries[name.strip()] = reason.strip()
    return entries


def main(argv: list[str]) -> int:
    equivalent = allowed(Path(argv[1]))
    status: dict[str, str] = {}
    for line in sys.stdin:
        name, sep, state = line.strip().rpartition(": ")
        if sep and name:
            status[name] = state
    if not status:
        print("mutate: no mutant results read (did mutmut run?)", file=sys.stderr)
        return 2
    counts = Counter(status.values())
    survivors = sorted(n for n, s in status.items() if s != "killed")
    unexplained = [n for n in survivors if n not in equivalent]
    stale = sorted(n for n in equivalent if status.get(n) in (None, "killed"))
    print(
        f"mutate: {counts['killed']} / {len(status)} killed, {len(survivors)} not killed"
        f" ({len(survivors) - len(unexplained)} equivalent, {len(unexplained)} unexplained); "
        + ", ".join(f"{s} {c}" for s, c in sorted(counts.items()))
    )
    for name in unexplained:
        print(f"mutate: survivor not in {argv[1]}: {name} ({status[name]})", file=sys.stderr)
    for name in stale:
        state = status.get(name, "absent")
        print(f"mutate: stale entry in {argv[1]}: {name} is {state}", file=sys.stderr)
    return 1 if unexplained or stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
