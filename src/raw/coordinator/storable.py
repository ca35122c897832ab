"""Text a database keeps exactly as it was sent, or a 422 naming the field that holds the rest.

PostgreSQL refuses U+0000 in text (and in ``jsonb``), SQLite keeps it; a body that
is not UTF-8 could only be stored with U+FFFD in place of what was sent. Both are
refused before anything is stored, the same way on every database, with the field
path (``meta.tags.1.name``) so the sender knows what to fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from raw.errors import FieldError

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = ["field_label", "form_fields", "nul_fields", "refuse_unstorable_params"]

NUL_MESSAGE = (
    "holds a NUL character (U+0000), which the database cannot hold; remove it "
    "(send binary data as base64 text)"
)
NUL_KEY_MESSAGE = "this name holds a NUL character (U+0000), which the database cannot hold"


def field_label(name: str) -> str:
    """A field name as an error shows it: a NUL spelt ``\\x00`` so it can be read."""
    return name.replace("\x00", "\\x00")


def nul_fields(data: Any) -> list[FieldError]:
    """Every string in ``data`` (values and keys, nested) that holds U+0000, by field path."""
    problems: list[FieldError] = []
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:  # iteratively: a body may be nested as deep as the parser allows
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                problems.append(FieldError(path or "(body)", NUL_MESSAGE))
        elif isinstance(value, Mapping):
            for key, item in reversed(list(value.items())):
                child = _join(path, field_label(str(key)))
                if "\x00" in str(key):
                    problems.append(FieldError(child, NUL_KEY_MESSAGE))
                stack.append((child, item))
        elif isinstance(value, list | tuple):
            items = list(enumerate(value))
            stack.extend((_join(path, str(i)), item) for i, item in reversed(items))
    return sorted(problems, key=lambda problem: problem.field)


def form_fields(raw: bytes) -> tuple[dict[str, str], list[FieldError]]:
    """A urlencoded form read strictly as UTF-8: its fields, and what in it is not storable.

    Each name and value is percent-decoded to bytes first (Latin-1 maps byte to
    character one to one) and only then read as UTF-8, so a bad byte, escaped or
    not, is found in the field it belongs to; lone surrogates are not UTF-8 either.
    """
    fields: dict[str, str] = {}
    problems: list[FieldError] = []
    for raw_name, raw_value in parse_qsl(
        raw.decode("latin-1"), keep_blank_values=True, encoding="latin-1"
    ):
        name, name_ok = _utf8(raw_name)
        value, value_ok = _utf8(raw_value)
        label = field_label(name)
        if not name_ok:
            problems.append(FieldError(label, "this name is not valid UTF-8 text"))
        elif not value_ok:
            problems.append(
                FieldError(label, "is not valid UTF-8 text; send the form encoded as UTF-8")
            )
        fields[name] = value
    return fields, problems + nul_fields(fields)


def refuse_unstorable_params(request: Request) -> None:
    """A 422 (``query.route``, ``path.run_id``) for a parameter holding U+0000.

    Called by the API's and the operator page's authentication dependencies, once the
    caller is known, so no look-up ever sends a NUL to the database (PostgreSQL answers
    that with an error, which would be a 500).
    """
    # Lazy: the coordinator's modules that run without the app (dispatcher, CLI) skip FastAPI.
    from fastapi.exceptions import RequestValidationError

    errors: list[dict[str, Any]] = []
    places: list[tuple[str, Iterable[tuple[str, Any]]]] = [
        ("path", request.path_params.items()),
        ("query", request.query_params.multi_items()),
    ]
    for place, items in places:
        for name, value in items:
            if "\x00" in name or "\x00" in str(value):
                errors.append(
                    {"type": "value_error", "loc": (place, field_label(name)), "msg": NUL_MESSAGE}
                )
    if errors:
        raise RequestValidationError(errors)


def _utf8(text: str) -> tuple[str, bool]:
    data = text.encode("latin-1")
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace"), False


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part
