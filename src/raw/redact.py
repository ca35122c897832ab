"""Keeping credentials inside URLs out of what the kit prints, logs and records.

A setting's name says whether its value is secret (``RAW_API_TOKEN``), but a URL
setting (``RAW_LLM_BASE_URL``, ``DATABASE_URL``, an SMTP URL) may carry a password
in its userinfo (``https://user:PASSWORD@host``) or a key in its query
(``?api_key=...``, ``&sig=...``) whatever its name. Every URL is shown through
:func:`redact_url`; free text that may hold one (an error message, a printed
line) through :func:`redact_urls`; and a run masks :func:`environment_secrets`
wherever they appear in its log, manifest and result, however they got there.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import unquote

from raw._patterns import LazyPattern

__all__ = [
    "MASK",
    "SECRET_NAME",
    "environment_secrets",
    "redact_url",
    "redact_urls",
    "setting_secrets",
    "url_secrets",
]

MASK = "***"
MIN_MASKED_LENGTH = 4
"""Shorter secrets are not masked by value (every 'ab' in a log would go): by URL only."""

_USERINFO = LazyPattern(r"^([A-Za-z][\w+.-]*://)([^/?#@\s]*)@")
_QUERY_SECRET = LazyPattern(
    r"([?&;](?:[\w.-]*?(?:key|token|secret|passw(?:or)?d|pwd|sig|signature|auth|credential|"
    r"session|code))=)([^&#;\s]*)",
    re.IGNORECASE,
)
SECRET_NAME = LazyPattern(
    r"secret|token|passw|pwd|api[-_]?key|auth|signature|credential|private[-_]?key|cookie|dsn",
    re.IGNORECASE,
)
"""A setting whose name matches holds a secret (``RAW_API_TOKEN``, ``RAW_CV_SECRET``)."""
MIN_SETTING_SECRET_LENGTH = 6
_SHELL_PATHS = frozenset({"PWD", "OLDPWD"})
"""The shell's working folders: their names match ``pwd``, their values are no secret."""
_URL_IN_TEXT = LazyPattern(r"[A-Za-z][\w+.-]*://[^\s'\"<>`]+")


def redact_url(url: str) -> str:
    """``url`` with its password and secret-looking query values replaced by ``***``.

    ``https://user:pw@host/v1?api_key=k&model=m`` -> ``https://user:***@host/v1?api_key=***&model=m``.
    """

    def userinfo(match: re.Match[str]) -> str:
        user, sep, _ = match.group(2).partition(":")
        return f"{match.group(1)}{user}{':' + MASK if sep else ''}@"

    masked = _USERINFO.sub(userinfo, url.strip())
    return _QUERY_SECRET.sub(lambda m: m.group(1) + (MASK if m.group(2) else ""), masked)


def redact_urls(text: str) -> str:
    """``text`` with every URL in it passed through :func:`redact_url`."""
    if "://" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        url = match.group(0)
        end = len(url.rstrip(".,;:)]}"))  # a sentence's punctuation is not the URL's
        return redact_url(url[:end]) + url[end:]

    return _URL_IN_TEXT.sub(one, text)


def url_secrets(url: str) -> list[str]:
    """The secret parts of ``url``: its password and secret-looking query values."""
    found = []
    match = _USERINFO.match(url.strip())
    if match:
        _, sep, password = match.group(2).partition(":")
        if sep and password:
            found += [password, unquote(password)]
    found += [m.group(2) for m in _QUERY_SECRET.finditer(url) if m.group(2)]
    found += [unquote(value) for value in found if unquote(value) != value]
    return list(dict.fromkeys(found))


def environment_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """The secret parts of every URL among the settings, long enough to mask by value."""
    found: list[str] = []
    for value in _url_values(environ):
        found += url_secrets(value)
    return [s for s in dict.fromkeys(found) if len(s) >= MIN_MASKED_LENGTH]


def _url_values(environ: Mapping[str, str] | None) -> list[str]:
    """The values holding ``://``. Every run asks of the process's own environment: its
    raw bytes are searched first, so that only those values are decoded."""
    data = getattr(os.environ, "_data", None) if environ is None else None
    if isinstance(data, dict) and os.name == "posix":  # CPython: the values as bytes
        return [os.fsdecode(v) for v in data.values() if isinstance(v, bytes) and b"://" in v]
    env = os.environ if environ is None else environ
    return [v for v in env.values() if "://" in v]


def setting_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """The values of the settings whose names say they are secret, and the secret parts of
    every URL among the settings: what no log line may show. Longest first, so a secret
    holding another is masked whole."""
    env = os.environ if environ is None else environ
    values = {
        v.strip()
        for name, v in env.items()
        if SECRET_NAME.search(name) and name not in _SHELL_PATHS
    }
    found = [v for v in values if len(v) >= MIN_SETTING_SECRET_LENGTH]
    found += environment_secrets(env)
    return sorted(set(found), key=len, reverse=True)
