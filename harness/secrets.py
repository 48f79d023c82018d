"""Secrets kept out of what the harness writes: redaction of known values and of URLs.

Credentials travel to commands in their environment, never in argv (see the engines'
``tool_env``). What a command says back, or a message quoting it, is passed through ``redact``
with the secrets it was given before it can reach a journal, a log or the history; a database
URL is shown through ``redact_url``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, unquote, urlencode

MASK = "***"
# Environment variables whose value is a secret (PGPASSWORD, MYSQL_PWD, SQLCMDPASSWORD, ...).
SECRET_NAME = re.compile(r"PASS|PWD|SECRET|TOKEN|KEY|CREDENTIAL|AUTH", re.IGNORECASE)
# Query parameters of a URL whose value is a secret (libpq's password, sslpassword, ...).
SECRET_PARAM = re.compile(r"pass|pwd|secret|token|key|credential|auth|sig", re.IGNORECASE)
# Shorter values are not redacted: masking "a" everywhere would hide the message, not a secret.
MIN_SECRET_LENGTH = 3


def secret_values(env: Mapping[str, str] | None) -> list[str]:
    """The values of the secret-named variables of an environment given to a command."""
    return [value for name, value in (env or {}).items() if SECRET_NAME.search(name)]


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``***`` (longest first, so a
    secret containing another is masked whole)."""
    long_enough = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
    for secret in sorted(long_enough, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def url_secrets(url: str) -> list[str]:
    """The secrets a URL carries (its password, secret query values), raw and %-decoded."""
    _, sep, rest = url.partition("://")
    head, _, tail = rest.partition("?")
    userinfo, at, _ = head.rpartition("@")
    found = [userinfo.partition(":")[2]] if at and ":" in userinfo else []
    query = tail.partition("#")[0]
    found += [v for k, v in parse_qsl(query, keep_blank_values=True) if SECRET_PARAM.search(k)]
    return [s for secret in found if secret for s in (secret, unquote(secret))] if sep else []


def redact_url(url: str) -> str:
    """The URL with its password (user-info) and secret query parameters masked, for messages.

    ``postgresql://u:p@h/db`` → ``postgresql://u:***@h/db``;
    ``postgresql://u@h/db?password=p&sslmode=require`` → ``...?password=***&sslmode=require``.
    The user-info ends at the last ``@`` before the query, so a password holding an unencoded
    ``@`` or ``/`` is masked whole (``?`` and ``#`` in a password must be percent-encoded, as
    libpq wants them). Text without ``://`` is returned unchanged.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    head, qmark, tail = rest.partition("?")
    userinfo, at, location = head.rpartition("@")
    if at:
        user, colon, _ = userinfo.partition(":")
        head = f"{user}:{MASK}@{location}" if colon else head
    if not qmark:
        return f"{scheme}{sep}{head}"
    query, hash_, fragment = tail.partition("#")
    pairs = parse_qsl(query, keep_blank_values=True)
    masked = urlencode([(k, MASK if SECRET_PARAM.search(k) else v) for k, v in pairs], safe="*")
    return f"{scheme}{sep}{head}?{masked}{hash_}{fragment}"
