"""The floor a secret must reach outside development: real formats pass, guessable ones do not."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable

import pytest

from raw.coordinator.secret_strength import weakness
from raw.up.local_env import new_secret

FORMATS: dict[str, Callable[[], str]] = {
    "token_urlsafe(32)": lambda: secrets.token_urlsafe(32),
    "Twilio auth token (32 hex)": lambda: secrets.token_hex(16),
    "GitHub secret (token_hex(20))": lambda: secrets.token_hex(20),
    "Standard Webhooks (24-byte key)": lambda: (
        "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    ),
    "Standard Webhooks (16-byte key)": lambda: (
        "whsec_" + base64.b64encode(secrets.token_bytes(16)).decode()
    ),
    "raw up's standard-webhooks secret": lambda: new_secret("standard-webhooks"),
    "raw up's token": lambda: new_secret("token"),
}


@pytest.mark.parametrize("kind", FORMATS)
def test_real_secrets_of_every_format_pass(kind: str) -> None:
    refused = [weakness(FORMATS[kind]()) for _ in range(500)]
    assert [w for w in refused if w] == []


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("a", "is 1 character long; at least 32 needed"),
        ("0123456789abcdef", "is 16 characters long; at least 32 needed"),
        ("Password1234567890", "is 18 characters long; at least 32 needed"),
        ("changeme", "is a well-known default value"),
        ("0123456789abcdef0123456789abcdef", "is guessable"),
        ("Password1234567890Password1234567890", "is guessable"),
        ("abababababababababababababababababab", "is guessable"),
        ("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "is guessable"),
        ("qwertyuiopasdfghjklzxcvbnm1234567890", "is guessable"),
        ("whsec_" + base64.b64encode(b"x" * 10).decode(), "holds 10 bytes of key"),
        ("whsec_" + base64.b64encode(b"password" * 4).decode(), "is guessable"),
    ],
)
def test_guessable_values_are_refused_without_being_quoted(value: str, why: str) -> None:
    problem = weakness(value)
    assert problem is not None and problem.startswith(why)
    assert len(value) < 8 or value not in problem
