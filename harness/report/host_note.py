"""What the reports say about a drill whose timings were taken on a saturated host."""

from __future__ import annotations

from harness.report.history.store import StoredRun


def saturation_note(run: StoredRun) -> str:
    """A warning for a drill run while the host's load exceeded its CPUs, else ''."""
    if not run.figure("host_saturated"):
        return ""
    load, cpus = run.figure("host_load_1m_max"), run.figure("host_cpus")
    jobs, stall = run.figure("host_jobs"), run.figure("host_cpu_stall_share")
    parallel = f", {int(jobs)} drills at once" if jobs and jobs > 1 else ""
    waited = f"work waited for a CPU {stall:.0%} of the time, " if stall is not None else ""
    return (
        f"saturated host: {waited}load average up to {load or 0:.2f} on {int(cpus or 0)} CPUs"
        f"{parallel}; "
        "the RTO measures the host as much as the recovery"
    )
