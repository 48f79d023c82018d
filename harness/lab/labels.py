"""The labels that mark a resource as recovery-drill's, as one run's, and as one process's.

Besides the owner and run labels, every resource names the process that created it (host name,
process id and that process's start time, which guards against a reused pid) and the run's
journal, so that a later ``run`` or ``cleanup`` can tell a live run from a killed one and mark
the killed run's journal.
"""

OWNER_LABEL = "io.recovery-drill.owner"
RUN_LABEL = "io.recovery-drill.run"
ROLE_LABEL = "io.recovery-drill.role"
HOST_LABEL = "io.recovery-drill.owner-host"
PID_LABEL = "io.recovery-drill.owner-pid"
PID_START_LABEL = "io.recovery-drill.owner-start"
JOURNAL_LABEL = "io.recovery-drill.journal"
OWNER = "recovery-drill"
