"""--docker-host: only engines on this machine, drills dealt to them in turn."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.errors import InputError
from harness.runner.docker_hosts import check_docker_host, deal


@pytest.mark.parametrize(
    "url", ["unix:///run/docker-b.sock", "tcp://127.0.0.1:2376", "tcp://localhost:2375"]
)
def test_local_engines_are_accepted(url: str) -> None:
    assert check_docker_host(url) == url


@pytest.mark.parametrize(
    "url", ["tcp://10.0.0.5:2375", "ssh://user@db-host", "tcp://127.0.0.1", "docker.sock", ""]
)
def test_remote_or_malformed_engines_are_refused(url: str) -> None:
    with pytest.raises(InputError, match=r"127\.0\.0\.1"):
        check_docker_host(url)


def test_drills_are_dealt_in_turn() -> None:
    assert deal(5, ["a", "b"]) == ["a", "b", "a", "b", "a"]
    assert deal(2, []) == [None, None]


def test_a_remote_engine_is_exit_2_before_any_drill(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        app,
        [
            "run",
            "scenarios/quickstart.yaml",
            "-e",
            "postgres",
            "--docker-host",
            "tcp://192.0.2.1:2375",
            "--out",
            str(tmp_path),
            "--history",
            str(tmp_path / "h.sqlite"),
        ],
    )
    assert result.exit_code == 2
    assert "--docker-host 'tcp://192.0.2.1:2375'" in result.output
    assert not list(tmp_path.glob("*/journal.json"))
