"""Orchestration of one drill: provision, seed, write, back up, break, recover, measure, judge.

``drill`` is the lifecycle (breadcrumb, status, clean-up); ``phases`` the order of the
phases; ``timeline`` the writer and the scheduled events; ``incident`` the faults and outage
detection; ``recover`` recovery driving; ``gate`` the migration safety gate; ``judge`` the
verdict inputs; ``journal_dict`` the journal; ``state`` what the phases share.
"""

from harness.runner.drill import Drill, DrillResult, new_run_id

__all__ = ["Drill", "DrillResult", "new_run_id"]
