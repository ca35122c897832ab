"""PEP 723 dependencies: what the original runtime's ``uv run`` installed, installed here.

A ``run.py`` may list its dependencies in a ``# /// script`` header. ``raw run``
checks them against this environment first: a dependency already satisfied (the
header's ``pydantic>=2``, ``rich``) is never installed again, so most workflows run
with no install at all. The rest are installed, with ``uv`` when it is there (else
``pip``), into a cached folder per dependency set under ``RAW_ENVS_DIR`` (default
``~/.cache/raw/envs``), which later runs reuse; the workflow runs with that folder
first on its import path.

The folder adds packages to this environment rather than replacing it, so the kit
stays importable: the installer is constrained to the versions of the kit's own
dependencies installed here, and a header that needs other versions of those is
refused by the installer with a message naming them. ``--no-deps`` skips all of this.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from raw._loggers import logger
from raw._patterns import LazyPattern
from raw.errors import DependencyInstallError
from raw.workflow.loader import script_dependencies

__all__ = ["ENVS_SETTING", "ensure_dependencies", "envs_root", "unsatisfied"]

ENVS_SETTING = "RAW_ENVS_DIR"
INSTALLER_SETTING = "RAW_DEPS_INSTALLER"
"""``uv`` or ``pip``: which installer to use (default: uv when found, else pip)."""
_MARKER = "raw-env.json"
_INSTALL_TIMEOUT_SECONDS = 900
_log = logger("raw.workflow")


def envs_root() -> Path:
    configured = os.environ.get(ENVS_SETTING)
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "raw" / "envs"


def unsatisfied(deps: Sequence[str]) -> list[str]:
    """The requirements in ``deps`` this environment does not already satisfy."""
    # Lazy: packaging and the installed distributions only when a header lists dependencies.
    from importlib import metadata

    from packaging.requirements import InvalidRequirement, Requirement

    missing = []
    for dep in deps:
        try:
            req = Requirement(dep)
        except InvalidRequirement:
            missing.append(dep)  # the installer names what is wrong with it
            continue
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            version = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            missing.append(dep)
            continue
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            missing.append(dep)
    return missing


def _kit_constraints() -> list[str]:
    """``name==version`` for the kit's own dependencies as installed here (transitively)."""
    # Lazy: as above.
    from importlib import metadata

    from packaging.requirements import Requirement

    pins: dict[str, str] = {}
    todo = ["raw-systems"]
    while todo:
        name = todo.pop()
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in pins:
            continue
        if key != "raw-systems":
            pins[key] = dist.version
        for text in dist.requires or ():
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return sorted(f"{name}=={version}" for name, version in pins.items())


def _installer() -> tuple[str, list[str]]:
    # Lazy: only an install looks for the installer.
    import shutil

    chosen = os.environ.get(INSTALLER_SETTING, "").strip().lower()
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if chosen != "pip" and Path(uv).is_file():
        return "uv", [uv, "pip", "install", "--python", sys.executable]
    return "pip", [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
    ]


_NAMED = LazyPattern(
    r"(?:distribution found for|satisfies the requirement|Because|no version of|"
    r"No solution found when resolving dependencies:\s*.*?)\s+([A-Za-z0-9][A-Za-z0-9_.\-]*)"
)


def _named_packages(output: str, requested: Sequence[str]) -> list[str]:
    names = {m.group(1).lower().replace("_", "-") for m in _NAMED.finditer(output)}
    named = [r for r in requested if re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0].lower() in names]
    return named or list(requested)


def ensure_dependencies(workflow_id: str, script: Path) -> Path | None:
    """The folder holding ``script``'s unsatisfied PEP 723 dependencies, installed if needed.

    None when the header lists nothing this environment lacks. Raises
    :class:`DependencyInstallError` naming the package the installer could not install.
    """
    try:
        source = script.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if "# /// script" not in source:
        return None
    missing = unsatisfied(script_dependencies(source))
    if not missing:
        return None
    # Lazy: what an install needs, loaded only when one may be needed.
    import hashlib
    import json
    import shutil
    import subprocess

    constraints = _kit_constraints()
    key_material = json.dumps(
        {"python": sys.version.split()[0], "deps": sorted(missing), "kit": constraints}
    )
    key = hashlib.sha256(key_material.encode()).hexdigest()[:16]
    root = envs_root()
    folder = root / key
    if (folder / _MARKER).is_file():
        return folder
    name, command = _installer()
    _log.info(
        "installing %s for workflow '%s' with %s into %s",
        ", ".join(missing),
        workflow_id,
        name,
        folder,
    )
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{key}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    constraints_file = root / f".{key}.{os.getpid()}.constraints.txt"
    constraints_file.write_text("\n".join(constraints) + "\n", encoding="utf-8")
    try:
        proc = subprocess.run(
            [*command, "--target", str(staging), "--constraint", str(constraints_file), *missing],
            capture_output=True,
            text=True,
            timeout=_INSTALL_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        shutil.rmtree(staging, ignore_errors=True)
        raise DependencyInstallError(
            workflow_id, missing, name, f"it did not finish within {_INSTALL_TIMEOUT_SECONDS} s."
        ) from None
    finally:
        constraints_file.unlink(missing_ok=True)
    if proc.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        output = (proc.stderr or "") + (proc.stdout or "")
        tail = " / ".join(line.strip() for line in output.strip().splitlines()[-4:] if line.strip())
        raise DependencyInstallError(workflow_id, _named_packages(output, missing), name, tail)
    (staging / _MARKER).write_text(
        json.dumps({"installer": name, "requirements": missing, "constraints": constraints}),
        encoding="utf-8",
    )
    try:
        staging.rename(folder)
    except OSError:  # another run installed the same set meanwhile: use theirs
        shutil.rmtree(staging, ignore_errors=True)
    return folder
