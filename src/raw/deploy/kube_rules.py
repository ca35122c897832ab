"""Kubernetes objects held against the system: roles, settings, probes, secrets, schedules.

Used for ``k8s/`` and for the Helm chart rendered with its default values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from raw.deploy.config import looks_secret
from raw.deploy.findings import Finding
from raw.deploy.plan import TEMPORAL_PORT, TEMPORAL_ROLES, TEMPORAL_TLS_DIR, schedule_command
from raw.deploy.rules import (
    LONG_RUNNING,
    command_words,
    leaks,
    option,
    role_of,
    schedule_of,
    secret_names,
)

if TYPE_CHECKING:
    from raw.deploy.findings import Finding
    from raw.deploy.plan import Plan
    from raw.deploy.validators import KubeObject

__all__ = ["check_kube"]

CHECK = "system"
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")


@dataclass(frozen=True)
class Container:
    owner: KubeObject
    spec: dict[str, Any]
    pod: dict[str, Any]
    pod_labels: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.owner.label} container {self.spec.get('name', '?')}"

    @property
    def words(self) -> list[str]:
        return command_words(self.spec.get("command"), self.spec.get("args"))

    def env(self) -> dict[str, dict[str, Any]]:
        entries = self.spec.get("env") or []
        return {str(e.get("name")): e for e in entries if isinstance(e, dict)}


def _pod(obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return spec, (obj.get("metadata") or {}).get("labels") or {}
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    template = spec.get("template") or {}
    return template.get("spec") or {}, (template.get("metadata") or {}).get("labels") or {}


def containers(objects: list[KubeObject]) -> list[Container]:
    found = []
    for item in objects:
        if item.kind not in WORKLOADS:
            continue
        pod, pod_labels = _pod(item.obj)
        for key in ("initContainers", "containers"):
            for spec in pod.get(key) or []:
                if isinstance(spec, dict):
                    found.append(Container(item, spec, pod, pod_labels))
    return found


class _Checker:
    def __init__(self, plan: Plan, objects: list[KubeObject], where: str) -> None:
        self.plan = plan
        self.objects = objects
        self.where = where
        self.findings: list[Finding] = []
        self.containers = containers(objects)
        self._api: list[Container] = []
        self.secrets = secret_names(plan)
        self.config_maps = {
            o.name: (o.obj.get("data") or {}) for o in objects if o.kind == "ConfigMap"
        }

    def add(self, file: str, obj: str, problem: str, fix: str) -> None:

        self.findings.append(Finding(file, obj, problem, fix, CHECK))

    def by_role(self) -> dict[str, list[Container]]:
        roles: dict[str, list[Container]] = {}
        for c in self.containers:
            words = c.words
            if not words and c.spec.get("image") == self.plan.image:
                words = self.plan.commands["api"]  # the image's own CMD
            role = role_of(words)
            if role is not None:
                roles.setdefault(role, []).append(c)
        return roles

    # -- secrets ---------------------------------------------------------------------------
    def secrets_in_plain_text(self) -> None:
        for item in self.objects:
            if item.kind == "Secret" and (item.obj.get("data") or item.obj.get("stringData")):
                self.add(
                    item.file,
                    item.label,
                    "holds secret values in a file.",
                    "Delete it from the files; create the Secret in the cluster instead: "
                    f"kubectl create secret generic {self.plan.secret_name} --from-env-file=.env",
                )
            if item.kind == "ConfigMap":
                for key, value in (item.obj.get("data") or {}).items():
                    if (key in self.secrets or looks_secret(key)) and value:
                        self.add(
                            item.file,
                            f"{item.label} key {key}",
                            f"{key} is a secret, written in plain text in a ConfigMap.",
                            f"Remove it here; put it in the Secret {self.plan.secret_name} and "
                            "reference it with valueFrom.secretKeyRef.",
                        )
        for c in self.containers:
            for name, entry in c.env().items():
                if leaks(name, entry.get("value"), self.secrets):
                    self.add(
                        c.owner.file,
                        f"{c.label} env {name}",
                        f"{name} holds a secret in plain text.",
                        f"Take it from the Secret: valueFrom.secretKeyRef {{name: "
                        f"{self.plan.secret_name}, key: {name}}}.",
                    )

    # -- roles, images, settings, security ------------------------------------------------
    def roles(self, roles: dict[str, list[Container]]) -> None:
        needed = [*LONG_RUNNING, "migrate", "temporal-setup"]
        if self.plan.syncs_schedules:
            needed.append("schedules-sync")
        kinds = {"migrate": "Job", "temporal-setup": "Job", "schedules-sync": "Job"}
        for role in needed:
            if role not in roles:
                command = " ".join(self.plan.commands[role])
                kind = kinds.get(role, "Deployment")
                self.add(
                    self.where,
                    f"{kind} for {role}",
                    f"no {kind} runs `{command}`.",
                    f"Add a {kind} whose container runs {self.plan.commands[role]} with the "
                    f"image {self.plan.image} (raw deploy render writes one).",
                )

    def container_rules(self, role: str, c: Container) -> None:
        plan = self.plan
        image = c.spec.get("image")
        if image != plan.image:
            self.add(
                c.owner.file,
                c.label,
                f"runs the image {image}, not the system's {plan.image}.",
                f"Use {plan.image} (system.deploy.image) in every file.",
            )
        settings_role = "temporal-setup" if role == "schedules-sync" else role
        env = c.env()
        from_all = bool(c.spec.get("envFrom"))
        for setting in plan.settings_for(settings_role):
            entry = env.get(setting.name)
            if entry is None and not from_all:
                source = (
                    f"the ConfigMap {plan.config_map}"
                    if setting.value is not None
                    else f"the Secret {plan.secret_name} (secretKeyRef)"
                )
                self.add(
                    c.owner.file,
                    c.label,
                    f"does not provide {setting.name} ({setting.why}).",
                    f"Add env {setting.name} from {source}.",
                )
            elif entry is not None:
                self.config_key(c, entry)
        if plan.temporal_tls_secret is not None and settings_role in TEMPORAL_ROLES:
            self.temporal_tls_mount(c)
        context = {**(c.pod.get("securityContext") or {}), **(c.spec.get("securityContext") or {})}
        wanted = {
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
        }
        wrong = [key for key, value in wanted.items() if context.get(key) is not value]
        if wrong:
            self.add(
                c.owner.file,
                c.label,
                f"its security context is not restricted ({', '.join(wrong)}).",
                "Set securityContext runAsNonRoot: true, readOnlyRootFilesystem: true, "
                "allowPrivilegeEscalation: false (and mount an emptyDir at /tmp).",
            )
        if not (c.spec.get("resources") or {}).get("requests"):
            self.add(
                c.owner.file,
                c.label,
                "has no resource requests.",
                "Set resources.requests (cpu, memory) so the scheduler can place it.",
            )

    def temporal_tls_mount(self, c: Container) -> None:
        """Temporal's TLS files are where TEMPORAL_TLS_*_PATH point: a Secret mounted there."""
        mounts = {m.get("mountPath"): m.get("name") for m in c.spec.get("volumeMounts") or []}
        volumes = {v.get("name"): v for v in c.pod.get("volumes") or []}
        volume = volumes.get(mounts.get(TEMPORAL_TLS_DIR)) or {}
        if "secret" not in volume:
            secret = self.plan.temporal_tls_secret
            self.add(
                c.owner.file,
                c.label,
                f"does not mount Temporal's TLS files at {TEMPORAL_TLS_DIR}.",
                f"Mount the Secret {secret} (keys "
                + ", ".join(key for _, key in self.plan.temporal_tls_files())
                + f") read-only at {TEMPORAL_TLS_DIR} (raw deploy render writes it).",
            )

    def config_key(self, c: Container, entry: dict[str, Any]) -> None:
        ref = (entry.get("valueFrom") or {}).get("configMapKeyRef")
        if not ref or ref.get("optional"):
            return
        data = self.config_maps.get(str(ref.get("name")))
        if data is None or ref.get("key") not in data:
            self.add(
                c.owner.file,
                f"{c.label} env {entry.get('name')}",
                f"reads key {ref.get('key')} of ConfigMap {ref.get('name')}, which "
                + ("does not exist." if data is None else "has no such key."),
                f"Add {ref.get('key')} to the ConfigMap {ref.get('name')}.",
            )

    def value_of(self, c: Container, name: str) -> str | None:
        entry = c.env().get(name) or {}
        if "value" in entry:
            return str(entry["value"])
        ref = (entry.get("valueFrom") or {}).get("configMapKeyRef") or {}
        value = self.config_maps.get(str(ref.get("name")), {}).get(ref.get("key"))
        return None if value is None else str(value)

    # -- the api: port, probes, RAW_DISPATCHER, Service, Ingress ---------------------------
    def api(self, c: Container) -> None:
        plan = self.plan
        port = option(c.words, "--port") or str(plan.port)
        ports = {str(p.get("name")): p.get("containerPort") for p in c.spec.get("ports") or []}
        if port not in {str(v) for v in ports.values()}:
            self.add(
                c.owner.file,
                c.label,
                f"listens on {port} (--port) but declares no containerPort {port}.",
                f"Add ports: [{{name: http, containerPort: {port}}}].",
            )
        for probe, path in (("readinessProbe", "/ready"), ("livenessProbe", "/health")):
            http = (c.spec.get(probe) or {}).get("httpGet") or {}
            target = http.get("port")
            target = ports.get(str(target), target)
            if http.get("path") != path or str(target) != port:
                self.add(
                    c.owner.file,
                    c.label,
                    f"has no {probe} on {path} (port {port}).",
                    f"Add {probe}: {{httpGet: {{path: {path}, port: {port}}}}}.",
                )
        if self.value_of(c, "RAW_DISPATCHER") != "off":
            self.add(
                c.owner.file,
                c.label,
                "runs the built-in dispatcher beside the dispatcher Deployment.",
                "Set env RAW_DISPATCHER: 'off' on the api.",
            )
        self.api_service(c, port, ports)

    def api_service(self, c: Container, port: str, ports: dict[str, Any]) -> None:
        services = []
        for item in self.objects:
            if item.kind != "Service":
                continue
            selector = (item.obj.get("spec") or {}).get("selector") or {}
            if selector and all(c.pod_labels.get(k) == v for k, v in selector.items()):
                services.append(item)
        good = []
        for service in services:
            for p in (service.obj.get("spec") or {}).get("ports") or []:
                target = p.get("targetPort", p.get("port"))
                if str(ports.get(str(target), target)) == port:
                    good.append((service.name, p))
        if not good:
            self.add(
                self.where,
                "Service for the api",
                f"no Service sends traffic to the api's port {port}.",
                f"Add a Service selecting the api's pods with targetPort {port} (or http).",
            )
            return
        if not self.plan.deploy.ingress.enabled:
            return
        ingresses = [o for o in self.objects if o.kind == "Ingress"]
        names = {name for name, _ in good}
        backends = []
        for ingress in ingresses:
            for rule in (ingress.obj.get("spec") or {}).get("rules") or []:
                for path in ((rule.get("http") or {}).get("paths")) or []:
                    backends.append(((path.get("backend") or {}).get("service") or {}).get("name"))
        if not any(name in names for name in backends):
            self.add(
                self.where,
                "Ingress for the api",
                "no Ingress routes to the api's Service (system.deploy.ingress is enabled).",
                f"Add an Ingress whose backend is the Service {sorted(names)[0]}, or set "
                "system.deploy.ingress.enabled: false.",
            )

    # -- probes of everything that serves a port --------------------------------------------
    def probes(self) -> None:
        for c in self.containers:
            if c.owner.kind not in ("Deployment", "StatefulSet", "DaemonSet"):
                continue
            if not c.spec.get("ports") or c in self._api:
                continue
            for probe in ("readinessProbe", "livenessProbe"):
                if not c.spec.get(probe):
                    self.add(
                        c.owner.file,
                        c.label,
                        f"serves {len(c.spec['ports'])} port(s) but has no {probe}.",
                        f"Add a {probe} (httpGet, tcpSocket or exec) so Kubernetes knows when "
                        "it is ready and when to restart it.",
                    )

    # -- what the system runs on -------------------------------------------------------------
    def infrastructure(self, roles: dict[str, list[Container]]) -> None:
        plan = self.plan
        images = {c.owner.kind + ":" + str(c.spec.get("image", "")) for c in self.containers}
        if plan.in_cluster_database and not any(
            i.startswith("StatefulSet:") and "postgres" in i for i in images
        ):
            self.add(
                self.where,
                "PostgreSQL",
                "no StatefulSet runs PostgreSQL (system.deploy.database.mode is in_cluster).",
                "Add the PostgreSQL StatefulSet, Service and volume claim (raw deploy render "
                "writes postgres.yml), or use an external database (database.mode: external).",
            )
        if plan.in_cluster_temporal and not any(
            i.startswith("Deployment:") and "temporalio/server" in i for i in images
        ):
            self.add(
                self.where,
                "Temporal",
                "no Deployment runs temporalio/server (system.deploy.temporal.mode is in_cluster).",
                "Add Temporal (raw deploy render writes temporal.yml), or set "
                "temporal.mode: external with its address.",
            )
        for c in roles.get("worker", []):
            address = self.value_of(c, "TEMPORAL_ADDRESS")
            if address is not None and address != plan.temporal_address:
                self.add(
                    c.owner.file,
                    f"{c.label} env TEMPORAL_ADDRESS",
                    f"points at {address}, not at the system's Temporal {plan.temporal_address}.",
                    f"Set TEMPORAL_ADDRESS to {plan.temporal_address}.",
                )
        if plan.in_cluster_temporal:
            host = plan.temporal_address.split(":")[0]
            served = any(
                o.kind == "Service"
                and o.name == host
                and any(
                    p.get("port") == TEMPORAL_PORT
                    for p in (o.obj.get("spec") or {}).get("ports", [])
                )
                for o in self.objects
            )
            if not served:
                self.add(
                    self.where,
                    f"Service/{host}",
                    f"no Service {host} serves Temporal's port {TEMPORAL_PORT}.",
                    f"Add a Service {host} with port {TEMPORAL_PORT} selecting the Temporal pods.",
                )

    # -- schedules: exactly one mechanism ---------------------------------------------------
    def schedules(self, roles: dict[str, list[Container]]) -> None:
        plan = self.plan
        synced = bool(roles.get("schedules-sync"))
        cron: dict[str, list[Container]] = {}
        for c in roles.get("cron", []):
            schedule_id = schedule_of(plan, c.words)
            if c.owner.kind == "CronJob" and schedule_id is not None:
                cron.setdefault(schedule_id, []).append(c)
        for schedule in plan.schedules:
            found = cron.get(schedule.id, [])
            both = synced and found
            if both or (not plan.cronjobs and found):
                self.add(
                    found[0].owner.file,
                    found[0].owner.label,
                    f"schedule '{schedule.id}' runs twice: as this CronJob and as a Temporal "
                    "Schedule (raw schedules sync)."
                    if both
                    else f"schedule '{schedule.id}' is a CronJob, but system.deploy.schedules "
                    "is temporal: it would run twice once the schedules are synced.",
                    "Keep one mechanism: delete the CronJob, or set system.deploy.schedules: "
                    "cronjob and render again (which drops the sync).",
                )
            if plan.cronjobs and not found:
                self.add(
                    self.where,
                    f"CronJob for schedule {schedule.id}",
                    f"schedule '{schedule.id}' has no CronJob (system.deploy.schedules: cronjob).",
                    f"Add a CronJob running {' '.join(self.command_for(schedule.id))} at "
                    f"'{schedule.cron}' in {schedule.timezone}.",
                )
            if len(found) > 1:
                self.add(
                    found[1].owner.file,
                    found[1].owner.label,
                    f"schedule '{schedule.id}' has {len(found)} CronJobs: it runs "
                    f"{len(found)} times.",
                    "Keep one CronJob per schedule.",
                )
            for c in found[:1]:
                spec = c.owner.obj.get("spec") or {}
                if (
                    spec.get("schedule") != schedule.cron
                    or spec.get("timeZone") != schedule.timezone
                ):
                    self.add(
                        c.owner.file,
                        c.owner.label,
                        f"runs at '{spec.get('schedule')}' in {spec.get('timeZone')}, not at "
                        f"'{schedule.cron}' in {schedule.timezone} as the config says.",
                        f"Set schedule: '{schedule.cron}' and timeZone: {schedule.timezone}.",
                    )
        if plan.cronjobs and synced:
            c = roles["schedules-sync"][0]
            self.add(
                c.owner.file,
                c.label,
                "syncs Temporal Schedules although system.deploy.schedules is cronjob: every "
                "schedule would run twice.",
                "Remove `raw schedules sync` (render again), or choose schedules: temporal.",
            )

    def command_for(self, schedule_id: str) -> list[str]:

        return next(schedule_command(s) for s in self.plan.schedules if s.id == schedule_id)

    def run(self) -> list[Finding]:
        roles = self.by_role()
        self._api = roles.get("api", [])
        self.secrets_in_plain_text()
        self.roles(roles)
        for role, found in roles.items():
            for c in found:
                self.container_rules(role, c)
        for c in self._api:
            self.api(c)
        self.probes()
        self.infrastructure(roles)
        self.schedules(roles)
        return self.findings


def check_kube(plan: Plan, objects: list[KubeObject], where: str) -> list[Finding]:
    """The findings of ``objects`` (from the folder ``where``) against the system."""
    return _Checker(plan, objects, where).run()
