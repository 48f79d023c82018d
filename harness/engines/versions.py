"""Major versions of an engine: ``postgres@17``, ``mariadb@11.8``; the bare name is the default.

A scenario's ``engines:`` and ``--engine`` take either a bare engine name (today's default
image: the official image where present, else the local build) or ``NAME@MAJOR`` for one of
the versions listed here. Each version names the official image used where it is present
locally and the local build from Debian packages (compose/images/) otherwise. The engine
reference, version included, is what journals, history, reports and trends key on, so that
``postgres@15`` and ``postgres@17`` never share a trend.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineVersion:
    """One major version of an engine and where its image comes from."""

    major: str
    default_image: str
    local_image: str | None
    # Debian release the local build comes from (for the record and the docs).
    built_from: str


VERSIONS: dict[str, dict[str, EngineVersion]] = {
    "postgres": {
        "15": EngineVersion("15", "postgres:15", "recovery-drill/postgres:15-bookworm", "bookworm"),
        "17": EngineVersion("17", "postgres:17", "recovery-drill/postgres:17-trixie", "trixie"),
    },
    "mariadb": {
        "10.11": EngineVersion(
            "10.11", "mariadb:10.11", "recovery-drill/mariadb:10.11-bookworm", "bookworm"
        ),
        "11.8": EngineVersion(
            "11.8", "mariadb:11.8", "recovery-drill/mariadb:11.8-trixie", "trixie"
        ),
    },
}

SEPARATOR = "@"


def split_ref(ref: str) -> tuple[str, str | None]:
    """``postgres@17`` -> ("postgres", "17"); ``postgres`` -> ("postgres", None)."""
    name, sep, version = ref.partition(SEPARATOR)
    return name, (version if sep else None)


def base_name(ref: str) -> str:
    """The engine name of a reference, without its version."""
    return split_ref(ref)[0]


def version_of(ref: str) -> EngineVersion | None:
    """The version a reference names (None for a bare name; KeyError if unknown)."""
    name, major = split_ref(ref)
    return None if major is None else VERSIONS[name][major]


def versioned_refs() -> list[str]:
    """Every ``NAME@MAJOR`` reference an engine supports."""
    return [f"{name}{SEPARATOR}{major}" for name, vs in sorted(VERSIONS.items()) for major in vs]


def problem_with(ref: str, known_names: list[str]) -> str | None:
    """Why ``ref`` is not a valid engine reference, or None when it is."""
    name, major = split_ref(ref)
    if name not in known_names:
        return None  # the caller reports an unknown engine the usual way
    if major is None:
        return None
    versions = VERSIONS.get(name, {})
    if major not in versions:
        listed = ", ".join(f"{name}@{v}" for v in versions) or "none"
        return f"engine {name!r} has no version {major!r} here (versions: {listed})"
    return None
