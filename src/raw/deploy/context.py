"""The build context: what ``docker build`` would send from the project, and what must not.

The image is built from the project's root with ``COPY . /app``, so whatever the
ignore file lets through ends up in it. :func:`check_build_context` walks the real
project folder with the real ignore rules, matched as Docker matches them (the
Docker SDK's matcher: ``*``, ``**``, ``!`` exceptions, a folder's rule covering
what is inside it), and reports every file of local state or secrets
(:mod:`raw.local_state`) that would be copied.

Which ignore file: BuildKit reads ``<Dockerfile>.dockerignore`` beside the
Dockerfile first, else ``.dockerignore`` at the context's root.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from raw.deploy.compose_secrets import SECRETS_DIR
from raw.deploy.findings import Finding, ToolMissingError
from raw.local_state import SECRET_FILES, LocalState

if TYPE_CHECKING:
    from raw.project import Project

__all__ = ["BuildContext", "build_context", "check_build_context"]

IGNORE_BESIDE = "Dockerfile.dockerignore"
MAX_FILES_NAMED = 20
"""Per kind of local state; the rest are counted in one more finding."""


@dataclass
class BuildContext:
    root: Path
    ignore_file: Path | None
    """The ignore file in force, or None: everything is sent."""
    files: list[str]
    """Every file sent, relative to ``root``, sorted."""


def _patterns(path: Path | None) -> list[str]:
    if path is None:
        return []
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _matcher(patterns: list[str]) -> object:
    try:
        # Lazy: needs the deploy extra, which may be missing.
        from docker.utils.build import PatternMatcher  # type: ignore[import-untyped]
    except ImportError:
        raise ToolMissingError(
            "docker", "the Docker SDK, which matches .dockerignore rules as Docker does"
        ) from None
    return PatternMatcher(patterns)


def build_context(root: Path, dockerfile: Path) -> BuildContext:
    """The files ``docker build -f dockerfile root`` would send, by the ignore file in force."""
    beside = dockerfile.with_name(dockerfile.name + ".dockerignore")
    at_root = root / ".dockerignore"
    ignore = beside if beside.is_file() else at_root if at_root.is_file() else None
    matcher = _matcher(_patterns(ignore))
    files = [
        path
        for path in matcher.walk(str(root))  # type: ignore[attr-defined]
        if (root / path).is_file() and not (root / path).is_symlink()
    ]
    return BuildContext(root=root, ignore_file=ignore, files=sorted(files))


def _kind(path: str, entries: list[tuple[LocalState, object]]) -> LocalState | None:
    for entry, matcher in entries:
        if matcher.matches(path):  # type: ignore[attr-defined]
            return entry
    return None


def _compose_files(root: Path, deploy_dir: Path) -> list[LocalState]:
    """The TLS files Compose mounts from ``secrets/`` beside it, when inside the project."""
    try:
        folder = (deploy_dir / SECRETS_DIR).resolve().relative_to(root.resolve())
    except ValueError:
        return []
    return [LocalState(folder.as_posix(), "TLS keys and certificates for Compose", "you")]


def check_build_context(project: Project, deploy_dir: Path) -> tuple[list[Finding], int]:
    """Findings for each file of local state or secrets the image would hold; files sent."""
    context = build_context(project.root, deploy_dir / "Dockerfile")
    kinds = (*project.local_state(), *SECRET_FILES, *_compose_files(project.root, deploy_dir))
    entries = [(entry, _matcher([entry.pattern])) for entry in kinds]
    if context.ignore_file is not None:
        where = os.path.relpath(context.ignore_file, deploy_dir)
    else:
        where = IGNORE_BESIDE
    found: dict[LocalState, list[str]] = {}
    for path in context.files:
        kind = _kind(path, entries)
        if kind is not None:
            found.setdefault(kind, []).append(path)
    findings = []
    if context.ignore_file is None:
        problem = "is missing (nor is there a .dockerignore): the whole project is sent."
        fix = "Run `raw deploy render` to write it."
        findings.append(Finding(where, "file", problem, fix, "system"))
    for kind, paths in found.items():
        if context.ignore_file is not None:
            fix = f"Add the line '{kind.pattern}' to {where}"
        else:
            fix = f"Write {where} with `raw deploy render` (it keeps '{kind.pattern}' out)"
        fix += f", or remove the file: {kind.written_by} writes it and no image may hold it."
        problem = (
            f"would be copied into the image (COPY . /app): it holds {kind.holds}, "
            f"and {where} does not keep it out of the build context."
        )
        findings += [
            Finding(where, path, problem, fix, "system") for path in paths[:MAX_FILES_NAMED]
        ]
        if len(paths) > MAX_FILES_NAMED:
            more = f"{len(paths) - MAX_FILES_NAMED} more files matching '{kind.pattern}'"
            findings.append(
                Finding(where, more, problem.replace("it holds", "they hold"), fix, "system")
            )
    return findings, len(context.files)
