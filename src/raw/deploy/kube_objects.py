"""The building blocks of every Kubernetes object we render: labels, security, Jobs.

Shared by the system's own objects (:mod:`raw.deploy.kube`) and those of what it runs
on (:mod:`raw.deploy.kube_infra`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raw.deploy.config import Resources

if TYPE_CHECKING:
    from raw.deploy.plan import Plan
    from raw.deploy.values import Values

__all__ = [
    "RESOURCES_SCHEMA",
    "TMP_MOUNT",
    "TMP_VOLUME",
    "job",
    "labels",
    "metadata",
    "pod_security",
    "resources",
    "restricted",
    "secret_ref",
    "selector",
]

RESOURCES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        section: {
            "type": "object",
            "additionalProperties": False,
            "properties": {"cpu": {"type": "string"}, "memory": {"type": "string"}},
        }
        for section in ("requests", "limits")
    },
}


def resources(config: Resources) -> dict[str, Any]:
    dumped = config.model_dump(exclude_none=True)
    return {section: values for section, values in dumped.items() if values}


def labels(plan: Plan, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": plan.name,
        "app.kubernetes.io/component": component[:63].rstrip("-"),
        "app.kubernetes.io/part-of": plan.name,
    }


def selector(plan: Plan, component: str) -> dict[str, str]:
    return {key: value for key, value in labels(plan, component).items() if "part-of" not in key}


def metadata(plan: Plan, name: str, component: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "labels": labels(plan, component), **extra}


def restricted(*, read_only: bool = True) -> dict[str, Any]:
    """The container security context of the restricted Pod Security Standard."""
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": read_only,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }


def pod_security(uid: int) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


TMP_VOLUME = {"name": "tmp", "emptyDir": {}}
TMP_MOUNT = {"name": "tmp", "mountPath": "/tmp"}


def secret_ref(plan: Plan, v: Values, name: str, key: str, *, optional: bool = False) -> Any:
    ref: dict[str, Any] = {
        "name": v.scalar(
            "secretName",
            plan.secret_name,
            "The Secret (created by you) holding the secret settings.",
        ),
        "key": key,
    }
    if optional:
        ref["optional"] = True
    return {"name": name, "valueFrom": {"secretKeyRef": ref}}


def _hook(v: Values, weight: int) -> dict[str, Any]:
    if not v.helm:
        return {}
    return {
        "annotations": {
            "helm.sh/hook": "post-install,post-upgrade",
            "helm.sh/hook-weight": str(weight),
            "helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded",
        }
    }


def job(
    plan: Plan,
    v: Values,
    name: str,
    steps: list[dict[str, Any]],
    *,
    weight: int,
    pod: dict[str, Any],
) -> dict[str, Any]:
    """A one-shot Job; its steps run in order (all but the last as init containers)."""
    base = pod
    spec: dict[str, Any] = {k: v for k, v in base.items() if k not in ("containers", "volumes")}
    spec["restartPolicy"] = "OnFailure"
    if steps[:-1]:
        spec["initContainers"] = steps[:-1]
    spec["containers"] = steps[-1:]
    spec["volumes"] = base["volumes"]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(plan, f"{plan.name}-{name}", name, **_hook(v, weight)),
        "spec": {
            "backoffLimit": 10,
            "ttlSecondsAfterFinished": 600,
            "template": {"metadata": {"labels": labels(plan, name)}, "spec": spec},
        },
    }
