"""The labels that mark a resource as recovery-drill's, and as one run's."""

OWNER_LABEL = "io.recovery-drill.owner"
RUN_LABEL = "io.recovery-drill.run"
ROLE_LABEL = "io.recovery-drill.role"
OWNER = "recovery-drill"
