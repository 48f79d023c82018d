"""Reading a YAML file safely: only a regular file of bounded size, in UTF-8, composed into a
node tree with bounded depth and size; every refusal is a FILE:LINE problem.

Limits are checked before or while parsing, never after: a FIFO is not waited on, a 50 MB file
is not read, a document nested 1500 deep stops at MAX_DEPTH instead of Python's recursion
limit. An unclosed quote or bracket is reported where it opened, next to where the parser
stopped.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from harness.errors import Problem, ScenarioError

MAX_FILE_BYTES = 1 << 20  # 1 MiB; the largest shipped scenario is under 10 KB
MAX_DEPTH = 64  # nesting of mappings and lists; real scenarios stay under 8
MAX_COMPOSED_NODES = 100_000  # nodes written in the file, before any alias is expanded


class _Limit(yaml.YAMLError):
    """A document past one of the loader's limits, stopped while it is being composed."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader whose composer stops at MAX_DEPTH levels and MAX_COMPOSED_NODES nodes,
    before Python's recursion limit or the memory of a huge document is reached."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        self._nodes += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Limit(self._line(), f"nested deeper than {MAX_DEPTH} levels")
            if self._nodes > MAX_COMPOSED_NODES:
                raise _Limit(self._line(), f"more than {MAX_COMPOSED_NODES} nodes")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _line(self) -> int:
        return int(self.peek_event().start_mark.line) + 1


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, max(0, offset)) + 1


def read_text(path: Path) -> str:
    """The file's text: a regular file of at most MAX_FILE_BYTES, in UTF-8."""
    file = str(path)

    def fail(line: int, message: str) -> ScenarioError:
        return ScenarioError([Problem(file, line, "", message)])

    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is rejected below.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise fail(1, f"cannot read file: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise fail(1, f"cannot read file: {kind} (only regular files are read)")
        if info.st_size > MAX_FILE_BYTES:
            raise fail(
                1, f"file too large ({info.st_size} bytes; the limit is {MAX_FILE_BYTES} bytes)"
            )
        data = os.read(fd, MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise fail(1, f"cannot read file: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise fail(1, f"file too large (over {MAX_FILE_BYTES} bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(
            _line_at(data, exc.start), f"not UTF-8: byte 0x{data[exc.start]:02x} ({exc.reason})"
        ) from exc


def _yaml_problem(file: str, text: str, exc: yaml.YAMLError) -> Problem:
    """A YAML error at the line where its construct opened (an unclosed quote or bracket),
    naming where the parser stopped."""
    if isinstance(exc, _Limit):
        return Problem(file, exc.line, "", f"document too large: {exc.message}")
    if isinstance(exc, yaml.reader.ReaderError):  # a control character such as NUL or BEL
        line = text.count("\n", 0, exc.position) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return Problem(file, line, "", f"invalid YAML: unacceptable character #x{char:04x}")
    if not isinstance(exc, yaml.MarkedYAMLError):
        return Problem(file, 1, "", f"invalid YAML: {exc}")
    problem, context = exc.problem_mark, exc.context_mark
    what = exc.problem or str(exc)
    quoted = _long_quote(text, problem.line if problem is not None else None)
    if quoted is not None:
        # A quote left open is closed by the next quote in the file; the parser then fails
        # lines later. The quoted value that spans lines is the likely culprit.
        opened, ended = quoted
        stopped = f" at line {problem.line + 1}" if problem is not None else ""
        return Problem(
            file,
            opened,
            "",
            f"invalid YAML: a quoted value opened here runs on to line {ended} "
            f"(an unclosed quote?): {what}{stopped}",
        )
    if context is not None and exc.context:
        stopped = f" at line {problem.line + 1}" if problem is not None else ""
        return Problem(
            file, context.line + 1, "", f"invalid YAML: {exc.context} opened here: {what}{stopped}"
        )
    line = problem.line + 1 if problem is not None else 1
    return Problem(file, line, "", f"invalid YAML: {what}")


def _long_quote(text: str, before_line: int | None) -> tuple[int, int] | None:
    """(first, last line) of the first quoted scalar spanning several lines that starts before
    ``before_line`` (0-based), as far as the scanner gets; None if there is none."""
    scanner = yaml.SafeLoader(text)
    try:
        while (token := scanner.get_token()) is not None:
            start, end = token.start_mark.line, token.end_mark.line
            if before_line is not None and start > before_line:
                return None
            if isinstance(token, yaml.ScalarToken) and token.style in ('"', "'") and end > start:
                return start + 1, end + 1
    except yaml.YAMLError:
        return None
    finally:
        scanner.dispose()
    return None


def compose_file(path: Path) -> yaml.Node | None:
    """The YAML node tree of ``path`` (None for an empty document); ScenarioError otherwise."""
    text = read_text(path)
    try:
        loader = _BoundedLoader(text)  # the reader rejects control characters here
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise ScenarioError([_yaml_problem(str(path), text, exc)]) from exc
