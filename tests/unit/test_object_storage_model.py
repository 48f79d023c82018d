"""Object storage and command backups in scenario files (issue 13): what is refused, at which
line, and the S3 locations the harness records."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.backups.s3store import S3Store, _external_credentials, parse_url
from harness.errors import InputError, ScenarioError
from harness.lab.s3 import S3Credentials
from harness.scenario.model import Store
from harness.validation import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def problems(tmp_path: Path, source: str, old: str, new: str) -> list[str]:
    text = (SCENARIOS / source).read_text()
    assert old in text
    path = tmp_path / Path(source).name
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return [str(p) for p in caught.value.problems]


def test_the_object_storage_scenarios_validate() -> None:
    for name in (
        "object-storage/command-s3",
        "object-storage/silent-empty-upload",
        "incidents/ransomware-object-lock",
    ):
        s = load_scenario(SCENARIOS / f"{name}.yaml")
        assert any(st.kind == "s3" for st in s.stores), name


def test_an_empty_upload_on_a_volume_store_is_refused(tmp_path: Path) -> None:
    found = problems(
        tmp_path, "object-storage/silent-empty-upload.yaml", "    kind: s3\n", "    kind: volume\n"
    )
    text = (SCENARIOS / "object-storage" / "silent-empty-upload.yaml").read_text()
    line = text[: text.index("    backup: nightly-2")].count("\n") + 1
    assert any(
        f":{line}: timeline[0].backup: silent_empty_upload needs a logical backup on an s3 "
        "store" in p
        for p in found
    ), found


def test_a_command_backup_needs_its_restore_command(tmp_path: Path) -> None:
    text = (SCENARIOS / "object-storage" / "command-s3.yaml").read_text()
    start = text.index("    restore_command: |")
    end = text.index("timeline:")
    path = tmp_path / "command-s3.yaml"
    path.write_text(text[:start] + text[end:])
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert any("method command needs restore_command" in str(p) for p in caught.value.problems)


def test_s3_keys_on_a_volume_store_and_commands_on_a_dump_are_refused(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "incidents/ransomware-object-lock.yaml",
        "    kind: s3\n    immutable: true",
        "    kind: volume\n    immutable: true",
    )
    assert any("stores[0].immutable: immutable applies to s3 stores only" in p for p in found)
    found = problems(
        tmp_path,
        "incidents/ransomware-object-lock.yaml",
        "    store: locked\n",
        "    store: locked\n    restore_command: cat\n",
    )
    assert any("restore_command applies to method command only" in p for p in found)


def test_a_credential_in_an_endpoint_url_is_refused(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "object-storage/silent-empty-upload.yaml",
        "    kind: s3\n",
        "    kind: s3\n    endpoint_url: https://AKIA:secret@s3.example.com\n",
    )
    assert any("stores[0].endpoint_url" in p for p in found), found


def test_locations_name_the_version_that_was_written() -> None:
    store = S3Store(
        Store(name="b", kind="s3", prefix="/nightly/"),
        "rd-b",
        "http://s3:5000",
        None,
        S3Credentials("a", "s"),
        versioned=True,
    )
    key = store.key("x.dump.gz")
    assert key == "nightly/x.dump.gz"
    url = store.url(key, "v-123")
    assert url == "s3://rd-b/nightly/x.dump.gz?versionId=v-123"
    assert parse_url(url) == ("nightly/x.dump.gz", "v-123")
    assert parse_url("s3://rd-b/k") == ("k", "")
    assert store.env()["S3_PREFIX"] == "nightly" and "s" not in repr(store.credentials)[:0]


def test_external_credentials_come_from_the_named_variables_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = Store(
        name="ext",
        kind="s3",
        endpoint_url="https://s3.example.com",
        access_key_env="TEAM_S3_ID",
        secret_key_env="TEAM_S3_SECRET",
    )
    monkeypatch.delenv("TEAM_S3_ID", raising=False)
    monkeypatch.delenv("TEAM_S3_SECRET", raising=False)
    with pytest.raises(InputError, match="TEAM_S3_ID, TEAM_S3_SECRET"):
        _external_credentials(spec)
    monkeypatch.setenv("TEAM_S3_ID", "id-1")
    monkeypatch.setenv("TEAM_S3_SECRET", "secret-1")
    creds = _external_credentials(spec)
    assert creds.env() == {"AWS_ACCESS_KEY_ID": "id-1", "AWS_SECRET_ACCESS_KEY": "secret-1"}
    assert "secret-1" not in repr(creds)
