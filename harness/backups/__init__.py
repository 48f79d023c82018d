"""Backups: the agent and stores outside the database container, methods, catalog, verification,
and the scheduled backups of a drill (schedule)."""
