"""``system.coordinator``: the FastAPI coordinator's webhooks, inbox, dispatcher and database.

Routes are declared as data, so `raw` reads them without starting the app::

    system:
      coordinator:
        webhooks:
          - name: cv-submission
            path: /webhooks/cv-submission
            scheme: standard-webhooks
            secrets: [RAW_CV_SECRET]
            action: {kind: start_process, process: HiringProcess, business_key: email}
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from raw.config._base import SETTING, SLUG, Strict, object_ref
from raw.config.database import DatabaseTLSConfig

__all__ = [
    "ActionConfig",
    "CoordinatorConfig",
    "DispatcherConfig",
    "EntityConfig",
    "WebhookConfig",
]


class ActionConfig(Strict):
    """What an accepted delivery makes happen, through the inbox and the dispatcher."""

    kind: Literal["run_workflow", "start_process", "signal", "signal_with_start", "none"] = Field(
        description=(
            "run_workflow: run a RAW workflow; start_process: start the business key's "
            "process; signal: signal it; signal_with_start: signal it, starting it if it "
            "is not running; none: nothing (the inbox record is done at once)."
        )
    )
    workflow: str | None = Field(default=None, description="run_workflow: the RAW workflow id.")
    params: dict[str, str] | None = Field(
        default=None,
        description="run_workflow: param name -> body field; default: the whole body.",
    )
    process: str | None = Field(
        default=None, description="start_process / signal_with_start: the process type."
    )
    business_key: str | None = Field(
        default=None, description="The body field whose value identifies the process."
    )
    signal: str | None = Field(default=None, description="signal / signal_with_start: its name.")
    on_result: str | None = Field(
        default=None,
        description=(
            "Optional 'module:function' called as `await f(session, item, outcome)` in the "
            "transaction that finishes the inbox record (done or dead): the entity's own "
            "update, e.g. pending -> complete with the output (Pattern 1)."
        ),
    )

    @model_validator(mode="after")
    def _targets(self) -> ActionConfig:
        needs = {
            "run_workflow": ["workflow"],
            "start_process": ["process", "business_key"],
            "signal": ["process", "business_key", "signal"],
            "signal_with_start": ["process", "business_key", "signal"],
            "none": [],
        }[self.kind]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"action '{self.kind}' needs {', '.join(missing)}")
        object_ref(self.on_result)
        if self.workflow is not None and not SLUG.match(self.workflow):
            raise ValueError(f"'{self.workflow}' is not a workflow id such as 'analyze-cv'")
        return self


class WebhookConfig(Strict):
    """One webhook route, declared as data: `raw` reads it without starting the app."""

    name: str = Field(description="Unique route name, a lowercase slug.")
    path: str = Field(description="URL path, e.g. /webhooks/cv-submission.")
    body: str | None = Field(
        default=None, description="Pydantic model of the body, e.g. 'hiring.models:CVSubmission'."
    )
    content_type: Literal["json", "form"] = Field(
        default="json",
        description=(
            "The body's encoding: json (application/json or application/*+json) or form "
            "(application/x-www-form-urlencoded); any other Content-Type is answered 415."
        ),
    )
    scheme: str = Field(
        description="standard-webhooks, github, twilio, bearer, or a registered scheme."
    )
    secrets: list[str] = Field(
        min_length=1,
        description="Names of settings (env vars) holding the secrets; several = rotation.",
    )
    delivery_key: str | None = Field(
        default=None,
        description="Body field that identifies a delivery; default: the scheme's delivery id.",
    )
    tolerance_seconds: int = Field(
        default=300,
        gt=0,
        description=(
            "How far, in seconds, a signed timestamp may be from now, for schemes that sign "
            "one (standard-webhooks); further off, the delivery is refused with 401."
        ),
    )
    max_body_bytes: int | None = Field(
        default=None,
        gt=0,
        description=(
            "The largest body this route takes, in bytes (larger: 413); default: "
            "system.coordinator.max_body_bytes."
        ),
    )
    retention_days: int | None = Field(
        default=None,
        gt=0,
        description=(
            "Days a delivery's raw body is kept; `raw db purge` clears older ones (the row "
            "stays, so repeats are still recognised). None: kept forever."
        ),
    )
    query_params: bool = Field(
        default=False,
        description=(
            "Form routes: read body fields from the URL's query too (the body wins), for "
            "senders that sign the whole URL, such as Twilio's status callbacks."
        ),
    )
    handler: str | None = Field(
        default=None,
        description="Optional 'module:function' doing the entity change in the same transaction.",
    )
    action: ActionConfig = Field(
        default_factory=lambda: ActionConfig(kind="none"),
        description=(
            "What an accepted delivery makes happen, through the inbox and the dispatcher; "
            "default: nothing (kind none)."
        ),
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(f"'{value}' is not a lowercase slug such as 'cv-submission'")
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or " " in value:
            raise ValueError(f"'{value}' is not a URL path such as '/webhooks/cv-submission'")
        return value

    @field_validator("secrets")
    @classmethod
    def _settings(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not SETTING.match(v)]
        if bad:
            raise ValueError(
                f"secrets are setting names such as 'RAW_CV_SECRET', not values: {', '.join(bad)}"
            )
        return value

    _refs = field_validator("body", "handler")(classmethod(lambda cls, v: object_ref(v)))

    @model_validator(mode="after")
    def _query_params_signed(self) -> WebhookConfig:
        if self.query_params and (self.content_type != "form" or self.scheme != "twilio"):
            raise ValueError(
                "query_params needs a form route whose scheme signs the URL's query "
                "(scheme: twilio); other schemes do not sign it, so anyone could change it"
            )
        return self


class DispatcherConfig(Strict):
    enabled: bool = Field(
        default=True,
        description=(
            "Run the dispatcher inside the app; when false, `raw up` runs `raw dispatcher` "
            "as a process of its own."
        ),
    )
    max_attempts: int = Field(
        default=8,
        ge=1,
        description=(
            "Attempts an inbox record's action gets; after the last failed one the record "
            "is dead (a dead letter, retried by hand)."
        ),
    )
    base_delay_seconds: float = Field(
        default=1.0,
        gt=0,
        description=(
            "Backoff before a retry: a random wait of up to this many seconds times "
            "2**(attempts - 1) (full jitter)."
        ),
    )
    max_delay_seconds: float = Field(
        default=300.0, gt=0, description="The cap on the backoff before a retry, in seconds."
    )
    lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description=(
            "Seconds a claimed record stays with its dispatcher; renewed every third of it "
            "while the action runs, and taken up by another dispatcher once it runs out."
        ),
    )
    poll_interval_seconds: float = Field(
        default=0.5,
        gt=0,
        description=(
            "Seconds between looks for due records while no slot frees up; records whose "
            "lease ran out are looked for once per interval."
        ),
    )
    concurrency: int = Field(
        default=64,
        ge=1,
        description=(
            "Actions one dispatcher performs at once, and so the most records it claims "
            "in one write: below the deliveries the webhook routes commit in one, it falls "
            "behind (docs/scaling.md)."
        ),
    )
    outage_probe_seconds: float = Field(
        default=15.0,
        gt=0,
        description=(
            "While a service an action needs is away (Temporal, an integration's server), "
            "the longest wait between two tries of it; the records that need it wait, "
            "spending no attempts, however long it is away, and go at once when it is back."
        ),
    )


_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_TABLE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$")


class EntityConfig(Strict):
    """A table of the system's entities, for the operator page's counts by status."""

    name: str = Field(description="What the rows are, shown on the page, e.g. 'candidates'.")
    table: str = Field(description="The table, e.g. 'hiring_candidates' or 'crm.contacts'.")
    status: str = Field(default="status", description="The column holding each row's status.")
    key: str | None = Field(
        default=None,
        description="The column holding the entity key the webhook handlers return.",
    )

    @model_validator(mode="after")
    def _identifiers(self) -> EntityConfig:
        if not _TABLE.match(self.table):
            raise ValueError(f"'{self.table}' is not a table name such as 'hiring_candidates'")
        for column in (self.status, self.key):
            if column is not None and not _COLUMN.match(column):
                raise ValueError(f"'{column}' is not a column name such as 'status'")
        return self


class CoordinatorConfig(Strict):
    """The FastAPI coordinator: webhooks, the inbox, the database, the API."""

    app: str | None = Field(
        default=None,
        description="The user's FastAPI app, 'module:app', or a factory returning one.",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; DATABASE_URL wins; default a SQLite file."
    )
    database_tls: DatabaseTLSConfig = Field(
        default_factory=DatabaseTLSConfig,
        description=(
            "PostgreSQL over TLS (sslmode, sslrootcert, sslcert, sslkey, as libpq names "
            "them), added to the database URL's query: sslmode takes the stricter of the two."
        ),
    )
    public_base_url: str | None = Field(
        default=None, description="The URL callers use (Twilio signs it); RAW_PUBLIC_BASE_URL wins."
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        gt=0,
        description=(
            "The largest webhook body taken, in bytes, for routes without their own "
            "max_body_bytes; larger: 413."
        ),
    )
    api_token_setting: str = Field(
        default="RAW_API_TOKEN",
        description=(
            "The setting holding the bearer token of the REST API and the operator page; "
            "outside development a missing or weak one stops start-up."
        ),
    )
    schemes: list[str] = Field(
        default_factory=list,
        description="The system's own webhook schemes, 'module:object', registered by name.",
    )
    migrations: str | None = Field(
        default=None,
        description=(
            "Folder of the system's own Alembic migrations (relative to the project), run "
            "by `raw db upgrade` and at start-up after the kit's."
        ),
    )
    dispatcher: DispatcherConfig = Field(
        default_factory=DispatcherConfig,
        description=(
            "How the inbox's actions are performed, in the app or by `raw dispatcher`: "
            "attempts, backoff, leases, pace."
        ),
    )
    webhooks: list[WebhookConfig] = Field(
        default_factory=list,
        description=(
            "Webhook routes: each checks the sender's signature, then stores the delivery "
            "and its inbox record in one transaction."
        ),
    )
    entities: list[EntityConfig] = Field(
        default_factory=list,
        description="The system's entity tables, counted by status on the operator page.",
    )

    _app_ref = field_validator("app")(classmethod(lambda cls, v: object_ref(v)))

    @field_validator("schemes")
    @classmethod
    def _scheme_refs(cls, value: list[str]) -> list[str]:
        for ref in value:
            object_ref(ref)
        return value

    @model_validator(mode="after")
    def _unique(self) -> CoordinatorConfig:
        for attr in ("name", "path"):
            values = [getattr(w, attr) for w in self.webhooks]
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"webhook {attr}s must be unique: {', '.join(dupes)} repeated")
        return self
