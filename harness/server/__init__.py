"""Database servers of a run: starting them on the lab (node), building the scenario's
topology of primary, replicas and backup agent (topology), and judging their health."""
