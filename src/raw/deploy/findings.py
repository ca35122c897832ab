"""What ``raw deploy check`` reports: findings, each naming its file, its object and the fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from raw.errors import UsageError

__all__ = ["CheckReport", "Finding", "ToolMissingError"]


@dataclass(frozen=True)
class Finding:
    """One problem in one deployment file."""

    file: str
    """The file, relative to the checked folder."""
    object: str
    """What in the file: ``Deployment/hiring-api``, ``services.api``, ``line 12``."""
    problem: str
    fix: str
    check: str
    """Who found it: hadolint, compose-spec, kubernetes-validate, helm, system."""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.file}: {self.object}: {self.problem} Fix: {self.fix}"


@dataclass
class CheckReport:
    """The outcome of checking one folder: the ``docker-validate`` gate."""

    directory: Path
    kubernetes_version: str
    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    """How much was checked: files and objects per kind of check."""

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "kubernetes_version": self.kubernetes_version,
            "ok": self.ok,
            "checked": dict(self.checked),
            "findings": [f.to_dict() for f in self.findings],
        }


class ToolMissingError(UsageError):
    """A checker the deploy extra installs is not there."""

    def __init__(self, tool: str, where: str) -> None:
        self.tool = tool
        self.where = where
        super().__init__(
            f"'{tool}' is not installed ({where}). Install the deploy extra: "
            "pip install 'raw-systems[deploy]'."
        )
