"""YAML in, typed model out: every problem reported at once as FILE:LINE: path: message.

PyYAML's node tree gives a line for every key and item; pydantic's error locations are mapped
back onto it. Duplicate keys (which PyYAML would silently overwrite) are problems too.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import Problem, ScenarioError, first_line
from harness.scenario.model import ALL_FIELD_NAMES, Scenario
from harness.scenario.reader import compose_file

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


class _Located:
    """Python data built from a YAML node tree, with the line of every path."""

    MAX_NODES = 100_000  # aliases can expand a small file enormously ("billion laughs")

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[Loc, int] = {}
        self.problems: list[Problem] = []
        self._open: set[int] = set()
        self._built = 0
        self.unreadable: set[Loc] = set()  # values already reported; validation stays quiet there

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self._built += 1
        if self._built > self.MAX_NODES:
            raise _TooLarge(
                self._problem(
                    node, loc, f"document too large (aliases expand past {self.MAX_NODES} nodes)"
                )
            )
        if id(node) in self._open:
            self.problems.append(self._problem(node, loc, "an alias refers to itself"))
            self.unreadable.add(loc)
            return None
        self._open.add(id(node))
        try:
            return self._build(node, loc)
        finally:
            self._open.discard(id(node))

    def _build(self, node: yaml.Node, loc: Loc) -> Any:
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.build(key_node, (*loc, "<key>"))
                if not isinstance(key, str | int | float | bool) or key is None:
                    self.problems.append(self._problem(key_node, loc, "keys must be plain scalars"))
                    continue
                key = str(key)
                if key in out:
                    self.problems.append(
                        self._problem(
                            key_node,
                            loc,
                            f"duplicate key {key!r} (first at line {self.lines[(*loc, key)]})",
                        )
                    )
                    continue
                self.lines[(*loc, key)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*loc, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        try:
            return yaml.constructor.SafeConstructor().construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, AttributeError) as exc:
            problem = getattr(exc, "problem", None) or first_line(exc)
            self.problems.append(self._problem(node, loc, f"cannot read value: {problem}"))
            self.unreadable.add(loc)
            return None

    def _problem(self, node: yaml.Node, loc: Loc, message: str) -> Problem:
        return Problem(self.file, node.start_mark.line + 1, format_loc(loc), message)

    def locate(self, loc: Loc) -> tuple[int, Loc]:
        """The line for a pydantic error location, skipping union tags pydantic inserts."""
        current: Loc = ()
        shown: list[str | int] = []
        for i, part in enumerate(loc):
            candidate = (*current, part)
            if candidate in self.lines:
                current = candidate
                shown.append(part)
            elif i == len(loc) - 1:
                shown.append(part)  # a missing key: reported on its parent's line
        return self.lines.get(current, 1), tuple(shown)


class _TooLarge(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def format_loc(loc: Loc) -> str:
    """('timeline', 2, 'at_s') -> 'timeline[2].at_s'."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _message(error: Any, loc: Loc) -> str:
    if error["type"] == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        close = difflib.get_close_matches(key, sorted(ALL_FIELD_NAMES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown key {key!r}{hint}"
    if error["type"] == "missing":
        return "required key is missing"
    if error["type"] == "value_error":  # a validator's own message, without pydantic's prefix
        return str(error["ctx"]["error"])
    return str(error["msg"])


def read_yaml(path: Path) -> tuple[Any, _Located]:
    """Parse ``path`` into plain data plus its line map; raise ScenarioError on YAML errors."""
    file = str(path)
    located = _Located(file)
    root = compose_file(path)
    if root is None:
        raise ScenarioError([Problem(file, 1, "", "file is empty")])
    try:
        data = located.build(root, ())
    except _TooLarge as exc:
        raise ScenarioError([exc.problem]) from exc
    if not isinstance(data, dict):
        located.problems.append(Problem(file, 1, "", "the top level must be a mapping of keys"))
    return data, located


def validate(model: type[M], data: Any, located: _Located) -> M | None:
    """Validate ``data`` as ``model``; problems are added to ``located``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            line, loc = located.locate(tuple(error["loc"]))
            if any(loc[: len(bad)] == bad or bad[: len(loc)] == loc for bad in located.unreadable):
                continue
            located.problems.append(
                Problem(located.file, line, format_loc(loc), _message(error, loc))
            )
        return None


Check = Callable[[Scenario], Iterator[tuple[Loc, str]]]


def validated(data: Any, located: _Located, *, extra_checks: Sequence[Check] = ()) -> Scenario:
    """Validate data already read by read_yaml as a scenario: the model, the references
    inside the file, then ``extra_checks`` (harness.validation's, which know engines and
    faults); raise ScenarioError listing every problem."""
    from harness.scenario.references import check_references

    # Validate even after YAML-level problems (a duplicate key), so every problem is reported.
    scenario = validate(Scenario, data, located) if isinstance(data, dict) else None
    if scenario is not None:
        for check in (check_references, *extra_checks):
            for loc, message in check(scenario):
                line, shown = located.locate(loc)
                located.problems.append(Problem(located.file, line, format_loc(shown), message))
    if located.problems or scenario is None:
        raise ScenarioError(located.problems)
    return scenario
