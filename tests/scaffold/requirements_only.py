"""Run a generated project as if its requirements files were all that is installed.

The suite's venv has every extra of raw-systems, so a generated project whose code
needs a package its requirements do not name would pass here and fail on a user's
machine. :func:`requirements_only_env` gives an environment in which every Python
process (through a ``sitecustomize`` on PYTHONPATH) refuses to import a top-level
module whose distributions are all outside the closure of the requirements, and
pytest loads only the plugins of distributions inside it.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

_ANY_VENV = {"pip", "setuptools", "wheel"}
"""What every venv has besides."""

_SITECUSTOMIZE = """\
import importlib.abc
import sys

BLOCKED = frozenset({blocked})


class _NotInRequirements(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(
                f"No module named {{name!r}} (its package is not in the project's requirements)",
                name=name,
            )
        return None


sys.meta_path.insert(0, _NotInRequirements())
"""


def _lines(path: Path) -> list[str]:
    """Requirement lines of a requirements file, following ``-r other.txt``."""
    found: list[str] = []
    for raw_line in path.read_text(encoding="utf-8").splitlines():
        line = raw_line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r"):
            found += _lines(path.parent / line[2:].strip())
        else:
            found.append(line)
    return found


def closure(requirements: list[str]) -> set[str]:
    """Canonical names of the distributions ``requirements`` install, with their extras."""
    seen: set[tuple[str, str]] = set()
    names: set[str] = set()
    todo = [(Requirement(line), "") for line in requirements]
    while todo:
        requirement, extra = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        for wanted in ["", *sorted(requirement.extras)]:
            if (name, wanted) in seen:
                continue
            seen.add((name, wanted))
            names.add(name)
            try:
                requires = md.distribution(name).requires or []
            except md.PackageNotFoundError:
                continue
            todo += [(Requirement(r), wanted) for r in requires]
    return names


def requirements_only_env(project: Path, folder: Path, requirements: str) -> dict[str, str]:
    """Settings to add to a subprocess's environment (``folder`` holds the sitecustomize)."""
    allowed = closure(_lines(project / requirements)) | _ANY_VENV
    blocked = sorted(
        module
        for module, dists in md.packages_distributions().items()
        if re.fullmatch(r"[A-Za-z_]\w*", module)
        and not any(canonicalize_name(d) in allowed for d in dists)
    )
    plugins = sorted(
        ep.value.split(":", 1)[0]
        for dist in md.distributions()
        if canonicalize_name(dist.metadata["Name"]) in allowed
        for ep in dist.entry_points
        if ep.group == "pytest11"
    )
    folder.mkdir(parents=True, exist_ok=True)
    items = ", ".join(json.dumps(m) for m in blocked)
    (folder / "sitecustomize.py").write_text(_SITECUSTOMIZE.format(blocked="{" + items + "}"))
    # Ahead of, not instead of, a PYTHONPATH that points at the source under test.
    return {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "PYTEST_PLUGINS": ",".join(plugins),
    }
