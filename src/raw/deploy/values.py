"""One builder, two outputs: concrete values for ``k8s/``, Helm expressions for the chart.

The Kubernetes objects are built once, by code that asks a :class:`Values` for
each configurable value. :class:`Concrete` answers with the value itself;
:class:`HelmValues` answers with a placeholder standing for a template
expression (``{{ .Values.api.replicas }}``) and records the value's default and
documentation, from which ``values.yaml`` and ``values.schema.json`` are
written. :func:`dump_documents` turns the placeholders back into template text
after YAML serialisation, so the chart holds the very objects ``k8s/`` holds.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = [
    "Block",
    "Concrete",
    "Document",
    "Expr",
    "Fragment",
    "HelmValues",
    "Items",
    "Values",
    "ValueSpec",
    "dump_documents",
    "dump_yaml",
]


@dataclass(frozen=True)
class Expr:
    """A scalar written as template text, e.g. ``{{ .Values.api.replicas }}``."""

    text: str


@dataclass(frozen=True)
class Block:
    """A mapping written as ``toYaml`` of a value, indented where it stands."""

    path: str


@dataclass(frozen=True)
class Fragment:
    """Lines of template text standing in a mapping where a key would be (a key itself)."""

    text: str


@dataclass(frozen=True)
class Items:
    """Lines of template text standing in a list where items would be (their own ``- ...``)."""

    text: str


@dataclass
class Document:
    """One Kubernetes object, rendered only when ``when`` (a Helm condition) holds."""

    obj: dict[str, Any]
    when: str | None = None


@dataclass(frozen=True)
class ValueSpec:
    """A chart value: its default and what it means."""

    path: str
    default: Any
    doc: str
    schema: dict[str, Any] | None = None


class Values:
    """Where the builder gets each configurable value."""

    helm = False

    def define(self, path: str, default: Any, doc: str) -> str:
        """Record a value used by template text; returns its reference (``.Values.x``)."""
        raise NotImplementedError

    def raw(self, mapping: dict[Any, Any], key: str, concrete: Any, template: str) -> None:
        """Set ``mapping[key]`` to ``concrete`` (unless None), or write ``template`` there."""
        raise NotImplementedError

    def scalar(self, path: str, default: Any, doc: str, *, quote: bool = True) -> Any:
        raise NotImplementedError

    def block(self, path: str, default: dict[str, Any], doc: str, *, schema: Any = None) -> Any:
        raise NotImplementedError

    def image(self, path: str, repository: str, tag: str, doc: str) -> Any:
        raise NotImplementedError

    def when(self, path: str, default: bool, doc: str) -> str | bool:
        raise NotImplementedError

    def optional(
        self, mapping: dict[Any, Any], key: str, path: str, default: Any, doc: str
    ) -> None:
        """Set ``mapping[key]`` only when the value is not empty."""
        raise NotImplementedError

    def env_when(self, name: str, path: str, default: str, doc: str) -> list[Any]:
        """A container's env entry ``name`` holding the value, only when it is not empty."""
        raise NotImplementedError


class Concrete(Values):
    """The values themselves: for ``k8s/``."""

    def define(self, path: str, default: Any, doc: str) -> str:
        return ""

    def raw(self, mapping: dict[Any, Any], key: str, concrete: Any, template: str) -> None:
        if concrete is not None:
            mapping[key] = concrete

    def scalar(self, path: str, default: Any, doc: str, *, quote: bool = True) -> Any:
        return default

    def block(self, path: str, default: dict[str, Any], doc: str, *, schema: Any = None) -> Any:
        return default

    def image(self, path: str, repository: str, tag: str, doc: str) -> Any:
        return f"{repository}:{tag}"

    def when(self, path: str, default: bool, doc: str) -> str | bool:
        return default

    def optional(
        self, mapping: dict[Any, Any], key: str, path: str, default: Any, doc: str
    ) -> None:
        if default:
            mapping[key] = default

    def env_when(self, name: str, path: str, default: str, doc: str) -> list[Any]:
        return [{"name": name, "value": default}] if default else []


@dataclass
class HelmValues(Values):
    """Template expressions, recording every value for ``values.yaml``."""

    specs: dict[str, ValueSpec] = field(default_factory=dict)
    helm = True

    def _record(self, path: str, default: Any, doc: str, schema: Any = None) -> str:
        if path not in self.specs:
            self.specs[path] = ValueSpec(path, default, doc, schema)
        return ".Values." + path

    def define(self, path: str, default: Any, doc: str) -> str:
        return self._record(path, default, doc)

    def raw(self, mapping: dict[Any, Any], key: str, concrete: Any, template: str) -> None:
        mapping[Fragment(template)] = None

    def scalar(self, path: str, default: Any, doc: str, *, quote: bool = True) -> Any:
        ref = self._record(path, default, doc)
        return Expr(f"{{{{ {ref} | quote }}}}" if quote else f"{{{{ {ref} }}}}")

    def block(self, path: str, default: dict[str, Any], doc: str, *, schema: Any = None) -> Any:
        self._record(path, default, doc, schema)
        return Block(path)

    def image(self, path: str, repository: str, tag: str, doc: str) -> Any:
        repo = self._record(f"{path}.repository", repository, f"{doc}: the repository.")
        version = self._record(f"{path}.tag", tag, f"{doc}: the tag.")
        return Expr(f'{{{{ printf "%s:%s" {repo} {version} | quote }}}}')

    def when(self, path: str, default: bool, doc: str) -> str | bool:
        return self._record(path, default, doc)

    def optional(
        self, mapping: dict[Any, Any], key: str, path: str, default: Any, doc: str
    ) -> None:
        ref = self._record(path, default or "", doc)
        mapping[Fragment(f"{{{{- with {ref} }}}}\n{key}: {{{{ . | quote }}}}\n{{{{- end }}}}")] = (
            None
        )

    def env_when(self, name: str, path: str, default: str, doc: str) -> list[Any]:
        ref = self._record(path, default, doc)
        entry = f"- name: {name}\n  value: {{{{ . | quote }}}}"
        return [Items(f"{{{{- with {ref} }}}}\n{entry}\n{{{{- end }}}}")]


class _Dumper(yaml.SafeDumper):
    """Block style, no aliases, multi-line strings as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # list items indented under their key


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str)


def dump_yaml(data: Any) -> str:
    """YAML the way every rendered file is written: block style, keys in build order."""
    text: str = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=10_000
    )
    return text


_TOKEN = re.compile(r"RAWHELMTOKEN(\d+)X")


def _tokenize(node: Any, tokens: dict[str, Any], counter: itertools.count[int]) -> Any:
    def token(item: Any) -> str:
        name = f"RAWHELMTOKEN{next(counter)}X"
        tokens[name] = item
        return name

    if isinstance(node, Expr | Block | Items):
        return token(node)
    if isinstance(node, dict):
        return {
            (token(k) if isinstance(k, Fragment) else k): _tokenize(v, tokens, counter)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_tokenize(item, tokens, counter) for item in node]
    return node


def _untokenize(line: str, tokens: dict[str, Any]) -> str:
    match = _TOKEN.search(line)
    if match is None:
        return line
    item = tokens[match.group(0)]
    indent = len(line) - len(line.lstrip(" "))
    dash = line.lstrip(" ").startswith("- ")
    inner = indent + (2 if dash else 0)
    if isinstance(item, Items):  # a list item: `- TOKEN`
        return "\n".join(" " * indent + text for text in item.text.splitlines())
    if isinstance(item, Fragment):  # a key line: `TOKEN: null`
        pad = " " * inner
        lines = item.text.splitlines()
        first = (" " * indent + "- " if dash else pad) + lines[0]
        return "\n".join([first, *(pad + text for text in lines[1:])])
    if isinstance(item, Block):  # `key: TOKEN`
        head = line[: match.start()].rstrip()
        return f"{head}\n{' ' * inner}{{{{- toYaml .Values.{item.path} | nindent {inner + 2} }}}}"
    assert isinstance(item, Expr)
    return _untokenize(line[: match.start()] + item.text + line[match.end() :], tokens)


def dump_documents(documents: list[Document]) -> str:
    """The objects as one multi-document YAML file, placeholders turned into template text."""
    parts: list[str] = []
    for document in documents:
        tokens: dict[str, Any] = {}
        text = dump_yaml(_tokenize(document.obj, tokens, itertools.count()))
        body = "\n".join(_untokenize(line, tokens) for line in text.splitlines())
        if document.when is not None:
            body = f"{{{{- if {document.when} }}}}\n{body}\n{{{{- end }}}}"
        parts.append(body)
    return "---\n" + "\n---\n".join(parts) + "\n"
