"""What a system adds to the coordinator: its own schemes, its migrations, query fields for
URL-signing senders, an app factory; each refused clearly when it cannot work."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import pytest
from pydantic import ValidationError

from raw.config.coordinator import CoordinatorConfig, WebhookConfig
from raw.coordinator.sender import load_schemes
from raw.coordinator.verify import get_scheme
from raw.errors import ConfigError
from raw.project import Project as RawProject

if TYPE_CHECKING:
    from conftest import Project


def hook(**fields: object) -> dict[str, object]:
    return {"name": "status", "path": "/hooks/status", "secrets": ["S"], **fields}


def test_query_fields_need_a_form_route_whose_scheme_signs_the_url() -> None:
    WebhookConfig.model_validate(hook(scheme="twilio", content_type="form", query_params=True))
    for bad in (
        hook(scheme="standard-webhooks", content_type="form", query_params=True),
        hook(scheme="twilio", content_type="json", query_params=True),
    ):
        with pytest.raises(ValidationError, match="query_params needs a form route"):
            WebhookConfig.model_validate(bad)


def test_a_systems_scheme_is_registered_by_its_name(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from raw.coordinator import verify

    monkeypatch.setattr(verify, "_SCHEMES", dict(verify._registry()))  # leave no test scheme
    (project.root / "acme_scheme.py").write_text(
        textwrap.dedent(
            """
            class AcmeScheme:
                name = "acme-test"
                def verify(self, request, secrets, *, tolerance_seconds, now): ...
                def delivery_id(self, request): return None
                def sign(self, body, secret, *, url, form, now, delivery_id): return {}
            """
        )
    )
    config = CoordinatorConfig(schemes=["acme_scheme:AcmeScheme"])
    load_schemes(config, project.root)
    assert get_scheme("acme-test").name == "acme-test"
    load_schemes(config, project.root)  # again: the same scheme, no conflict


def test_a_scheme_that_is_not_one_is_refused(project: Project) -> None:
    (project.root / "not_scheme.py").write_text("THING = object()\n")
    with pytest.raises(ConfigError, match="is not a webhook scheme: it has no name, verify"):
        load_schemes(CoordinatorConfig(schemes=["not_scheme:THING"]), project.root)
    with pytest.raises(ConfigError, match="'missing_mod:X' cannot be imported"):
        load_schemes(CoordinatorConfig(schemes=["missing_mod:X"]), project.root)


def test_a_migrations_folder_without_env_py_is_refused(project: Project) -> None:
    from raw.coordinator.db.system_migrations import migrations_folder

    (project.root / ".raw" / "config.yaml").write_text(
        "version: 1\nsystem:\n  coordinator:\n    migrations: db/migrations\n"
    )
    with pytest.raises(ConfigError, match="is not an Alembic folder"):
        migrations_folder(RawProject(project.root))


def test_the_app_may_be_a_factory(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    from raw.coordinator.app import load_app

    monkeypatch.setenv("RAW_API_TOKEN", "factory-test-token-0123456789abcdef")
    (project.root / "factory_app.py").write_text(
        textwrap.dedent(
            """
            from fastapi import FastAPI

            def make():
                app = FastAPI(title="made by a factory")
                return app
            """
        )
    )
    (project.root / ".raw" / "config.yaml").write_text(
        "version: 1\nsystem:\n  coordinator:\n    app: factory_app:make\n"
    )
    first = load_app(RawProject(project.root))
    second = load_app(RawProject(project.root))
    assert first.title == "made by a factory"
    assert first is not second  # a fresh app each time (simulations build several)
    assert first.state.raw_coordinator is not None
