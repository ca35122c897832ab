"""Whether a secret is strong enough to start with outside development.

A secret passes when it is long enough and when an estimate of its randomness
reaches a floor. The estimate reads the value left to right and counts each
*guessable* stretch as one symbol: a run of four or more characters that repeat
or count up or down (``aaaa``, ``1234``, ``fedc``), a common word (``password``,
``qwerty``) and a stretch seen before in the value (``abcabc``); every other
character is one symbol. Symbols times ``log2`` of the alphabet the value draws
from (hex, digits, letters, symbols) is the estimate, in bits.

Real secrets pass with room to spare: ``secrets.token_urlsafe(32)`` (about 280
bits), a Twilio auth token (32 hex characters, 128 bits), a GitHub secret made
with ``secrets.token_hex(20)``, a Standard Webhooks ``whsec_<base64>`` secret
(judged by its key: at least 16 bytes). The estimate never prints the value.
"""

from __future__ import annotations

import base64
import binascii
import math
import string

__all__ = [
    "GENERATE",
    "MIN_BITS",
    "MIN_KEY_BYTES",
    "MIN_LENGTH",
    "estimated_bits",
    "how_to_generate",
    "weakness",
]

MIN_LENGTH = 32
"""Characters of a token or secret (32 hex characters are 16 bytes)."""
MIN_KEY_BYTES = 16
"""Bytes of key in a Standard Webhooks secret (``whsec_`` + base64 of the key)."""
MIN_BITS = 80
"""The floor of :func:`estimated_bits`. Random hex of the minimum length has 128 and
loses little to chance runs and repeats (the worst of 100,000 tokens kept 104)."""
GENERATE = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
GENERATE_WHSEC = (
    "python -c \"import base64, secrets; print('whsec_' + "
    'base64.b64encode(secrets.token_bytes(32)).decode())"'
)
_RUN = 4
"""A run, word or repeat this long or longer counts as one symbol."""
WELL_KNOWN = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "changethis",
        "change-this",
        "secret",
        "password",
        "token",
        "default",
        "example",
        "admin",
        "test",
        "raw",
        "raw-api-token",
        "your-token-here",
        "replace-me",
    }
)
WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "admin",
    "changeme",
    "change",
    "default",
    "example",
    "letmein",
    "welcome",
    "qwertyuiop",
    "qwerty",
    "qwertz",
    "azerty",
    "asdfghjkl",
    "asdf",
    "zxcvbnm",
    "zxcv",
    "test",
    "hook",
    "webhook",
    "login",
    "master",
    "monkey",
    "dragon",
    "sunshine",
    "iloveyou",
    "hello",
    "root",
    "user",
    "guest",
    "production",
    "staging",
    "development",
)
"""Common words and keyboard rows (none made of the hex letters a-f only)."""


def _alphabet(value: str) -> int:
    if all(c in string.hexdigits for c in value) and not (
        any(c in "abcdef" for c in value) and any(c in "ABCDEF" for c in value)
    ):
        return 16
    size = 0
    size += 10 if any(c.isdigit() for c in value) else 0
    size += 26 if any(c.islower() for c in value) else 0
    size += 26 if any(c.isupper() for c in value) else 0
    size += 33 if any(not c.isalnum() for c in value) else 0
    return max(size, 2)


def _run_length(value: str, start: int) -> int:
    """How long the run at ``start`` is whose characters repeat or count by one."""
    if start + 1 >= len(value):
        return 1
    step = ord(value[start + 1]) - ord(value[start])
    if step not in (-1, 0, 1):
        return 1
    end = start + 1
    while end + 1 < len(value) and ord(value[end + 1]) - ord(value[end]) == step:
        end += 1
    return end - start + 1


def _word_length(lowered: str, start: int) -> int:
    return max((len(w) for w in WORDS if lowered.startswith(w, start)), default=1)


def _repeat_length(value: str, start: int) -> int:
    """The longest stretch at ``start`` that also begins earlier in the value."""
    best = 1
    for earlier in range(start):
        length = 0
        while start + length < len(value) and value[earlier + length] == value[start + length]:
            length += 1
        best = max(best, length)
    return best


def estimated_bits(value: str) -> float:
    """An estimate of the randomness in ``value``, in bits (see the module's docstring)."""
    lowered = value.lower()
    symbols = 0
    index = 0
    while index < len(value):
        guessable = max(
            _run_length(value, index), _word_length(lowered, index), _repeat_length(value, index)
        )
        index += guessable if guessable >= _RUN else 1
        symbols += 1
    return symbols * math.log2(_alphabet(value))


def _standard_webhooks_key(value: str) -> bytes | None:
    if not value.startswith("whsec_"):
        return None
    try:
        return base64.b64decode(value.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        return None


def how_to_generate(scheme: str | None = None) -> str:
    """The command that prints a good value for a secret used with ``scheme``."""
    return GENERATE_WHSEC if scheme == "standard-webhooks" else GENERATE


def weakness(value: str) -> str | None:
    """Why ``value`` is too weak for a secret, as a phrase that never quotes it; or None."""
    stripped = value.strip()
    if stripped.lower() in WELL_KNOWN:
        return "is a well-known default value"
    key = _standard_webhooks_key(stripped)
    if key is not None:
        if len(key) < MIN_KEY_BYTES:
            return f"holds {len(key)} bytes of key after 'whsec_'; at least {MIN_KEY_BYTES} needed"
        material = key.hex()  # the key itself: base64 hides a repeated key's period
    else:
        if len(stripped) < MIN_LENGTH:
            plural = "" if len(stripped) == 1 else "s"
            return f"is {len(stripped)} character{plural} long; at least {MIN_LENGTH} needed"
        material = stripped
    bits = estimated_bits(material)
    if bits < MIN_BITS:
        return (
            "is guessable: it is made of sequences, repeats or common words (about "
            f"{bits:.0f} bits of randomness; at least {MIN_BITS} needed)"
        )
    return None
