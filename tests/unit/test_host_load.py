"""Saturation flagging: a drill whose host ran more load than it has CPUs is flagged, in the
journal (round trip), the results table's notes and the reports."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.measurement.host_load import (
    HostLoadSampler,
    cpu_count,
    cpu_stall_us,
    saturated,
    summarize,
)
from harness.record import HostLoad
from harness.report.history.records import figure_rows


@pytest.mark.parametrize(
    ("load", "cpus", "expected"),
    [(5.1, 2, True), (2.01, 2, True), (2.0, 2, False), (0.3, 2, False), (None, 2, False)],
)
def test_saturated_when_the_load_exceeds_the_cpus(
    load: float | None, cpus: int, expected: bool
) -> None:
    assert saturated(load, cpus) is expected


def test_summary_takes_the_peak_not_the_mean() -> None:
    host = summarize([0.5, 4.7, 1.0], cpus=2, jobs=4)
    assert host == HostLoad(
        cpus=2,
        jobs=4,
        load_1m_start=0.5,
        load_1m_max=4.7,
        load_1m_mean=2.07,
        samples=3,
        saturated=True,
    )
    assert summarize([1.9, 1.2], cpus=2).saturated is False


def test_no_samples_is_never_saturated() -> None:
    assert summarize([], cpus=2) == HostLoad(cpus=2)


def test_sampler_samples_at_start_and_stop() -> None:
    sampler = HostLoadSampler(interval_s=0.05).start()
    time.sleep(0.2)
    host = sampler.stop()
    assert host.cpus == cpu_count() >= 1
    assert host.samples >= 3
    assert host.load_1m_max is not None and host.load_1m_max >= 0


def test_host_figures_go_to_the_history() -> None:
    from harness.measurement.verdict import Verdict
    from tests.unit.test_pytest_plugin import _result

    record = _result(Verdict.PASS, "postgres").record
    figures = dict(figure_rows(record))
    assert figures["host_saturated"] == 1.0
    assert figures["host_load_1m_max"] == 5.1
    assert figures["host_cpus"] == 2.0 and figures["host_jobs"] == 4.0


def test_journal_round_trips_the_host_load() -> None:
    from harness.measurement.verdict import Verdict
    from harness.report.journal import record_from_dict, record_to_dict
    from tests.unit.test_pytest_plugin import _result

    record = _result(Verdict.PASS, "postgres").record
    data = record_to_dict(record)
    assert data["host"]["saturated"] is True
    assert record_from_dict(data).host == record.host
    older = {k: v for k, v in data.items() if k != "host"}  # a journal from before the field
    assert record_from_dict(older).host is None


def test_results_table_notes_a_saturated_host() -> None:
    from harness.cli import saturated_text

    text = saturated_text(HostLoad(cpus=2, jobs=4, load_1m_max=5.1, saturated=True))
    assert "5.1 on 2 CPUs" in text and "4 drills at once" in text
    stalled = HostLoad(cpus=2, jobs=4, load_1m_max=5.1, cpu_stall_share=0.8, saturated=True)
    assert "waited for a CPU 80% of the time" in saturated_text(stalled)


def test_psi_stall_share_decides_where_the_kernel_measures_it() -> None:
    # a high 1-minute average inherited from a busy minute, but nothing waited during the drill
    assert saturated(6.3, 2, stall_share=0.12) is False
    assert saturated(1.0, 2, stall_share=0.5) is True
    host = summarize([6.3], cpus=2, stall_share=0.81)
    assert host.saturated and host.cpu_stall_share == 0.81
    assert summarize([], cpus=2, stall_share=1.7).cpu_stall_share == 1.0  # clamped


def test_psi_total_is_parsed(tmp_path: Path) -> None:
    psi = tmp_path / "cpu"
    psi.write_text(
        "some avg10=20.43 avg60=21.72 avg300=36.72 total=641380372\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
    )
    assert cpu_stall_us(psi) == 641380372
    assert cpu_stall_us(tmp_path / "missing") is None
