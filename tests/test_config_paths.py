"""The config schema lives in ``raw.config``; its old paths answer for one release, warning."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

OLD_PATHS = {
    "raw.system": {
        "ScheduleConfig": "raw.config.orchestrator",
        "OrchestratorConfig": "raw.config.orchestrator",
        "ActionConfig": "raw.config.coordinator",
        "WebhookConfig": "raw.config.coordinator",
        "DispatcherConfig": "raw.config.coordinator",
        "EntityConfig": "raw.config.coordinator",
        "CoordinatorConfig": "raw.config.coordinator",
        "SystemGatesConfig": "raw.config.system",
        "SystemConfig": "raw.config.system",
        "DeployConfig": "raw.config.deploy",
        "IntegrationsConfig": "raw.config.integrations",
    },
    "raw.cron": {"InvalidCronError": "raw.config.cron", "check_cron": "raw.config.cron"},
    "raw.settings": {
        "LLMSettings": "raw.config.settings",
        "StructuredOutput": "raw.config.settings",
    },
    "raw.config_reference": dict.fromkeys(
        ("BEGIN", "END", "reference_rows", "reference_table", "update_document", "main"),
        "raw.config.reference",
    ),
}
CASES = [(old, name, new) for old, names in OLD_PATHS.items() for name, new in names.items()]


@pytest.mark.parametrize(("old", "name", "new"), CASES, ids=[f"{o}.{n}" for o, n, _ in CASES])
def test_an_old_path_gives_the_same_object_and_says_where_it_moved(
    old: str, name: str, new: str
) -> None:
    module = importlib.import_module(old)
    with pytest.warns(
        DeprecationWarning, match=rf"{old}\.{name} has moved: import it from {new}\b"
    ):
        value = getattr(module, name)
    assert value is getattr(importlib.import_module(new), name)


def test_an_old_path_refuses_a_name_it_never_had() -> None:
    module = importlib.import_module("raw.system")
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        module.Nothing  # noqa: B018


def test_the_kit_itself_uses_only_the_new_paths() -> None:
    graph = grimp.build_graph("raw", include_external_packages=False)
    users = {old: sorted(graph.find_modules_that_directly_import(old)) for old in OLD_PATHS}
    assert users == {old: [] for old in OLD_PATHS}


def test_the_old_reference_command_still_writes_the_table(tmp_path: Path) -> None:
    document = tmp_path / "config.md"
    document.write_text("# Config\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "raw.config_reference", "--write", str(document)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "import it from raw.config.reference" in done.stderr
    assert "| `system.orchestrator.task_queue` |" in document.read_text(encoding="utf-8")
