"""Measurement: the writer and reader under load (workload), lag sampling (monitor), the
arithmetic of RTO, RPO and PITR landing (measure), and the verdict against expectations."""
