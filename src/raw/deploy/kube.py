"""Kubernetes objects of the system's own image: Deployments, Service, Ingress, Jobs, CronJobs.

Built once for both outputs (see :mod:`raw.deploy.values`): ``k8s/`` gets the
values, the Helm chart gets ``{{ .Values... }}`` in their place. Every container
of the image runs as a non-root user with a read-only root filesystem (``/tmp``
is an emptyDir), no privilege escalation and no capabilities; settings come
from the ConfigMap or the Secret by reference, never by value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raw.deploy.config import Resources
from raw.deploy.database_tls import tls_env, tls_mount, tls_volume
from raw.deploy.observability import kube_env
from raw.deploy.plan import (
    APP_UID,
    POSTGRES_DB,
    POSTGRES_USER,
    TEMPORAL_ROLES,
    TEMPORAL_TLS_DIR,
    WORKER_METRICS_PORT,
    schedule_command,
)
from raw.deploy.values import Document

if TYPE_CHECKING:
    from raw.deploy.plan import Plan
    from raw.deploy.values import Values

from raw.deploy.kube_infra import namespace_container
from raw.deploy.kube_objects import (
    RESOURCES_SCHEMA,
    TMP_MOUNT,
    TMP_VOLUME,
    job,
    labels,
    metadata,
    pod_security,
    resources,
    restricted,
    secret_ref,
    selector,
)

__all__ = ["app_documents"]


def app_env(plan: Plan, v: Values, role: str) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = []
    for setting in plan.settings_for(role):
        if setting.inline:
            env.append({"name": setting.name, "value": setting.value})
        elif setting.value is not None:
            ref = {"name": plan.config_map, "key": setting.name}
            env.append({"name": setting.name, "valueFrom": {"configMapKeyRef": ref}})
        elif setting.name == "DATABASE_URL" and plan.in_cluster_database:
            env.append(secret_ref(plan, v, "POSTGRES_PASSWORD", "POSTGRES_PASSWORD"))
            host = f"{plan.name}-postgres"
            url = f"postgresql://{POSTGRES_USER}:$(POSTGRES_PASSWORD)@{host}:5432/{POSTGRES_DB}"
            env.append({"name": "DATABASE_URL", "value": url})
        else:
            env.append(
                secret_ref(plan, v, setting.name, setting.name, optional=not setting.required)
            )
    return env


def app_container(
    plan: Plan, v: Values, role: str, command: list[str], resources_path: str, default: Resources
) -> dict[str, Any]:
    image = plan.deploy.image
    return {
        "name": role,
        "image": v.image("image", plan.image_name, image.tag, "The system's image"),
        "imagePullPolicy": v.scalar("image.pullPolicy", image.pull_policy, "Image pull policy."),
        "command": command,
        "resources": v.block(
            resources_path,
            resources(default),
            f"Requests and limits of each {resources_path.split('.')[0]} container.",
            schema=RESOURCES_SCHEMA,
        ),
        "securityContext": restricted(),
        "volumeMounts": [
            dict(TMP_MOUNT),
            *filter(None, [tls_mount(plan, role)]),
            *_temporal_tls_mount(plan, role),
        ],
        # last: the long list
        "env": app_env(plan, v, role) + tls_env(plan, role) + kube_env(plan, v, role),
    }


TEMPORAL_TLS_VOLUME = "temporal-tls"


def _temporal_tls_mount(plan: Plan, role: str) -> list[dict[str, Any]]:
    if plan.temporal_tls_secret is None or role not in TEMPORAL_ROLES:
        return []
    return [{"name": TEMPORAL_TLS_VOLUME, "mountPath": TEMPORAL_TLS_DIR, "readOnly": True}]


def temporal_tls_volumes(plan: Plan, v: Values) -> list[dict[str, Any]]:
    """The Secret of Temporal's TLS files, for the pods of roles that connect to Temporal."""
    secret = plan.temporal_tls_secret
    if secret is None:
        return []
    keys = ", ".join(key for _, key in plan.temporal_tls_files())
    name = v.scalar(
        "temporal.tlsSecret",
        secret,
        f"The Secret holding Temporal's TLS files ({keys}); never the files in values.",
    )
    # Read-only for everyone in the pod: the app runs as a non-root uid that owns nothing
    # there (no fsGroup), and the pod holds no other user.
    secret_volume = {"secretName": name, "defaultMode": 0o444}
    return [{"name": TEMPORAL_TLS_VOLUME, "secret": secret_volume}]


def app_pod(
    plan: Plan,
    containers: list[dict[str, Any]],
    v: Values | None = None,
    *,
    volumes: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    database_tls = tls_volume(plan, v) if v is not None else None
    return {
        "automountServiceAccountToken": False,
        "securityContext": pod_security(APP_UID),
        **extra,
        "containers": containers,
        "volumes": [dict(TMP_VOLUME), *filter(None, [database_tls]), *(volumes or [])],
    }


def _deployment(plan: Plan, v: Values, role: str, **container_extra: Any) -> dict[str, Any]:
    config = getattr(plan.deploy, role)
    container = app_container(
        plan, v, role, plan.commands[role], f"{role}.resources", config.resources
    )
    env = container.pop("env")
    container.update(container_extra)
    container["env"] = env  # after the ports and probes, its long list reads last
    grace = {"api": 30, "worker": 60, "dispatcher": 30}[role]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(plan, f"{plan.name}-{role}", role),
        "spec": {
            "replicas": v.scalar(
                f"{role}.replicas",
                config.replicas,
                f"Pods running `{' '.join(plan.commands[role])}`.",
                quote=False,
            ),
            "selector": {"matchLabels": selector(plan, role)},
            "template": {
                "metadata": {"labels": labels(plan, role), **_scraped(role)},
                "spec": app_pod(
                    plan,
                    [container],
                    v,
                    volumes=temporal_tls_volumes(plan, v),
                    terminationGracePeriodSeconds=grace,
                ),
            },
        },
    }


def _scraped(role: str) -> dict[str, Any]:
    """Prometheus's usual annotations on the worker's pods: its SDK metrics need no token
    (the api's /metrics sits behind the API token; docs/observability.md shows its job)."""
    if role != "worker":
        return {}
    return {
        "annotations": {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(WORKER_METRICS_PORT),
            "prometheus.io/path": "/metrics",
        }
    }


def _worker_probes() -> dict[str, Any]:
    """The worker's metrics port, which also tells Kubernetes the worker's runtime is up.

    It answers from the moment the SDK's runtime starts, before Temporal is reached:
    a Temporal that is away makes the worker wait, not restart."""
    metrics = {"httpGet": {"path": "/metrics", "port": "metrics"}, "timeoutSeconds": 5}
    return {
        "ports": [{"name": "metrics", "containerPort": WORKER_METRICS_PORT, "protocol": "TCP"}],
        "readinessProbe": {**metrics, "periodSeconds": 10, "failureThreshold": 3},
        "livenessProbe": {**metrics, "periodSeconds": 20, "failureThreshold": 3},
    }


def _api_probes() -> dict[str, Any]:
    return {
        "ports": [{"name": "http", "containerPort": 0, "protocol": "TCP"}],
        "startupProbe": {
            "httpGet": {"path": "/health", "port": "http"},
            "periodSeconds": 2,
            "failureThreshold": 60,
        },
        "readinessProbe": {
            "httpGet": {"path": "/ready", "port": "http"},
            "periodSeconds": 10,
            "timeoutSeconds": 5,
            "failureThreshold": 3,
        },
        "livenessProbe": {
            "httpGet": {"path": "/health", "port": "http"},
            "periodSeconds": 20,
            "timeoutSeconds": 5,
            "failureThreshold": 3,
        },
    }


def _ingress(plan: Plan, v: Values) -> Document | None:
    ingress = plan.deploy.ingress
    when = v.when("ingress.enabled", ingress.enabled, "Expose the api through an Ingress.")
    if not when:
        return None
    backend = {"service": {"name": f"{plan.name}-api", "port": {"name": "http"}}}
    rule: dict[Any, Any] = {
        "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}
    }
    v.optional(rule, "host", "ingress.host", ingress.host, "Host name; empty: every host.")
    spec: dict[Any, Any] = {}
    v.optional(spec, "ingressClassName", "ingress.className", ingress.class_name, "IngressClass.")
    spec["rules"] = [rule]
    tls_ref = v.define("ingress.tlsSecret", ingress.tls_secret or "", "TLS Secret for the host.")
    host_ref = v.define("ingress.host", ingress.host or "", "Host name; empty: every host.")
    tls = None
    if ingress.tls_secret:
        tls = [
            {
                "secretName": ingress.tls_secret,
                **({"hosts": [ingress.host]} if ingress.host else {}),
            }
        ]
    template = (
        f"{{{{- with {tls_ref} }}}}\n"
        "tls:\n"
        "  - secretName: {{ . | quote }}\n"
        f"    {{{{- with ${host_ref} }}}}\n"
        "    hosts:\n"
        "      - {{ . | quote }}\n"
        "    {{- end }}\n"
        "{{- end }}"
    )
    v.raw(spec, "tls", tls, template)
    obj = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata(plan, f"{plan.name}-api", "api"),
        "spec": spec,
    }
    return Document(obj, when=when if isinstance(when, str) else None)


def _job_container(plan: Plan, v: Values, role: str, command: list[str]) -> dict[str, Any]:
    return app_container(plan, v, role, command, "jobs.resources", Resources())


def _cronjob(plan: Plan, v: Values, index: int) -> dict[str, Any]:
    schedule = plan.schedules[index]
    component = f"schedule-{schedule.id}"
    container = _job_container(plan, v, "cron", schedule_command(schedule))
    container["name"] = "run"
    pod = app_pod(plan, [container], v, restartPolicy="Never")
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": metadata(plan, f"{plan.name}-{schedule.id}"[:52].rstrip("-"), component),
        "spec": {
            "schedule": schedule.cron,
            "timeZone": schedule.timezone,
            "concurrencyPolicy": "Forbid",  # like the Temporal Schedules: runs never overlap
            "suspend": schedule.paused,
            "startingDeadlineSeconds": 600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 2,
                    "template": {"metadata": {"labels": labels(plan, component)}, "spec": pod},
                }
            },
        },
    }


def app_documents(plan: Plan, v: Values) -> dict[str, list[Document]]:
    """The image's objects by file: config, deployment, service, ingress, jobs, cronjobs."""
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(plan, plan.config_map, "config"),
        "data": v.block(
            "config",
            plan.plain_settings(),
            "Plain settings (a ConfigMap). Secret settings live in the Secret `secretName`.",
            schema={"type": "object", "additionalProperties": {"type": "string"}},
        ),
    }
    probes = _api_probes()
    probes["ports"][0]["containerPort"] = plan.port
    deployments = [
        _deployment(plan, v, "api", **probes),
        _deployment(plan, v, "worker", **_worker_probes()),
        _deployment(plan, v, "dispatcher"),
    ]
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(plan, f"{plan.name}-api", "api"),
        "spec": {
            "selector": selector(plan, "api"),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }
    setup = [_job_container(plan, v, "temporal-setup", plan.commands["temporal-setup"])]
    if plan.syncs_schedules:
        sync = _job_container(plan, v, "temporal-setup", plan.commands["schedules-sync"])
        sync["name"] = "schedules-sync"
        setup.append(sync)
    if plan.in_cluster_temporal:
        setup.insert(0, namespace_container(plan, v))
    jobs = [
        job(
            plan,
            v,
            "migrate",
            [_job_container(plan, v, "migrate", plan.commands["migrate"])],
            weight=0,
            pod=app_pod(plan, [], v),
        ),
        job(
            plan,
            v,
            "temporal-setup",
            setup,
            weight=5,
            pod=app_pod(plan, [], volumes=temporal_tls_volumes(plan, v)),
        ),
    ]
    ingress = _ingress(plan, v)
    files = {
        "config": [Document(config_map)],
        "deployment": [Document(d) for d in deployments],
        "service": [Document(service)],
        "ingress": [ingress] if ingress else [],
        "jobs": [Document(j) for j in jobs],
        "cronjobs": [],
    }
    if plan.cronjobs:
        files["cronjobs"] = [Document(_cronjob(plan, v, i)) for i in range(len(plan.schedules))]
    return files
