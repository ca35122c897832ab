"""The Helm chart: the same objects as ``k8s/``, with ``values.yaml`` documenting every value.

The templates are the objects of :mod:`raw.deploy.kube` built with
:class:`~raw.deploy.values.HelmValues`; ``values.yaml`` (every value under a
comment) and ``values.schema.json`` (Helm refuses values that do not match it)
are written from what the builder asked for. The choices made at render time
(in-cluster or external database and Temporal, Temporal Schedules or CronJobs)
shape the chart; values tune it (image, replicas, resources, ingress, settings).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from raw.deploy.values import dump_yaml

if TYPE_CHECKING:
    from raw.deploy.plan import Plan
    from raw.deploy.values import ValueSpec

__all__ = ["chart_yaml", "notes", "values_schema", "values_yaml"]

_SEMVER = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$")

GROUPS = {
    "image": "The one image of the system: api, worker, dispatcher, jobs.",
    "api": "The coordinator: webhooks and the REST API (`raw serve`).",
    "worker": "Temporal workers (`raw worker`): add replicas for more throughput.",
    "dispatcher": "The inbox dispatcher (`raw dispatcher`); leases let several run.",
    "jobs": "One-shot Jobs: migrations, Temporal setup, scheduled runs.",
    "ingress": "How the api is reached from outside the cluster.",
    "postgres": "The in-cluster PostgreSQL (a StatefulSet).",
    "temporal": "Temporal: the in-cluster server and UI, or the TLS of an external one.",
    "observability": (
        "OpenTelemetry (OTEL_* of the api, worker, dispatcher and CronJobs); an empty value\n"
        "is not set, and an empty otlpEndpoint leaves tracing off."
    ),
}


def chart_yaml(plan: Plan) -> str:
    tag = plan.deploy.image.tag
    data = {
        "apiVersion": "v2",
        "name": plan.name,
        "description": f"The {plan.name} system: rendered by `raw deploy render`.",
        "type": "application",
        "version": tag if _SEMVER.match(tag) else "0.1.0",
        "appVersion": tag,
        "kubeVersion": ">=1.27.0-0",
    }
    return dump_yaml(data)


ORDER = ("image", "secretName", "config", "api", "worker", "dispatcher", "jobs", "ingress")


def _sorted(node: dict[str, Any]) -> dict[str, Any]:
    """Groups in a reading order; inside one, scalars (replicas) before blocks (resources)."""

    def key(item: tuple[str, Any]) -> tuple[int, int]:
        name, child = item
        block = isinstance(child, dict) or isinstance(getattr(child, "default", None), dict)
        rank = ORDER.index(name) if name in ORDER else len(ORDER)
        return (rank, int(block))

    ordered = sorted(node.items(), key=key)
    return {name: _sorted(child) if isinstance(child, dict) else child for name, child in ordered}


def _tree(specs: dict[str, ValueSpec]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for spec in specs.values():
        *parents, leaf = spec.path.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = spec
    return _sorted(tree)


def _comment(text: str, indent: str) -> list[str]:
    return [f"{indent}# {line}" for line in text.splitlines()]


def _lines(node: dict[str, Any], depth: int) -> list[str]:
    indent = "  " * depth
    lines: list[str] = []
    for key, item in node.items():
        if isinstance(item, dict):
            lines += _comment(GROUPS.get(key, key), indent)
            lines.append(f"{indent}{key}:")
            lines += _lines(item, depth + 1)
            continue
        lines += _comment(item.doc, indent)
        if isinstance(item.default, dict):
            if not item.default:
                lines.append(f"{indent}{key}: {{}}")
                continue
            lines.append(f"{indent}{key}:")
            body = dump_yaml(item.default).rstrip("\n").splitlines()
            lines += [f"{indent}  {line}" for line in body]
        else:
            lines.append(f"{indent}{key}: {json.dumps(item.default)}")
    return lines


def values_yaml(plan: Plan, specs: dict[str, ValueSpec]) -> str:
    head = [
        f"# Values of the {plan.name} chart, rendered by `raw deploy render`.",
        "# Set them with --set or -f; values.schema.json refuses unknown or mistyped ones.",
        "# Secret settings never go here: create the Secret named by secretName, e.g.",
        f"#   kubectl create secret generic {plan.secret_name} --from-env-file=.env",
        *(f"# {line}" for line in temporal_tls_help(plan)),
        "",
    ]
    return "\n".join(head + _lines(_tree(specs), 0)) + "\n"


def temporal_tls_help(plan: Plan) -> list[str]:
    """How to create the Secret of Temporal's TLS files (none: no lines)."""
    if plan.temporal_tls_secret is None:
        return []
    files = " ".join(f"--from-file={key}=PATH" for _, key in plan.temporal_tls_files())
    return [
        "Temporal's TLS files come from their own Secret, named by temporal.tlsSecret:",
        f"  kubectl create secret generic {plan.temporal_tls_secret} {files}",
    ]


def _schema(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {key: _schema(child) for key, child in item.items()},
        }
    spec: ValueSpec = item
    if spec.schema is not None:
        schema = dict(spec.schema)
    elif isinstance(spec.default, bool):
        schema = {"type": "boolean"}
    elif isinstance(spec.default, int):
        schema = {"type": "integer", "minimum": 0}
    else:
        schema = {"type": "string"}
    schema["description"] = spec.doc
    return schema


def values_schema(specs: dict[str, ValueSpec]) -> str:
    schema = {"$schema": "https://json-schema.org/draft-07/schema#", **_schema(_tree(specs))}
    return json.dumps(schema, indent=2) + "\n"


def notes(plan: Plan) -> str:
    return (
        f"The {plan.name} system is installed.\n\n"
        "Its settings come from the Secret {{ .Values.secretName }} (create it first):\n"
        + "".join(f"  {s.name}\n" for s in plan.secret_keys())
        + "".join(
            line.replace(plan.temporal_tls_secret or "", "{{ .Values.temporal.tlsSecret }}") + "\n"
            for line in temporal_tls_help(plan)
        )
        + "\nAPI:  kubectl port-forward svc/"
        + f"{plan.name}-api 8000:80   then http://127.0.0.1:8000/docs\n"
        + (
            f"Temporal UI: kubectl port-forward svc/{plan.name}-temporal-ui 8080\n"
            if plan.in_cluster_temporal
            else ""
        )
    )
