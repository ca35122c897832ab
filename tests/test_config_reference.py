"""docs/config.md's reference of every key stays in sync with the models that validate them."""

from __future__ import annotations

from pathlib import Path

from raw.config.reference import BEGIN, END, reference_rows, update_document

DOC = Path(__file__).resolve().parents[1] / "docs" / "config.md"


def test_the_reference_in_docs_config_md_is_up_to_date() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    assert update_document(text) == text, (
        "docs/config.md's key reference is out of date with the config models: "
        "run `python -m raw.config.reference --write docs/config.md`"
    )


def test_every_key_is_listed_down_to_nested_lists_and_maps() -> None:
    keys = [row[0] for row in reference_rows()]
    for key in (
        "builder.gates.optional.<name>.timeout_seconds",
        "system.orchestrator.schedules[].args",
        "system.coordinator.webhooks[].action.signal",
        "system.deploy.image.tag",
    ):
        assert key in keys
    assert len(keys) == len(set(keys))


def test_every_key_says_what_it_means() -> None:
    unexplained = [key for key, _, _, meaning in reference_rows() if not meaning.strip()]
    assert not unexplained, (
        "these keys of docs/config.md's reference have no meaning: give each field a "
        f"description= (or an attribute docstring): {', '.join(unexplained)}"
    )


def test_a_default_set_by_the_parent_is_the_one_shown() -> None:
    defaults = {key: default for key, _, default, _ in reference_rows()}
    assert defaults["system.deploy.api.replicas"] == "`2`"  # the role's own default is 1
    assert defaults["system.deploy.dispatcher.replicas"] == "`1`"
    assert defaults["system.deploy.api.resources.requests.cpu"] == '`"100m"`'
    assert defaults["system.deploy.api.resources.limits.memory"] == '`"512Mi"`'
    assert defaults["system.coordinator.webhooks[].action.kind"] == "required"


def test_the_environment_table_names_every_llm_setting() -> None:
    from raw.config.settings import LLMSettings
    from raw.workflow.llm import LLM_MODE_SETTING

    text = DOC.read_text(encoding="utf-8")
    table = text.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    documented = {line.split("`")[1] for line in table.splitlines() if line.startswith("| `")}
    prefix = str(LLMSettings.model_config.get("env_prefix", ""))
    settings = {prefix + name.upper() for name in LLMSettings.model_fields}
    missing = sorted((settings | {LLM_MODE_SETTING}) - documented)
    assert not missing, f"docs/config.md's environment table lacks {', '.join(missing)}"
