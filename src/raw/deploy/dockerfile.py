"""The Dockerfile: one multi-stage image that serves every role by command."""

from __future__ import annotations

import json
import posixpath
from typing import TYPE_CHECKING

from raw.deploy.plan import APP_UID
from raw.local_state import SECRET_FILES

if TYPE_CHECKING:
    from collections.abc import Sequence

    from raw.deploy.plan import Plan
    from raw.local_state import LocalState

__all__ = ["render_dockerfile", "render_dockerignore"]

RUNTIME_ENV = {
    "PATH": "/opt/venv/bin:$PATH",
    "PYTHONUNBUFFERED": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "RAW_PROJECT_DIR": "/app",
    "RAW_RUNS_DIR": "/tmp/raw/runs",
    "RAW_CACHE_DIR": "/tmp/raw/cache",
    "HOME": "/tmp",
}
"""The root filesystem is read-only in Kubernetes: everything written goes under /tmp."""


def _requirement(plan: Plan) -> str:
    python = plan.deploy.python
    chosen = python.extras
    if chosen is None:
        integrations = plan.system.integrations
        used = any(
            getattr(integrations, name) is not None for name in type(integrations).model_fields
        )
        chosen = ["coordinator", "orchestrator"] + (["integrations"] if used else [])
    extras = f"[{','.join(chosen)}]" if chosen else ""
    return f"{python.package}{extras}=={plan.python_version}"


def health_command(port: int) -> list[str]:
    """A health check that needs nothing but the image's Python."""
    probe = (
        "import urllib.request; "
        f"urllib.request.urlopen('http://127.0.0.1:{port}/health', timeout=4)"
    )
    return ["python", "-c", probe]


def _exec_form(words: list[str]) -> str:
    return "[" + ", ".join(json.dumps(word) for word in words) + "]"


def render_dockerfile(plan: Plan, *, dockerfile_path: str) -> str:
    """The Dockerfile; ``dockerfile_path`` is where it lies, from the project's root."""
    base = plan.deploy.image.base
    port = plan.port
    requirements = plan.deploy.python.requirements
    env = " \\\n    ".join(f'{key}="{value}"' for key, value in RUNTIME_ENV.items())
    own_deps = ""
    if requirements:
        own_deps = (
            f"COPY {posixpath.normpath(requirements)} /tmp/requirements.txt\n"
            "RUN pip install --no-cache-dir -r /tmp/requirements.txt\n"
        )
    roles = "\n".join(
        f"#   {role:<15} {' '.join(plan.commands[role])}"
        for role in ("api", "worker", "dispatcher", "migrate", "temporal-setup")
    )
    return f"""\
# syntax=docker/dockerfile:1
# Rendered by `raw deploy render` from .raw/config.yaml. One image, every role by command:
{roles}
# Build it from the project's root:
#   docker build -f {dockerfile_path} -t {plan.image} .

FROM {base} AS build
ENV PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"
# The dependencies, in layers of their own: rebuilt only when they change, not with the code.
RUN pip install --no-cache-dir "{_requirement(plan)}"
{own_deps}
FROM {base}
ENV {env}
RUN groupadd --system --gid {APP_UID} raw \\
    && useradd --system --uid {APP_UID} --gid raw --no-create-home --home-dir /tmp \\
       --shell /usr/sbin/nologin raw
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY . /app
# An invalid config fails the build; the parsed config is cached for a read-only root.
RUN raw config check
USER {APP_UID}:{APP_UID}
EXPOSE {port}
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \\
    CMD {_exec_form(health_command(port))}
CMD {_exec_form(plan.commands["api"])}
"""


def render_dockerignore(out_dir_from_root: str, local: Sequence[LocalState]) -> str:
    """What never goes into the image: ``local`` state, any .env, tools' caches, tests' data.

    ``local`` is :meth:`raw.project.Project.local_state`, so the list grows
    with every kind of local state the kit writes; ``raw deploy check`` checks the folder
    against the same list.
    """
    out = posixpath.normpath(out_dir_from_root)
    lines = [
        "# Rendered by `raw deploy render`: BuildKit reads <Dockerfile>.dockerignore.",
        "# Local state and secrets (raw.local_state): `raw deploy check` fails if any of it",
        "# would be in the build context.",
        *(entry.pattern for entry in (*local, *SECRET_FILES)),
        "# Not needed to run: tools' files and recorded histories (test data).",
        ".git",
        ".venv",
        "**/__pycache__",
        "**/*.py[co]",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".raw/histories",
    ]
    if out not in (".", ""):
        lines.append(f"{out}/helm")
        lines.append(f"{out}/k8s")
        lines.append(f"{out}/secrets")  # the TLS files Compose mounts
    return "\n".join(lines) + "\n"
