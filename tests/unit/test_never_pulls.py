"""The harness never pulls an image: resolving a missing image asks the local store only and
fails with the fix, and no module of the harness calls a pull."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from harness.errors import EngineUnavailable
from harness.lab.images import resolve_image

HARNESS = Path(__file__).resolve().parents[2] / "harness"


class RecordingImages:
    def __init__(self, present: set[str]) -> None:
        self.present, self.calls = present, []  # type: ignore[var-annotated]

    def get(self, name: str) -> str:
        self.calls.append(("get", name))
        if name not in self.present:
            raise docker.errors.ImageNotFound(name)
        return name

    def __getattr__(self, name: str) -> Any:  # pull, load, build, ...: recorded, never allowed
        def call(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, args))

        return call


class Client:
    def __init__(self, present: set[str]) -> None:
        self.images = RecordingImages(present)


@pytest.mark.parametrize("requested", [None, "mysql:8.4"])
def test_a_missing_image_is_refused_without_a_pull(requested: str | None) -> None:
    client = Client(present=set())
    with pytest.raises(EngineUnavailable, match="not available locally") as raised:
        resolve_image(
            client,  # type: ignore[arg-type]
            engine="mysql",
            requested=requested,
            default="mysql:8",
            local_build=None,
        )
    assert "docker pull" in str(raised.value)  # the fix is told, not done
    assert {call[0] for call in client.images.calls} == {"get"}


def test_the_local_build_is_used_without_a_pull() -> None:
    client = Client(present={"recovery-drill/postgres:15-bookworm"})
    image = resolve_image(
        client,  # type: ignore[arg-type]
        engine="postgres",
        requested=None,
        default="postgres:16",
        local_build="recovery-drill/postgres:15-bookworm",
    )
    assert image.name == "recovery-drill/postgres:15-bookworm" and image.local_build
    assert {call[0] for call in client.images.calls} == {"get"}


def test_no_harness_module_pulls() -> None:
    pattern = re.compile(r"\.pull\(|images\.pull|docker pull|\bpull_image\b")
    sources = sorted(HARNESS.rglob("*.py"))
    assert len(sources) > 50
    offenders = []
    for path in sources:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            if pattern.search(code) and "`docker pull" not in code:
                offenders.append(f"{path.relative_to(HARNESS.parent)}:{number}: {line.strip()}")
    assert not offenders, offenders
