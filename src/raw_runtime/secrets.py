"""Secrets, as the original runtime read them: the environment first, then ``.env``.

``get_secret("STRIPE_KEY")`` returns the variable's value, or the value the
nearest ``.env`` gives it (see :mod:`raw_runtime.env`), or ``default``;
``require_secret`` raises :class:`SecretNotFoundError` (a ``KeyError``, as the
original's was) naming where it looked. Neither writes to the environment.

Inside a run, values read here are masked in the run's log and manifest like any
other secret param. In a deployed system, secrets come from the environment the
deployment gives the worker (``raw deploy``), which these read first.
"""

from __future__ import annotations

import os

from raw.errors import RawError
from raw_runtime._refused import refuse
from raw_runtime.env import find_dotenv, read_dotenv

__all__ = ["SecretNotFoundError", "get_secret", "require_secret"]


class SecretNotFoundError(RawError, KeyError):
    def __init__(self, key: str, dotenv: str | None) -> None:
        self.key = key
        self.dotenv = dotenv
        where = f"nor in {dotenv}" if dotenv else "and no .env file was found"
        super().__init__(
            f"Secret '{key}' is not set: it is not in the environment {where}. Set it "
            f"(export {key}=...) or add {key}=... to the project's .env."
        )

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def get_secret(key: str, default: str | None = None) -> str | None:
    """``key`` from the environment, else from ``.env``, else ``default``."""
    value = os.environ.get(key)
    if value is None:
        value = read_dotenv().get(key)
    if value is None:
        return default
    _mask(value)
    return value


def require_secret(key: str) -> str:
    """``key`` from the environment, else from ``.env``; raise if neither has it."""
    value = get_secret(key)
    if value is None:
        found = find_dotenv()
        raise SecretNotFoundError(key, str(found) if found else None)
    return value


def _mask(value: str) -> None:
    """Keep the value out of the run's log and manifest."""
    # Lazy: the run's context exists only inside a run.
    from raw.workflow.context import current_run

    run = current_run()
    add = getattr(run.handle, "add_secret", None) if run is not None else None
    if callable(add):
        add(value)


__getattr__ = refuse(__name__)
