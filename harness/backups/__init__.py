"""Backups: the agent and stores outside the database container, methods, catalog, verification."""
