"""Command-line arguments of a workflow run, shared by `raw run` and the Temporal activity.

The architecture calls RAW workflows with CLI-style arguments from two places:
a person at a terminal (``raw run analyze-cv --cv-text ...``) and a Temporal
process (``execute_activity(run_raw_workflow, args=["analyze-cv", "--id=123"])``).
Both read them here, so both accept exactly the same arguments.

Flags are generated from a workflow's ``Params`` model: ``cv_text: str`` becomes
``--cv-text VALUE``; a bool becomes ``--x/--no-x``; a list is repeatable
(``--tag a --tag b``), takes several values after one flag as the original runtime's
did (``--tags a b``), or one JSON array; an Enum or Literal takes one of its
values; nested models and dicts take JSON. Values are handed to Pydantic as
strings, so its validation (and its messages) decide the rest. The command's own
options (``--json``, ``--dry``, ``--params``, ``--timeout``, ``--no-cache``,
``--no-deps``) may appear anywhere among them.
"""

from __future__ import annotations

import enum
import json
import sys
import types
import typing
import weakref
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticSerializationError, PydanticUndefined, to_jsonable_python

from raw._records import FrozenRecord
from raw.errors import FieldError, UsageError

Kind = Literal["bool", "list", "json", "choice", "value"]

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class Flag(FrozenRecord):
    """One command-line flag of a workflow, made from a field of its Params.

    ``key`` is the key Pydantic validates (the field's alias if it has one);
    ``choice_values`` the values behind ``choices`` (``Literal[1, 2]`` takes the int 1,
    not "1"). Frozen, with a dataclass's ``==``, hash and ``repr`` (:mod:`raw._records`).
    """

    __slots__ = (
        "field",
        "key",
        "flag",
        "kind",
        "type_label",
        "required",
        "default",
        "choices",
        "choice_values",
        "item_json",
        "help",
    )
    _fields = __slots__

    field: str
    key: str
    flag: str
    kind: Kind
    type_label: str
    required: bool
    default: Any
    choices: tuple[str, ...]
    choice_values: tuple[Any, ...]
    item_json: bool
    help: str

    def __init__(
        self,
        field: str,
        key: str,
        flag: str,
        kind: Kind,
        type_label: str,
        required: bool,
        default: Any,
        choices: tuple[str, ...] = (),
        choice_values: tuple[Any, ...] = (),
        item_json: bool = False,
        help: str = "",  # noqa: A002 - the field's name, as the dataclass had it
    ) -> None:
        self._set(
            field=field,
            key=key,
            flag=flag,
            kind=kind,
            type_label=type_label,
            required=required,
            default=default,
            choices=choices,
            choice_values=choice_values,
            item_json=item_json,
            help=help,
        )

    @property
    def usage(self) -> str:
        if self.kind == "bool":
            return f"{self.flag}/--no-{self.flag[2:]}"
        metavar = "JSON" if self.kind == "json" else self.type_label.upper()
        return f"{self.flag} {metavar}"


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _strip_optional(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            inner, _ = _strip_optional(args[0])
            return inner, True
    return annotation, False


def _is_complex(tp: Any) -> bool:
    origin = typing.get_origin(tp) or tp
    if isinstance(origin, type) and issubclass(origin, BaseModel | dict):
        return True
    return origin in (typing.Union, types.UnionType) or tp is Any


def _label(tp: Any) -> str:
    if isinstance(tp, type):
        return "secret" if issubclass(tp, SecretStr) else tp.__name__
    return str(tp).replace("typing.", "")


def _kind_of(annotation: Any) -> tuple[Kind, str, tuple[Any, ...], bool]:
    tp, _optional = _strip_optional(annotation)
    origin = typing.get_origin(tp)
    if tp is bool:
        return "bool", "bool", (), False
    if origin is Literal:
        return "choice", "choice", typing.get_args(tp), False
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "choice", tp.__name__, tuple(m.value for m in tp), False
    if origin in (list, set, frozenset, tuple) or tp in (list, set, frozenset, tuple):
        args = typing.get_args(tp)
        item = args[0] if args else Any
        return "list", f"{_label(origin or tp)}[{_label(item)}]", (), _is_complex(item)
    if _is_complex(tp):
        return "json", _label(tp), (), False
    return "value", _label(tp), (), False


def flags_for(model: type[BaseModel]) -> list[Flag]:
    out = []
    for name, info in model.model_fields.items():
        kind, label, choices, item_json = _kind_of(info.annotation)
        out.append(
            Flag(
                field=name,
                key=info.alias or name,
                flag="--" + name.replace("_", "-"),
                kind=kind,
                type_label=label,
                required=info.is_required(),
                default=_default(info),
                choices=tuple(str(c) for c in choices),
                choice_values=choices,
                item_json=item_json,
                help=info.description or "",
            )
        )
    return out


def _default(info: FieldInfo) -> Any:
    """The default as JSON would show it (``[]``, not ``"[]"``); None when required."""
    if info.is_required():
        return None
    try:
        value = info.get_default(call_default_factory=True, validated_data={})
    except Exception:  # a factory that needs the other fields, or fails: say so
        return f"<{getattr(info.default_factory, '__name__', 'factory')}()>"
    if value is PydanticUndefined:
        return None
    try:
        return to_jsonable_python(value)
    except PydanticSerializationError:
        return repr(value)


def _suggest(name: str, flags: list[Flag]) -> str:
    import difflib  # Lazy: only an unknown flag needs the suggestion (raw run's start-up).

    names = [f.flag for f in flags] + [f"--no-{f.flag[2:]}" for f in flags if f.kind == "bool"]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if close:
        return f" Did you mean '{close[0]}'?"
    if not flags:
        return " This workflow takes no parameters."
    return " Its parameters are: " + ", ".join(f.flag for f in flags) + "."


_parsing: weakref.WeakKeyDictionary[type[BaseModel], tuple[list[Flag], dict[str, Flag]]] = (
    weakref.WeakKeyDictionary()
)
"""Each Params model's flags, by name, as :func:`parse_flags` reads them (not their defaults)."""


def parse_flags(
    workflow_id: str, model: type[BaseModel], tokens: list[str]
) -> tuple[dict[str, Any], list[FieldError]]:
    """Turn ``--flag value`` tokens into a params dict; errors are collected, not raised."""
    known = _parsing.get(model)
    if known is None:  # once per model: a worker parses the same flags for every run
        flags = flags_for(model)
        known = _parsing[model] = (flags, {f.flag[2:]: f for f in flags})
    flags, by_flag = known
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not token.startswith("--") or token == "--":
            errors.append(
                FieldError(
                    token,
                    f"unexpected argument '{token}': workflow parameters "
                    "are flags, such as --name VALUE.",
                )
            )
            continue
        name, has_value, inline = token[2:].partition("=")
        name = name.replace("_", "-")
        flag = by_flag.get(name)
        negated = False
        if flag is None and name.startswith("no-"):
            candidate = by_flag.get(name[3:])
            if candidate is not None and candidate.kind == "bool":
                flag, negated = candidate, True
        if flag is None:
            errors.append(
                FieldError(
                    f"--{name}",
                    f"workflow '{workflow_id}' has no parameter "
                    f"'--{name}'.{_suggest('--' + name, flags)}",
                )
            )
            if not has_value and i < len(tokens) and not tokens[i].startswith("--"):
                i += 1  # its value belongs to the unknown flag, not a new mistake
            continue
        if flag.kind == "bool":
            if negated:
                if has_value:
                    errors.append(FieldError(flag.flag, f"--no-{name[3:]} takes no value."))
                values[flag.key] = False
            elif has_value:
                lowered = inline.lower()
                if lowered not in _TRUE | _FALSE:
                    errors.append(FieldError(flag.flag, f"'{inline}' is not true or false."))
                values[flag.key] = lowered in _TRUE
            else:
                values[flag.key] = True
            continue
        if flag.kind == "list":
            # Repeated (--tag a --tag b), one JSON array, or as the original runtime's
            # argparse took them (nargs="*"): every value up to the next flag, maybe none.
            bucket = values.setdefault(flag.key, [])
            if has_value:
                _add_list_value(flag, inline, bucket, errors)
                continue
            while i < len(tokens) and not _is_flag(tokens[i]):
                _add_list_value(flag, tokens[i], bucket, errors)
                i += 1
            continue
        if has_value:
            value = inline
        elif i < len(tokens) and not _is_flag(tokens[i]):
            value = tokens[i]
            i += 1
        else:
            errors.append(FieldError(flag.flag, f"{flag.flag} needs a value."))
            continue
        if flag.kind == "json":
            try:
                values[flag.key] = json.loads(value)
            except ValueError as exc:
                errors.append(FieldError(flag.flag, f"expects JSON, e.g. '{{\"key\": 1}}': {exc}."))
        elif flag.kind == "choice":
            if value not in flag.choices:
                errors.append(
                    FieldError(
                        flag.flag, f"'{value}' is not one of: " + ", ".join(flag.choices) + "."
                    )
                )
            else:
                values[flag.key] = flag.choice_values[flag.choices.index(value)]
        else:
            values[flag.key] = value
    return values, errors


def _is_flag(token: str) -> bool:
    return token.startswith("--") and len(token) > 2


def _add_list_value(flag: Flag, value: str, bucket: list[Any], errors: list[FieldError]) -> None:
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            bucket.extend(parsed)
            return
    if flag.item_json:
        try:
            bucket.append(json.loads(value))
        except ValueError as exc:
            errors.append(FieldError(flag.flag, f"each value must be JSON: {exc}."))
    else:
        bucket.append(value)


def flag_name(model: type[BaseModel], field_path: str) -> str:
    """``cv_text`` -> ``--cv-text`` for messages; nested paths keep their tail."""
    head, _, tail = field_path.partition(".")
    for name, info in model.model_fields.items():
        if head in (name, info.alias):
            return "--" + name.replace("_", "-") + (f" ({tail})" if tail else "")
    return field_path


# --- the command's own options ---------------------------------------------------

_VALUE_OPTIONS = {"--params", "--timeout", "--project-dir"}
_SWITCHES = {"--json", "--dry", "--no-cache", "--no-deps", "--help", "-h"}


class RunArgs:
    def __init__(self) -> None:
        self.workflow_id: str | None = None
        self.as_json = False
        self.dry = False
        self.no_cache = False
        self.no_deps = False
        self.help = False
        self.params: str | None = None
        self.timeout: str | None = None
        self.project_dir: str | None = None
        self.flags: list[str] = []


def split_args(tokens: list[str], *, expect_id: bool = True) -> RunArgs:
    """Separate the command's options from the workflow's flags."""
    args = RunArgs()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        name, has_value, inline = token.partition("=")
        if name in _VALUE_OPTIONS:
            if has_value:
                value: str | None = inline
            elif i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
                # never a flag: `--params --json` must not read "--json" as the params
                value = tokens[i + 1]
                i += 1
            else:
                raise UsageError(f"{name} needs a value.")
            setattr(args, name[2:].replace("-", "_"), value)
        elif token in _SWITCHES:
            if token in ("--help", "-h"):
                args.help = True
            else:
                setattr(
                    args,
                    {
                        "--json": "as_json",
                        "--dry": "dry",
                        "--no-cache": "no_cache",
                        "--no-deps": "no_deps",
                    }[token],
                    True,
                )
        elif expect_id and args.workflow_id is None and not token.startswith("-"):
            args.workflow_id = token
        else:
            args.flags.append(token)
        i += 1
    return args


def read_params(spec: str) -> dict[str, Any]:
    where = "--params"
    try:
        if spec == "-":
            text, where = sys.stdin.read(), "--params - (stdin)"
        elif spec.startswith("@"):
            path = Path(spec[1:])
            where = f"--params {spec}"
            text = path.read_text(encoding="utf-8")
        else:
            text = spec
    except OSError as exc:
        raise UsageError(f"{where}: cannot read the file: {exc.strerror}.") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{where} is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise UsageError(f"{where} must be a JSON object of parameters.")
    return data


def parse_timeout(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise UsageError(f"--timeout expects seconds, not '{value}'.") from None
    if seconds <= 0:
        raise UsageError("--timeout must be more than 0 seconds.")
    return seconds
