"""The validate contract on a fuzzed corpus: mutations of the shipped scenario and plan files.

Every input must give exit 0 or exit 2 with ``FILE:LINE: path: message`` problems naming the
file, never another exception (a traceback) or a hang; where the mutation's line is known, a
problem must be reported at that line. Examples per mutation kind: 25 by default, more with
RECOVERY_DRILL_FUZZ_EXAMPLES=2000 (the long run).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import ScenarioError
from harness.plan import load_inputs

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("RECOVERY_DRILL_FUZZ_EXAMPLES", "25"))
REFERENCE_KEYS = ("store", "backup", "replica", "server", "compare_with")


@dataclass(frozen=True)
class Mutant:
    """A mutated file's bytes, and the line a problem must be reported at (None: unknown)."""

    kind: str
    data: bytes
    line: int | None


@dataclass(frozen=True)
class KeyLine:
    line: int  # 1-based
    key: str
    scalar: str | None  # the plain scalar value on the same line, if any


def _key_lines(text: str) -> list[KeyLine]:
    """Lines that start a mapping key (from the real YAML tree, so never inside a block text)."""
    out: list[KeyLine] = []

    def walk(node: yaml.Node) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                same_line = isinstance(value, yaml.ScalarNode) and (
                    value.start_mark.line == key.start_mark.line and value.style is None
                )
                out.append(
                    KeyLine(key.start_mark.line + 1, key.value, value.value if same_line else None)
                )
                walk(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                walk(item)

    walk(yaml.compose(text, Loader=yaml.SafeLoader))
    return out


def _corpus() -> list[Path]:
    files = sorted((REPO / "scenarios").rglob("*.yaml")) + sorted((REPO / "drills").glob("*.yaml"))
    assert len(files) >= 20
    return [f.relative_to(REPO) for f in files]


CORPUS = _corpus()


def _replace_line(lines: list[str], index: int, new: str) -> bytes:
    return "".join([*lines[:index], new, *lines[index + 1 :]]).encode()


def _insert_line(lines: list[str], index: int, new: str) -> bytes:
    return "".join([*lines[:index], new, *lines[index:]]).encode()


def _mutations(draw: st.DrawFn, text: str) -> Mutant:
    lines = text.splitlines(keepends=True)
    keys = _key_lines(text)
    scalars = [k for k in keys if k.scalar is not None]
    numbers = [k for k in scalars if re.fullmatch(r"-?\d+(\.\d+)?", k.scalar or "")]
    refs = [k for k in scalars if k.key in REFERENCE_KEYS]
    kinds: dict[str, Callable[[], Mutant]] = {}

    def indent(k: KeyLine) -> str:
        raw = lines[k.line - 1]
        return " " * (len(raw) - len(raw.lstrip(" -")))

    def unknown_key() -> Mutant:
        k = draw(st.sampled_from(keys))
        raw = lines[k.line - 1]
        if raw.lstrip().startswith("- "):  # the first key of a list item: add after it instead
            return Mutant(
                "unknown_key", _insert_line(lines, k.line, f"{indent(k)}zz_bogus: 1\n"), k.line + 1
            )
        return Mutant(
            "unknown_key", _insert_line(lines, k.line - 1, f"{indent(k)}zz_bogus: 1\n"), k.line
        )

    def duplicate_key() -> Mutant:
        k = draw(st.sampled_from(scalars))
        copy = f"{indent(k)}{k.key}: {k.scalar}\n"
        return Mutant("duplicate_key", _insert_line(lines, k.line, copy), k.line + 1)

    def wrong_type() -> Mutant:
        k = draw(st.sampled_from(numbers))
        new = lines[k.line - 1].replace(f"{k.key}: {k.scalar}", f"{k.key}: [1, 2]", 1)
        return Mutant("wrong_type", _replace_line(lines, k.line - 1, new), k.line)

    def bad_number() -> Mutant:
        k = draw(st.sampled_from(numbers))
        value = draw(st.sampled_from([".inf", "-.inf", ".nan", "true", "1.0e+30", "9" * 40]))
        new = lines[k.line - 1].replace(f"{k.key}: {k.scalar}", f"{k.key}: {value}", 1)
        return Mutant("bad_number", _replace_line(lines, k.line - 1, new), k.line)

    def dangling() -> Mutant:
        k = draw(st.sampled_from(refs))
        new = lines[k.line - 1].replace(f"{k.key}: {k.scalar}", f"{k.key}: zz-nowhere", 1)
        return Mutant("dangling_reference", _replace_line(lines, k.line - 1, new), k.line)

    def unclosed_quote() -> Mutant:
        k = draw(st.sampled_from(scalars))
        new = lines[k.line - 1].replace(f"{k.key}: {k.scalar}", f'{k.key}: "{k.scalar}', 1)
        return Mutant("unclosed_quote", _replace_line(lines, k.line - 1, new), k.line)

    def unclosed_bracket() -> Mutant:
        k = draw(st.sampled_from(scalars))
        new = lines[k.line - 1].replace(f"{k.key}: {k.scalar}", f"{k.key}: [{k.scalar}", 1)
        return Mutant("unclosed_bracket", _replace_line(lines, k.line - 1, new), k.line)

    def control_char() -> Mutant:
        i = draw(st.integers(0, len(lines) - 1))
        char = draw(st.sampled_from(["\x00", "\x07", "\x1b"]))
        return Mutant("control_char", _replace_line(lines, i, char + lines[i]), i + 1)

    def invalid_utf8() -> Mutant:
        i = draw(st.integers(0, len(lines) - 1))
        data = "".join(lines[:i]).encode() + b"\xc3\x28" + "".join(lines[i:]).encode()
        return Mutant("invalid_utf8", data, i + 1)

    def utf16() -> Mutant:
        return Mutant("utf16", text.encode("utf-16"), 1)

    def deep() -> Mutant:
        depth = draw(st.integers(70, 3000))
        extra = "zz_deep: " + "[" * depth + "]" * depth + "\n"
        return Mutant("deep_nesting", (text + extra).encode(), len(lines) + 1)

    def bomb() -> Mutant:
        rows = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
        rows += [
            f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 10)}]"
            for i in range(7)
        ]
        return Mutant(
            "alias_bomb", (text + "\nzz:\n" + "".join(f"  {r}\n" for r in rows)).encode(), None
        )

    def truncate() -> Mutant:
        cut = draw(st.integers(0, len(text)))
        return Mutant("truncate", text[:cut].encode(), None)

    def delete_line() -> Mutant:
        i = draw(st.integers(0, len(lines) - 1))
        return Mutant("delete_line", _replace_line(lines, i, ""), None)

    kinds = {
        "unknown_key": unknown_key,
        "control_char": control_char,
        "invalid_utf8": invalid_utf8,
        "utf16": utf16,
        "deep_nesting": deep,
        "alias_bomb": bomb,
        "truncate": truncate,
        "delete_line": delete_line,
    }
    if scalars:
        kinds |= {
            "duplicate_key": duplicate_key,
            "unclosed_quote": unclosed_quote,
            "unclosed_bracket": unclosed_bracket,
        }
    if numbers:
        kinds |= {"wrong_type": wrong_type, "bad_number": bad_number}
    if refs:
        kinds["dangling_reference"] = dangling
    return kinds[draw(st.sampled_from(sorted(kinds)))]()


mutants = st.composite(_mutations)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of scenarios/ and drills/, so mutated plans still find their scenarios."""
    root = tmp_path_factory.mktemp("corpus")
    for folder in ("scenarios", "drills"):
        shutil.copytree(REPO / folder, root / folder)
    return root


def check_contract(path: Path, mutant: Mutant) -> list[str]:
    """Validate ``path``; return its problems, failing the test on anything outside the contract."""
    try:
        load_inputs([path])
    except ScenarioError as exc:
        problems = exc.problems
    else:
        return []  # exit 0: the mutation kept the file valid (a deleted comment, say)
    assert problems, "exit 2 without a problem"
    for p in problems:
        assert p.file == str(path), f"{mutant.kind}: problem names another file: {p}"
        assert p.line >= 1, f"{mutant.kind}: line {p.line}: {p}"
        assert p.message
    if mutant.line is not None:
        lines = sorted({p.line for p in problems})
        assert mutant.line in lines, (
            f"{mutant.kind}: expected a problem at line {mutant.line}, got "
            + "; ".join(str(p) for p in problems)
        )
    return [str(p) for p in problems]


@pytest.mark.timeout(300)
@settings(
    max_examples=EXAMPLES * 12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(data=st.data())
def test_validate_contract_on_mutated_files(tree: Path, data: st.DataObject) -> None:
    source = data.draw(st.sampled_from(CORPUS))
    original = tree / source
    text = (REPO / source).read_text(encoding="utf-8")
    mutant = data.draw(mutants(text))
    path = original.with_name(f"zz-mutant-{original.name}")
    path.write_bytes(mutant.data)
    try:
        check_contract(path, mutant)
    finally:
        path.unlink()


@pytest.mark.parametrize("source", CORPUS, ids=str)
def test_shipped_files_validate(source: Path) -> None:
    load_inputs([REPO / source])
