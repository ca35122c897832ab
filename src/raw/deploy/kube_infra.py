"""Kubernetes objects of what the system runs on: PostgreSQL and Temporal, in the cluster.

PostgreSQL is a StatefulSet with a volume claim; Temporal is its official images
(``temporalio/server``, ``admin-tools`` for the schema and the namespace,
``ui``) backed by the same PostgreSQL, one frontend pod: enough for a system's
own processes. For more, run Temporal with its official Helm chart or Temporal
Cloud and set ``deploy.temporal.mode: external``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raw.deploy.compose import namespace_script, schema_script
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
from raw.deploy.plan import POSTGRES_DB, POSTGRES_USER, TEMPORAL_PORT, TEMPORAL_UI_PORT
from raw.deploy.values import Document

if TYPE_CHECKING:
    from raw.deploy.plan import Plan
    from raw.deploy.values import Values

__all__ = ["infra_documents", "namespace_container"]

POSTGRES_UID = 999
"""The postgres user of the official image."""
TEMPORAL_UID = 1000
"""The temporal user of temporalio/server and temporalio/admin-tools."""
TEMPORAL_UI_UID = 5000
"""The temporal user of temporalio/ui."""


def _admin_tools(plan: Plan, v: Values) -> Any:
    return v.scalar(
        "temporal.adminToolsImage",
        f"temporalio/admin-tools:{plan.deploy.temporal.version}",
        "Temporal's admin tools: the schema and namespace jobs.",
    )


def _temporal_resources(plan: Plan, v: Values) -> Any:
    return v.block(
        "temporal.resources",
        resources(plan.deploy.temporal.resources),
        "Requests and limits of the Temporal server and its UI.",
        schema=RESOURCES_SCHEMA,
    )


def _sh(name: str, image: Any, script: str, env: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "command": ["/bin/sh", "-c", script],
        "env": env,
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": restricted(),
        "volumeMounts": [dict(TMP_MOUNT)],
    }


def namespace_container(plan: Plan, v: Values) -> dict[str, Any]:
    """Creates the namespace on the in-cluster server (first step of the setup Job)."""
    env = [
        {"name": "TEMPORAL_ADDRESS", "value": plan.temporal_address},
        {"name": "HOME", "value": "/tmp"},
    ]
    script = namespace_script(plan.system.orchestrator.namespace)
    container = _sh("temporal-namespace", _admin_tools(plan, v), script, env)
    container["securityContext"]["runAsUser"] = TEMPORAL_UID
    return container


def _postgres(plan: Plan, v: Values) -> list[Document]:
    database = plan.deploy.database
    name = f"{plan.name}-postgres"
    ready = {"exec": {"command": ["pg_isready", "-U", POSTGRES_USER, "-d", POSTGRES_DB]}}
    container = {
        "name": "postgres",
        "image": v.scalar("postgres.image", database.image, "The in-cluster PostgreSQL image."),
        "env": [
            {"name": "POSTGRES_USER", "value": POSTGRES_USER},
            {"name": "POSTGRES_DB", "value": POSTGRES_DB},
            secret_ref(plan, v, "POSTGRES_PASSWORD", "POSTGRES_PASSWORD"),
            {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
        ],
        "ports": [{"name": "postgres", "containerPort": 5432, "protocol": "TCP"}],
        "readinessProbe": {**ready, "periodSeconds": 10, "timeoutSeconds": 5},
        "livenessProbe": {**ready, "periodSeconds": 30, "timeoutSeconds": 5, "failureThreshold": 6},
        "resources": v.block(
            "postgres.resources",
            resources(database.resources),
            "Requests and limits of PostgreSQL.",
            schema=RESOURCES_SCHEMA,
        ),
        "securityContext": restricted(),
        "volumeMounts": [
            {"name": "data", "mountPath": "/var/lib/postgresql/data"},
            {"name": "run", "mountPath": "/var/run/postgresql"},
            dict(TMP_MOUNT),
        ],
    }
    claim: dict[Any, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {
            "requests": {
                "storage": v.scalar("postgres.storage", database.storage, "Size of the volume.")
            }
        },
    }
    v.optional(
        claim,
        "storageClassName",
        "postgres.storageClassName",
        database.storage_class,
        "StorageClass of the volume; empty: the cluster's default.",
    )
    statefulset = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": metadata(plan, name, "postgres"),
        "spec": {
            "serviceName": name,
            "replicas": 1,
            "selector": {"matchLabels": selector(plan, "postgres")},
            "template": {
                "metadata": {"labels": labels(plan, "postgres")},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security(POSTGRES_UID),
                    "terminationGracePeriodSeconds": 60,
                    "containers": [container],
                    "volumes": [{"name": "run", "emptyDir": {}}, dict(TMP_VOLUME)],
                },
            },
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": claim}],
        },
    }
    service = _service(plan, name, "postgres", 5432, "postgres", headless=True)
    return [Document(service), Document(statefulset)]


def _service(
    plan: Plan, name: str, component: str, port: int, port_name: str, *, headless: bool = False
) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": selector(plan, component)}
    if headless:
        spec["clusterIP"] = "None"
    spec["ports"] = [{"name": port_name, "port": port, "targetPort": port_name, "protocol": "TCP"}]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(plan, name, component),
        "spec": spec,
    }


def _temporal(plan: Plan, v: Values) -> list[Document]:
    temporal = plan.deploy.temporal
    name = f"{plan.name}-temporal"
    password = secret_ref(plan, v, "POSTGRES_PWD", "POSTGRES_PASSWORD")
    schema = _sh(
        "temporal-schema",
        _admin_tools(plan, v),
        schema_script(f"{plan.name}-postgres"),
        [
            secret_ref(plan, v, "SQL_PASSWORD", "POSTGRES_PASSWORD"),
            {"name": "HOME", "value": "/tmp"},
        ],
    )
    schema_pod = {
        "automountServiceAccountToken": False,
        "securityContext": pod_security(TEMPORAL_UID),
        "volumes": [dict(TMP_VOLUME)],
    }
    tcp = {"tcpSocket": {"port": "grpc"}}
    server = {
        "name": "temporal",
        "image": v.scalar(
            "temporal.serverImage", f"temporalio/server:{temporal.version}", "Temporal's server."
        ),
        "env": [
            {"name": "DB", "value": "postgres12"},
            {"name": "DB_PORT", "value": "5432"},
            {"name": "POSTGRES_USER", "value": POSTGRES_USER},
            password,
            {"name": "POSTGRES_SEEDS", "value": f"{plan.name}-postgres"},
            {"name": "BIND_ON_IP", "value": "0.0.0.0"},
            {
                "name": "TEMPORAL_BROADCAST_ADDRESS",
                "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}},
            },
        ],
        "ports": [{"name": "grpc", "containerPort": TEMPORAL_PORT, "protocol": "TCP"}],
        "startupProbe": {**tcp, "periodSeconds": 5, "failureThreshold": 60},
        "readinessProbe": {**tcp, "periodSeconds": 10},
        "livenessProbe": {**tcp, "periodSeconds": 20, "failureThreshold": 6},
        "resources": _temporal_resources(plan, v),
        "securityContext": restricted(),
        "volumeMounts": [dict(TMP_MOUNT)],
    }
    http = {"tcpSocket": {"port": "http"}}
    ui = {
        "name": "temporal-ui",
        "image": v.scalar(
            "temporal.uiImage", f"temporalio/ui:{temporal.ui_version}", "Temporal's web UI."
        ),
        "env": [{"name": "TEMPORAL_ADDRESS", "value": plan.temporal_address}],
        "ports": [{"name": "http", "containerPort": TEMPORAL_UI_PORT, "protocol": "TCP"}],
        "readinessProbe": {**http, "periodSeconds": 10},
        "livenessProbe": {**http, "periodSeconds": 20},
        "resources": _temporal_resources(plan, v),
        # The UI writes its config file from a template when it starts.
        "securityContext": restricted(read_only=False),
    }
    return [
        Document(job(plan, v, "temporal-schema", [schema], weight=-5, pod=schema_pod)),
        Document(_deployment_of(plan, name, "temporal", server, TEMPORAL_UID, volumes=True)),
        Document(_service(plan, name, "temporal", TEMPORAL_PORT, "grpc")),
        Document(_deployment_of(plan, f"{name}-ui", "temporal-ui", ui, TEMPORAL_UI_UID)),
        Document(_service(plan, f"{name}-ui", "temporal-ui", TEMPORAL_UI_PORT, "http")),
    ]


def _deployment_of(
    plan: Plan,
    name: str,
    component: str,
    container: dict[str, Any],
    uid: int,
    *,
    volumes: bool = False,
) -> dict[str, Any]:
    pod: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "securityContext": pod_security(uid),
        "containers": [container],
    }
    if volumes:
        pod["volumes"] = [dict(TMP_VOLUME)]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(plan, name, component),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector(plan, component)},
            "template": {"metadata": {"labels": labels(plan, component)}, "spec": pod},
        },
    }


def infra_documents(plan: Plan, v: Values) -> dict[str, list[Document]]:
    """postgres and temporal, each only when it runs in the cluster."""
    return {
        "postgres": _postgres(plan, v) if plan.in_cluster_database else [],
        "temporal": _temporal(plan, v) if plan.in_cluster_temporal else [],
    }
