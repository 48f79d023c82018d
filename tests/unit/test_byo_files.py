"""A team's files: what kind each is (from its first bytes), and the streamed tar that
carries it into the server container."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from harness.engines.byo import FileKind, inspect_file
from harness.errors import InputError
from harness.server.byo import tar_stream


def test_kinds_are_told_from_the_first_bytes(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("CREATE TABLE t (id int);\n")
    (tmp_path / "a.dump").write_bytes(b"PGDMP\x01\x0e\x00rest")
    with gzip.open(tmp_path / "a.dump.gz", "wb") as f:
        f.write(b"PGDMP\x01\x0e\x00rest")
    with gzip.open(tmp_path / "a.sql.gz", "wb") as f:
        f.write(b"USE shop;\n")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "toc.dat").write_bytes(b"PGDMP")
    seen = {p: (inspect_file(tmp_path / p).kind, inspect_file(tmp_path / p).gzipped)
            for p in ("a.sql", "a.dump", "a.dump.gz", "a.sql.gz", "dir")}  # fmt: skip
    assert seen == {
        "a.sql": (FileKind.SCRIPT, False),
        "a.dump": (FileKind.ARCHIVE, False),
        "a.dump.gz": (FileKind.ARCHIVE, True),
        "a.sql.gz": (FileKind.SCRIPT, True),
        "dir": (FileKind.DIRECTORY, False),
    }


def test_a_directory_without_a_toc_and_a_broken_gzip_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a pg_dump directory"):
        inspect_file(tmp_path / "empty")
    (tmp_path / "bad.gz").write_bytes(b"\x1f\x8bnot gzip at all")
    with pytest.raises(InputError, match="cannot read"):
        inspect_file(tmp_path / "bad.gz")


@pytest.mark.parametrize("size", [0, 1, 511, 512, 513, 3 * 1024 * 1024 + 7])
def test_the_streamed_tar_reads_back_byte_for_byte(tmp_path: Path, size: int) -> None:
    data = bytes(i % 251 for i in range(size))
    (tmp_path / "dump").mkdir()
    (tmp_path / "dump" / "toc.dat").write_bytes(data)
    (tmp_path / "dump" / "3001.dat.gz").write_bytes(b"x")
    (tmp_path / "one.sql").write_bytes(data)
    cases = [
        (tmp_path / "one.sql", {"one.sql": data}),
        (tmp_path / "dump", {"dump/toc.dat": data, "dump/3001.dat.gz": b"x"}),
    ]
    for root, members in cases:
        chunks = list(tar_stream(root))
        assert max(len(c) for c in chunks) <= 1 << 20  # streamed, not one buffer
        with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
            files = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
        assert files == members


SCENARIO = """name: s
summary: s
engines: [{engine}]
dataset:
  file: {file}
checks:
  - name: c
    sql: SELECT 1
    expect: same
    equals: 1
timeline:
  - {{fault: kill, at_s: 1, target: primary}}
recovery:
  steps: [{{step: restart}}]
objectives: {{rto_s: 10, rpo_s: 1}}
"""


def test_validation_names_a_missing_file_an_archive_for_mariadb_and_a_double_expectation(
    tmp_path: Path,
) -> None:
    from harness.errors import ScenarioError
    from harness.validation import load_scenario

    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(engine="postgres", file="nowhere.sql"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    text = str(caught.value)
    assert "dataset.file" in text and "nowhere.sql does not exist" in text
    assert "give one of expect: same, equals, or min/max" in text
    (tmp_path / "a.dump").write_bytes(b"PGDMP")
    path.write_text(SCENARIO.format(engine="mariadb", file="a.dump"))
    with pytest.raises(ScenarioError, match="loads into postgres only, not mariadb"):
        load_scenario(path)
