"""`raw config check`: strict validation of .raw/config.yaml and the effective settings."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Project, RunCli


def write_config(project: Project, text: str) -> Path:
    path = project.root / ".raw" / "config.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


VALID = """
    version: 1
    name: hiring
    system:
      name: hiring
      orchestrator:
        task_queue: hiring
        workflows: [processes.hiring]
        schedules:
          - id: daily-report
            cron: "0 8 * * *"
            timezone: Europe/Paris
            workflow: generate-report
            args: ["--date", "today"]
          - id: weekly-cleanup
            cron: "0 3 * * 0"
            workflow: cleanup
            paused: true
"""


def test_a_valid_config_prints_the_effective_orchestrator_settings(
    project: Project, raw_cli: RunCli
) -> None:
    path = write_config(project, VALID)
    result = raw_cli("config", "check", "--json")
    assert result.code == 0, result.stderr
    doc = result.json()
    assert (doc["valid"], doc["config"], doc["system"]) == (True, str(path), "hiring")
    orchestrator = doc["orchestrator"]
    assert orchestrator["address"] is None
    assert (orchestrator["namespace"], orchestrator["task_queue"]) == ("default", "hiring")
    assert orchestrator["workflows"] == ["processes.hiring"]
    assert orchestrator["sources"] == {
        "address": "embedded engine ('raw engine start')",
        "namespace": "default",
        "task_queue": "config",
    }
    assert [s["id"] for s in orchestrator["schedules"]] == ["daily-report", "weekly-cleanup"]
    assert orchestrator["schedules"][0]["timezone"] == "Europe/Paris"

    human = raw_cli("config", "check")
    assert human.code == 0
    assert f"{path}: valid." in human.stdout
    assert "task_queue:     hiring  [config]" in human.stdout
    assert "daily-report: '0 8 * * *' Europe/Paris -> generate-report" in human.stdout
    assert "weekly-cleanup: '0 3 * * 0' UTC -> cleanup  (paused)" in human.stdout


def test_environment_variables_override_the_file(project: Project, raw_cli: RunCli) -> None:
    write_config(project, VALID)
    result = raw_cli(
        "config",
        "check",
        "--json",
        env={
            "TEMPORAL_ADDRESS": "temporal.internal:7233",
            "RAW_TEMPORAL_NAMESPACE": "staging",
            "RAW_TASK_QUEUE": "hiring-canary",
        },
    )
    assert result.code == 0, result.stderr
    orchestrator = result.json()["orchestrator"]
    assert (orchestrator["address"], orchestrator["namespace"], orchestrator["task_queue"]) == (
        "temporal.internal:7233",
        "staging",
        "hiring-canary",
    )
    assert orchestrator["sources"] == {
        "address": "env TEMPORAL_ADDRESS",
        "namespace": "env RAW_TEMPORAL_NAMESPACE",
        "task_queue": "env RAW_TASK_QUEUE",
    }


def test_an_unknown_key_is_refused_naming_it_and_what_is_allowed(
    project: Project, raw_cli: RunCli
) -> None:
    write_config(
        project,
        """
        system:
          orchestrator:
            task_qeue: hiring
        """,
    )
    result = raw_cli("config", "check")
    assert result.code == 2
    assert "unknown key 'system.orchestrator.task_qeue'" in result.stderr
    assert "allowed: address, namespace, task_queue" in result.stderr
    assert "Traceback" not in result.stderr

    as_json = raw_cli("config", "check", "--json")
    assert as_json.code == 2
    doc = as_json.json()
    assert (doc["valid"], doc["exit_code"], doc["error"]["type"]) == (False, 2, "ConfigError")
    assert "task_qeue" in doc["error"]["message"]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            "sytem:\n  name: hiring\n",
            "unknown key 'sytem'. Did you mean 'system'? "
            "(allowed: version, name, runs_dir, cache_dir, builder, system)",
        ),
        (
            "system:\n  orchestrator:\n    task_queu: hiring\n",
            "unknown key 'system.orchestrator.task_queu'. Did you mean 'task_queue'? "
            "(allowed: address, namespace, task_queue, workflows, activities, activity_mode, "
            "schedules, connection)",
        ),
        (
            "system:\n  orchestrator:\n    schedules:\n"
            "      - {id: daily, cron: '0 8 * * *', workflow: report, timezon: UTC}\n",
            "unknown key 'system.orchestrator.schedules.0.timezon'. Did you mean 'timezone'? "
            "(allowed: id, cron, timezone, workflow, args, params, paused, note)",
        ),
    ],
    ids=["top-level", "nested", "in-a-list-item"],
)
def test_a_misspelt_key_is_answered_with_the_nearest_allowed_one(
    project: Project, raw_cli: RunCli, config: str, expected: str
) -> None:
    path = write_config(project, config)
    result = raw_cli("config", "check")
    assert result.code == 2
    assert result.stderr == f"Error: {path} is not a valid RAW config: {expected}\n"

    doc = raw_cli("config", "check", "--json").json()
    assert doc["error"]["message"] == f"{path} is not a valid RAW config: {expected}"


def test_a_key_like_none_allowed_gets_no_guess(project: Project, raw_cli: RunCli) -> None:
    write_config(project, "system:\n  orchestrator:\n    zzz: hiring\n")
    result = raw_cli("config", "check")
    assert result.code == 2
    assert "unknown key 'system.orchestrator.zzz' (allowed: address, " in result.stderr
    assert "Did you mean" not in result.stderr


def test_a_bad_schedule_is_refused_with_its_path(project: Project, raw_cli: RunCli) -> None:
    write_config(
        project,
        """
        system:
          orchestrator:
            schedules:
              - {id: daily, cron: "0 8 * *", timezone: Mars/Olympus, workflow: report}
        """,
    )
    result = raw_cli("config", "check")
    assert result.code == 2
    assert "system.orchestrator.schedules.0.cron" in result.stderr
    assert "not a five-field cron expression" in result.stderr
    assert "system.orchestrator.schedules.0.timezone" in result.stderr
    assert "'Mars/Olympus' is not an IANA time zone" in result.stderr


@pytest.mark.parametrize(
    ("cron", "reason"),
    [
        ("61 7 * * *", "minute 61 is out of range 0-59"),
        ("99 99 * * *", "minute 99 is out of range 0-59; hour 99 is out of range 0-23"),
    ],
)
def test_a_cron_out_of_range_is_refused_naming_the_schedule_and_field(
    project: Project, raw_cli: RunCli, cron: str, reason: str
) -> None:
    write_config(
        project,
        f"""
        system:
          orchestrator:
            schedules:
              - {{id: daily-report, cron: "{cron}", workflow: report}}
        """,
    )
    result = raw_cli("config", "check")
    assert result.code == 2, result.stderr
    assert f"schedule 'daily-report': cron '{cron}': {reason}." in result.stderr
    assert "Traceback" not in result.stderr


def test_a_project_without_a_config_file_is_valid_with_defaults(
    project: Project, raw_cli: RunCli
) -> None:
    (project.root / ".raw" / "config.yaml").unlink()
    result = raw_cli("config", "check", "--json")
    assert result.code == 0, result.stderr
    assert (result.json()["exists"], result.json()["orchestrator"]["task_queue"]) == (False, "raw")


def test_no_project_is_not_found(tmp_path: Path, raw_cli: RunCli) -> None:
    result = raw_cli("config", "check", cwd=tmp_path)
    assert result.code == 3
    assert "No RAW project found" in result.stderr
