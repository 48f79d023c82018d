"""Reports: the journal of each run, and the summaries printed or rendered from journals."""
