"""The restore phase split into the backup's re-check, the server's start and the tool's run."""

from __future__ import annotations

from harness.recovery.context import Recovered


def restore_split(recovered: Recovered | None) -> dict[str, float | None]:
    """``Phases`` fields of a recovery (all None when it restored no backup)."""

    def r(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    if recovered is None:
        return {"backup_check_s": None, "server_start_s": None, "restore_tool_s": None}
    return {
        "backup_check_s": r(recovered.backup_check_s),
        "server_start_s": r(recovered.server_start_s),
        "restore_tool_s": r(recovered.tool_s),
    }
