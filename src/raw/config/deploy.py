"""``system.deploy``: how ``raw deploy render`` packages and runs the system.

Validated strictly like the rest of ``.raw/config.yaml`` (an unknown key is an
error naming the keys allowed there). Imports pydantic only: ``raw.config.system``
loads it on every validation of the config.

    system:
      deploy:
        image: {name: ghcr.io/acme/hiring, tag: "1.4.0"}
        schedules: cronjob                 # or temporal (the default): never both
        database: {mode: external}         # DATABASE_URL comes from the Secret
        temporal: {mode: external, address: temporal-frontend.temporal:7233}
        ingress: {host: hiring.example.com, class_name: nginx, tls_secret: hiring-tls}
        worker: {replicas: 3}
        env: {RAW_LLM_MODEL: gpt-4o-mini}  # plain settings; secrets never go here
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from raw.config._base import Strict

_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_IMAGE_NAME = re.compile(r"^[a-z0-9]+([._/:-][a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_SETTING = re.compile(r"^[A-Z][A-Z0-9_]*$")
_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_HOST = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")

SECRET_WORDS = (
    "SECRET",
    "TOKEN",
    "PASSWORD",
    "PASSWD",
    "PWD",
    "API_KEY",
    "PRIVATE_KEY",
    "KEY_DATA",
    "CREDENTIAL",
)
"""A setting whose name holds one of these is a secret: it comes from a Secret, never a file."""


def looks_secret(name: str) -> bool:
    """Whether a setting's name says it holds a secret (``RAW_CV_SECRET``, ``SMTP_PASSWORD``)."""
    upper = name.upper()
    return upper == "DATABASE_URL" or any(word in upper for word in SECRET_WORDS)


def pinned(image: str, example: str) -> str:
    """``image`` if it names a version or a digest (never ``latest``)."""
    last = image.rsplit("/", 1)[-1]
    if "@sha256:" not in image and (":" not in last or last.endswith(":latest")):
        raise ValueError(f"'{image}' is not pinned: name a version, e.g. '{example}'")
    return image


class Quantities(Strict):
    cpu: str | None = Field(default=None, description="CPU, e.g. '250m' or '1'.")
    memory: str | None = Field(default=None, description="Memory, e.g. '256Mi' or '1Gi'.")

    @field_validator("cpu", "memory")
    @classmethod
    def _quantity(cls, value: str | None) -> str | None:
        if value is not None and not _QUANTITY.match(value):
            raise ValueError(f"'{value}' is not a Kubernetes quantity such as '250m' or '512Mi'")
        return value


class Resources(Strict):
    """Kubernetes requests and limits of one container."""

    requests: Quantities = Field(
        default_factory=lambda: Quantities(cpu="100m", memory="256Mi"),
        description="What the container is guaranteed; default cpu 100m, memory 256Mi.",
    )
    limits: Quantities = Field(
        default_factory=lambda: Quantities(memory="512Mi"),
        description="The most the container may use; default memory 512Mi, no CPU limit.",
    )


class RoleConfig(Strict):
    """How many copies of one role run, and what each may use."""

    replicas: int = Field(default=1, ge=0, le=1000, description="Pods of this role.")
    resources: Resources = Field(
        default_factory=Resources, description="Requests and limits of each of its containers."
    )


def _role(replicas: int) -> RoleConfig:
    return RoleConfig(replicas=replicas)


class ImageConfig(Strict):
    """The one image that serves the api, the worker, the dispatcher and the jobs."""

    name: str | None = Field(
        default=None,
        description="Repository, e.g. 'ghcr.io/acme/hiring'; default: the system name.",
    )
    tag: str = Field(default="0.1.0", description="The image tag you build and push.")
    base: str = Field(
        default="python:3.11.11-slim-bookworm",
        description="The pinned Python base image of both build stages.",
    )
    pull_policy: Literal["IfNotPresent", "Always", "Never"] = Field(
        default="IfNotPresent",
        description=(
            "imagePullPolicy of every container of this image in k8s/ and the Helm chart "
            "(value image.pullPolicy); Compose builds the image instead."
        ),
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not _IMAGE_NAME.match(value):
            raise ValueError(f"'{value}' is not an image repository such as 'ghcr.io/acme/hiring'")
        return value

    @field_validator("tag")
    @classmethod
    def _tag(cls, value: str) -> str:
        if not _TAG.match(value) or value == "latest":
            raise ValueError(f"'{value}' is not a fixed image tag such as '1.4.0' (never 'latest')")
        return value

    @field_validator("base")
    @classmethod
    def _base(cls, value: str) -> str:
        return pinned(value, "python:3.11.11-slim-bookworm")


class PythonConfig(Strict):
    """What the image installs, in a layer of its own before the project's files."""

    package: str = Field(default="raw-systems", description="The kit's distribution name.")
    version: str | None = Field(
        default=None, description="Pinned version; default: the version of the kit rendering."
    )
    extras: list[str] | None = Field(
        default=None,
        description=(
            "Extras to install; default: coordinator and orchestrator (the api and the "
            "worker), plus integrations when the system configures any."
        ),
    )
    requirements: str | None = Field(
        default=None,
        description="A requirements file of the project (path from its root) for its own code.",
    )


class DatabaseConfig(Strict):
    """PostgreSQL: a StatefulSet in the cluster, or an external server."""

    mode: Literal["in_cluster", "external"] = Field(
        default="in_cluster",
        description="external: DATABASE_URL comes from the Secret; no StatefulSet is rendered.",
    )
    image: str = Field(default="postgres:17.5", description="The in-cluster PostgreSQL image.")
    storage: str = Field(default="10Gi", description="The in-cluster volume claim's size.")
    storage_class: str | None = Field(
        default=None, description="StorageClass of the claim; default: the cluster's."
    )
    resources: Resources = Field(
        default_factory=Resources, description="Requests and limits of the in-cluster PostgreSQL."
    )
    tls_secret: str | None = Field(
        default=None,
        description=(
            "external: a Kubernetes Secret with the database's CA (ca.crt) and any client "
            "certificate (tls.crt, tls.key), mounted at /etc/raw/database-tls in every pod "
            "that connects, with PGSSLMODE (default verify-full) and PGSSLROOTCERT set. "
            "Compose mounts the files secrets/database-ca.pem (and the client pair) instead."
        ),
    )
    client_cert: bool = Field(
        default=False,
        description=(
            "external, with tls_secret: the server asks for a client certificate. Compose "
            "then mounts secrets/database-client.pem and secrets/database-client.key too "
            "(Kubernetes points PGSSLCERT and PGSSLKEY at tls.crt and tls.key of the Secret "
            "in any case)."
        ),
    )

    @field_validator("tls_secret")
    @classmethod
    def _tls_secret(cls, value: str | None) -> str | None:
        if value is not None and not _DNS_LABEL.match(value):
            raise ValueError(f"'{value}' is not a Kubernetes name such as 'hiring-db-tls'")
        return value

    @model_validator(mode="after")
    def _tls_external(self) -> DatabaseConfig:
        if self.tls_secret is not None and self.mode != "external":
            raise ValueError(
                "tls_secret is for an external database (mode: external); the in-cluster "
                "PostgreSQL is reached inside the cluster without TLS"
            )
        if self.client_cert and self.tls_secret is None:
            raise ValueError(
                "client_cert needs tls_secret: the client certificate comes with the "
                "database's CA (a Secret in Kubernetes, files under secrets/ in Compose)"
            )
        return self

    @field_validator("storage")
    @classmethod
    def _storage(cls, value: str) -> str:
        if not _QUANTITY.match(value):
            raise ValueError(f"'{value}' is not a Kubernetes quantity such as '10Gi'")
        return value


class TemporalConfig(Strict):
    """Temporal: its official images in the cluster, or an external address."""

    mode: Literal["in_cluster", "external"] = Field(
        default="in_cluster",
        description="external: use `address` (Temporal Cloud, or the official Helm chart).",
    )
    address: str | None = Field(
        default=None, description="external: host:port of the frontend; default the config's."
    )
    version: str = Field(default="1.31.0", description="temporalio/server and admin-tools tag.")
    ui_version: str = Field(default="2.49.1", description="temporalio/ui tag.")
    resources: Resources = Field(
        default_factory=Resources,
        description="Requests and limits of the in-cluster Temporal server and of its UI.",
    )
    tls_secret: str | None = Field(
        default=None,
        description=(
            "external: the Kubernetes Secret holding the TLS files that "
            "system.orchestrator.connection names (keys ca.crt, tls.crt, tls.key), mounted "
            "read-only where TEMPORAL_TLS_*_PATH point; default '<name>-temporal-tls' "
            "(Helm value temporal.tlsSecret). Compose mounts the files secrets/temporal-ca.pem, "
            "secrets/temporal-client.pem and secrets/temporal-client.key instead."
        ),
    )
    allow_insecure: bool = Field(
        default=False,
        description=(
            "external: allow a Temporal address off this machine without TLS; `raw deploy "
            "check` refuses one otherwise (a private network you trust, a sidecar proxy)."
        ),
    )

    @field_validator("tls_secret")
    @classmethod
    def _tls_secret(cls, value: str | None) -> str | None:
        if value is not None and not _DNS_LABEL.match(value):
            raise ValueError(f"'{value}' is not a Kubernetes name such as 'hiring-temporal-tls'")
        return value


class IngressConfig(Strict):
    """How the api is reached from outside the cluster."""

    enabled: bool = Field(
        default=True,
        description=(
            "Render an Ingress to the api's Service; false: none, and RAW_PUBLIC_BASE_URL "
            "is not derived from host."
        ),
    )
    host: str | None = Field(
        default=None, description="e.g. 'hiring.example.com'; none: every host."
    )
    class_name: str | None = Field(default=None, description="IngressClass, e.g. 'nginx'.")
    tls_secret: str | None = Field(
        default=None, description="A TLS Secret for the host; the public URL is then https."
    )

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and not _HOST.match(value):
            raise ValueError(f"'{value}' is not a host name such as 'hiring.example.com'")
        return value


Sampler = Literal[
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
]
"""OTEL_TRACES_SAMPLER's values that the OpenTelemetry SDK knows."""
_ATTRIBUTE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_COLLECTOR_IMAGE = "otel/opentelemetry-collector-contrib"


class ObservabilityDeploy(Strict):
    """The OpenTelemetry settings the rendered files pass to the api, worker, dispatcher and
    CronJobs (``OTEL_*``). Every value may be changed where the system runs: ``.env`` for
    Compose, ``observability.*`` values for Helm; an empty endpoint leaves tracing off."""

    otlp_endpoint: str | None = Field(
        default=None,
        description=(
            "OTEL_EXPORTER_OTLP_ENDPOINT: the collector's OTLP/HTTP address, e.g. "
            "http://otel-collector:4318; default: the Compose collector when `collector` is "
            "on, else empty (tracing off until set)."
        ),
    )
    sampler: Sampler | None = Field(
        default=None,
        description="OTEL_TRACES_SAMPLER; default: the SDK's parentbased_always_on.",
    )
    sampler_arg: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="OTEL_TRACES_SAMPLER_ARG: the ratio of the traceidratio samplers, 0 to 1.",
    )
    resource_attributes: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "OTEL_RESOURCE_ATTRIBUTES, e.g. {deployment.environment: production}; each part's "
            "OTEL_SERVICE_NAME is <system>-coordinator, -worker, -dispatcher or -cron."
        ),
    )
    collector: bool = Field(
        default=False,
        description=(
            "Compose: add an OpenTelemetry Collector service (otel-collector, receiving "
            "OTLP on 4317 and 4318) and its config file otel-collector.yaml beside the "
            "compose file; the parts send to it unless otlp_endpoint says otherwise."
        ),
    )
    collector_image: str = Field(
        default=f"{_COLLECTOR_IMAGE}:0.119.0",
        description="The collector's pinned image (Compose, with `collector`).",
    )
    collector_export: str | None = Field(
        default=None,
        description=(
            "Where the Compose collector sends traces by OTLP/HTTP, e.g. http://jaeger:4318 "
            "or Tempo's; none: it only prints them (the debug exporter)."
        ),
    )

    @field_validator("otlp_endpoint", "collector_export")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"'{value}' is not an http(s) URL such as http://otel-collector:4318")
        return value

    @field_validator("resource_attributes")
    @classmethod
    def _attributes(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [key for key in value if not _ATTRIBUTE_KEY.match(key)]
        if bad:
            raise ValueError(f"resource attribute keys are such as 'deployment.environment': {bad}")
        odd = [key for key, item in value.items() if any(c in item for c in ",=")]
        if odd:
            raise ValueError(f"the values of {odd} hold ',' or '=', which OTEL_* cannot carry")
        return value

    @field_validator("collector_image")
    @classmethod
    def _pinned(cls, value: str) -> str:
        return pinned(value, f"{_COLLECTOR_IMAGE}:0.119.0")


class DeployConfig(Strict):
    """Deployment: the image, Compose, Kubernetes and Helm (``raw deploy render``)."""

    image: ImageConfig = Field(
        default_factory=ImageConfig,
        description="The one image of the api, the worker, the dispatcher and the jobs.",
    )
    python: PythonConfig = Field(
        default_factory=PythonConfig,
        description="What the image installs, in a layer of its own before the project's files.",
    )
    kubernetes_version: str = Field(
        default="1.37.0", description="The Kubernetes API version objects are checked against."
    )
    schedules: Literal["temporal", "cronjob"] = Field(
        default="temporal",
        description=(
            "What runs system.orchestrator.schedules: Temporal Schedules (`raw schedules sync`) "
            "or one Kubernetes CronJob each. Only the chosen one is rendered: never both."
        ),
    )
    port: int = Field(default=8000, ge=1, le=65535, description="The api's port.")
    database: DatabaseConfig = Field(
        default_factory=DatabaseConfig,
        description=(
            "PostgreSQL: in the cluster (Compose runs its own) or an external server "
            "(Compose then runs none and reads DATABASE_URL from .env)."
        ),
    )
    temporal: TemporalConfig = Field(
        default_factory=TemporalConfig,
        description=(
            "Temporal: the official images in the cluster (Compose runs its own) or an "
            "external address (Compose then runs none and connects there)."
        ),
    )
    ingress: IngressConfig = Field(
        default_factory=IngressConfig,
        description="How the api is reached from outside the cluster.",
    )
    secret_name: str | None = Field(
        default=None,
        description="The Kubernetes Secret holding the secret settings; default '<name>-secrets'.",
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Plain settings for every role (a ConfigMap); never secrets.",
    )
    secret_settings: list[str] = Field(
        default_factory=list,
        description="More settings your own code reads from the Secret, e.g. OPENAI_API_KEY.",
    )
    api: RoleConfig = Field(
        default_factory=lambda: _role(2),
        description="The Deployment running `raw serve` (its dispatcher off); default 2 replicas.",
    )
    worker: RoleConfig = Field(
        default_factory=lambda: _role(2),
        description="The Deployment running `raw worker`; default 2 replicas.",
    )
    dispatcher: RoleConfig = Field(
        default_factory=lambda: _role(1),
        description="The Deployment running `raw dispatcher`; default 1 replica.",
    )
    observability: ObservabilityDeploy | None = Field(
        default=None,
        description=(
            "OpenTelemetry in the rendered files (OTEL_* settings, Helm values "
            "observability.*, optionally a Compose collector); none: no OTEL_* setting."
        ),
    )

    @field_validator("kubernetes_version")
    @classmethod
    def _version(cls, value: str) -> str:
        value = value.removeprefix("v")
        if not _VERSION.match(value):
            raise ValueError(f"'{value}' is not a Kubernetes version such as '1.37.0'")
        return value

    @field_validator("secret_name")
    @classmethod
    def _secret_name(cls, value: str | None) -> str | None:
        if value is not None and not _DNS_LABEL.match(value):
            raise ValueError(f"'{value}' is not a Kubernetes name such as 'hiring-secrets'")
        return value

    @field_validator("env")
    @classmethod
    def _plain(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [name for name in value if not _SETTING.match(name)]
        if bad:
            raise ValueError(f"setting names are upper case, such as 'RAW_LLM_MODEL': {bad}")
        secret = sorted(name for name in value if looks_secret(name))
        if secret:
            raise ValueError(
                f"{', '.join(secret)} hold secrets: list them under secret_settings and put "
                "their values in the Secret, never in the config"
            )
        return value

    @field_validator("secret_settings")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        bad = [name for name in value if not _SETTING.match(name)]
        if bad:
            raise ValueError(f"setting names are upper case, such as 'OPENAI_API_KEY': {bad}")
        return value

    @model_validator(mode="after")
    def _temporal_database(self) -> DeployConfig:
        if self.temporal.mode == "in_cluster" and self.database.mode == "external":
            raise ValueError(
                "an in-cluster Temporal is backed by the in-cluster PostgreSQL: with an "
                "external database, use an external Temporal too (temporal.mode: external)"
            )
        return self
