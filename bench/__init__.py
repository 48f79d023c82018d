"""Benchmarks of the harness against the tools it drives (``make bench``, never ``make test``).

    python -m bench            every section, sizes from BENCH_SIZES (default 10,100,1000 MB)

Sections, each measured side by side in one run on the same machine:
- seeding: the harness's loader against ``pgbench -i`` writing about the same bytes;
- restore: the harness's restore path against the same restore pipeline run by hand;
- drills: a whole drill's wall time by phase, at about 10 MB, 100 MB and 1 GB, each in its own
  process so that its peak memory is its own;
- calibration: measured RTO against a freeze of known length, lost writes against a known loss.

The table is printed and written as JSON to reports/bench.json (BENCH_OUT overrides).
"""
