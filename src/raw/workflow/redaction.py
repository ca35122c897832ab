"""Keeping secrets out of run records.

A run's secret values are the ``SecretStr``/``SecretBytes`` fields of its params.
The runner wraps every recorder's handle in :class:`RedactingHandle`, so the log,
the manifest and the returned result never carry them, whatever the recorder.
Params that failed validation are masked by field name instead.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr

from raw.redact import MIN_MASKED_LENGTH
from raw.workflow.recorder import RunHandle, flush_log
from raw.workflow.result import Artifact


def secrets_in(value: Any) -> list[str]:
    if isinstance(value, SecretStr):
        return [value.get_secret_value()]
    if isinstance(value, SecretBytes):
        return [value.get_secret_value().decode(errors="replace")]
    if isinstance(value, BaseModel):
        return [s for name in type(value).model_fields for s in secrets_in(getattr(value, name))]
    if isinstance(value, list | tuple | set):
        return [s for v in value for s in secrets_in(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in secrets_in(v)]
    return []


MASK = "**********"


class RedactingHandle:
    """A recorder's handle with the run's secret values masked in the log and the manifest."""

    def __init__(self, inner: RunHandle, secrets: Sequence[str]) -> None:
        self._inner = inner
        # Longest first, so a secret that contains another is masked whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self.run_id = inner.run_id
        self.run_dir = inner.run_dir
        self.results_dir = inner.results_dir
        self.log_path = inner.log_path

    def add_secret(self, value: str) -> None:
        """Mask ``value`` from now on (a secret the workflow read during the run)."""
        if len(value) >= MIN_MASKED_LENGTH and value not in self.secrets:
            self.secrets = sorted({*self.secrets, value}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def log(self, line: str) -> None:
        self._inner.log(self.redact(line))

    def save(self, name: str, data: Any) -> Artifact:
        return self._inner.save(name, data)

    def flush(self) -> None:
        flush_log(self._inner)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        self._inner.write_manifest(redact_json(manifest, self.redact) if self.secrets else manifest)

    def close(self) -> None:
        self._inner.close()


def redact_json(value: Any, redact: Callable[[str], str]) -> Any:
    """``value`` (JSON data) with ``redact`` applied to every string, keys included."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_json(v, redact) for v in value]
    if isinstance(value, dict):
        return {redact(str(k)): redact_json(v, redact) for k, v in value.items()}
    return value


def _holds_secret(annotation: Any) -> bool:
    if annotation in (SecretStr, SecretBytes):
        return True
    return any(_holds_secret(arg) for arg in typing.get_args(annotation))


def secret_keys(model: type[BaseModel], seen: frozenset[type] = frozenset()) -> set[str]:
    """Names (and aliases) of the fields typed as secrets anywhere in ``model``."""
    keys: set[str] = set()
    for name, info in model.model_fields.items():
        if _holds_secret(info.annotation):
            keys |= {name, info.alias} - {None}  # type: ignore[arg-type]
            continue
        stack = [info.annotation]
        while stack:
            tp = stack.pop()
            if isinstance(tp, type) and issubclass(tp, BaseModel) and tp not in seen:
                keys |= secret_keys(tp, seen | {model})
            stack.extend(typing.get_args(tp))
    return keys


def mask_keys(value: Any, keys: set[str]) -> Any:
    """Raw, unvalidated params with the values under secret field names masked."""
    if isinstance(value, dict):
        return {k: MASK if k in keys else mask_keys(v, keys) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_keys(v, keys) for v in value]
    return value


def values_at_keys(value: Any, keys: set[str]) -> list[str]:
    """The raw values given for secret fields, to mask in the log and in messages."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in keys:
                found += values_at_keys(item, keys)
            elif isinstance(item, str):
                found.append(item)
            else:
                found += secrets_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            found += values_at_keys(item, keys)
    return found
