"""Measurement: the writer and reader under load (workload) and their acknowledgment log on disk
(acks), lag sampling (monitor), the arithmetic of RTO, RPO and PITR landing (measure), the data
fidelity after recovery (fidelity), and the verdict against expectations."""
