"""``system.orchestrator.connection``: how the kit's clients reach a secured Temporal.

Temporal's own client settings come first, the ones the ``temporal`` CLI reads too
(``temporalio.envconfig``): ``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``,
``TEMPORAL_API_KEY``, ``TEMPORAL_TLS``, ``TEMPORAL_TLS_SERVER_CA_CERT_PATH``,
``TEMPORAL_TLS_SERVER_NAME``, ``TEMPORAL_TLS_CLIENT_CERT_PATH``,
``TEMPORAL_TLS_CLIENT_KEY_PATH``, and a profile of a TOML file (``TEMPORAL_CONFIG_FILE``,
``TEMPORAL_PROFILE``). This section holds what is not secret: a profile's name, paths
to certificate and key files, a server name. Each setting is taken from the
environment first, then from this section, then from the profile.

A secret never goes in ``.raw/config.yaml``: an API key or key material written here
is refused. The API key comes from ``TEMPORAL_API_KEY`` (or the setting named by
``api_key_setting``); a client key from a file, given by its path.

    system:
      orchestrator:
        address: hiring.a1b2c.tmprl.cloud:7233     # Temporal Cloud, API key
        namespace: hiring.a1b2c
        connection:
          api_key_setting: TEMPORAL_API_KEY

      orchestrator:                                # self-hosted, mutual TLS
        address: temporal.internal:7233
        connection:
          server_ca_cert: /etc/temporal/ca.pem
          client_cert: /etc/temporal/client.pem
          client_key: /etc/temporal/client.key

Imports pydantic only: ``raw.config.orchestrator`` loads it on every validation of the config.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["INLINE_SECRET_KEYS", "TemporalConnectionConfig", "is_local_address"]

_SETTING = re.compile(r"^[A-Z][A-Z0-9_]*$")
_PROFILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

INLINE_SECRET_KEYS = {
    "api_key": "an API key",
    "client_key_data": "a client key",
    "client_private_key": "a client key",
    "private_key": "a client key",
    "server_ca_cert_data": "a certificate",
    "client_cert_data": "a certificate",
}
"""Keys a config might try to hold a secret (or a file's content) under, and what it is."""

_PATH_FIELDS = ("server_ca_cert", "client_cert", "client_key")


def is_local_address(address: str) -> bool:
    """Whether ``host:port`` is this machine (loopback), where plain gRPC is fine."""
    host = address.strip()
    if host.startswith("["):  # [::1]:7233
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    host = host.lower()
    return host in ("localhost", "::1") or host.startswith("127.")


class TemporalConnectionConfig(BaseModel):
    """TLS, mutual TLS and API key for Temporal (Temporal Cloud, a self-hosted cluster)."""

    model_config = ConfigDict(extra="forbid")

    profile: str | None = Field(
        default=None,
        description=(
            "A profile of Temporal's TOML client config (the file the `temporal` CLI reads); "
            "TEMPORAL_PROFILE wins. Its address, namespace, TLS and API key apply where "
            "neither the environment nor this section sets them."
        ),
    )
    config_file: str | None = Field(
        default=None,
        description=(
            "Path of that TOML file (relative to the project, `~` allowed); TEMPORAL_CONFIG_FILE "
            "wins; default Temporal's own (~/.config/temporalio/temporal.toml), read only "
            "when a profile is named."
        ),
    )
    tls: bool | None = Field(
        default=None,
        description=(
            "TLS to Temporal (TEMPORAL_TLS wins). Default: on when a certificate, a server "
            "name or an API key is set, else off. On with no server_ca_cert: the system's "
            "root certificates (Temporal Cloud)."
        ),
    )
    server_ca_cert: str | None = Field(
        default=None,
        description=(
            "Path of the CA certificate that signed the server's (PEM); "
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH wins."
        ),
    )
    server_name: str | None = Field(
        default=None,
        description=(
            "The name the server's certificate is checked against (and the TLS SNI), when it "
            "differs from the address's host; TEMPORAL_TLS_SERVER_NAME wins."
        ),
    )
    client_cert: str | None = Field(
        default=None,
        description=(
            "Path of the client certificate for mutual TLS (PEM); "
            "TEMPORAL_TLS_CLIENT_CERT_PATH wins. Needs client_key."
        ),
    )
    client_key: str | None = Field(
        default=None,
        description=(
            "Path of the client certificate's private key (PEM): the file is a secret, its "
            "path is not; TEMPORAL_TLS_CLIENT_KEY_PATH wins. Needs client_cert."
        ),
    )
    api_key_setting: str | None = Field(
        default=None,
        description=(
            "The setting (environment variable) holding the API key, e.g. TEMPORAL_API_KEY: "
            "required at connect time, and a Secret's key in a rendered deployment. "
            "TEMPORAL_API_KEY is read whenever it is set."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secrets(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for key, what in INLINE_SECRET_KEYS.items():
            if key in data:
                raise ValueError(
                    f"'{key}' would put {what} in .raw/config.yaml, and secrets never go in "
                    "the config file: "
                    + (
                        "set TEMPORAL_API_KEY in the environment (or a Secret) and, to "
                        "require it, name it here with api_key_setting: TEMPORAL_API_KEY"
                        if key == "api_key"
                        else "put it in a file (mounted from a Secret) and give the file's "
                        "path (server_ca_cert, client_cert, client_key)"
                    )
                )
        for key in _PATH_FIELDS:
            value = data.get(key)
            if isinstance(value, str) and ("-----BEGIN" in value or "\n" in value):
                what = "key material" if key == "client_key" else "a certificate's content"
                raise ValueError(
                    f"'{key}' holds {what}, not a path: secrets and certificates never go in "
                    "the config file; put it in a file (mounted from a Secret) and give the "
                    f"file's path as {key}"
                )
        return data

    @field_validator("api_key_setting")
    @classmethod
    def _setting_name(cls, value: str | None) -> str | None:
        if value is not None and not _SETTING.match(value):
            # Never echo the value: it may be the key itself, pasted in the wrong place.
            raise ValueError(
                "api_key_setting is the name of a setting such as 'TEMPORAL_API_KEY', not the "
                "key: put the key in that environment variable (or a Secret)"
            )
        return value

    @field_validator("profile")
    @classmethod
    def _profile(cls, value: str | None) -> str | None:
        if value is not None and not _PROFILE.match(value):
            raise ValueError(f"'{value}' is not a profile name such as 'prod'")
        return value

    @model_validator(mode="after")
    def _pairs(self) -> TemporalConnectionConfig:
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError(
                "mutual TLS needs both client_cert and client_key (paths to PEM files)"
            )
        if self.tls is False and self.secured_by_config:
            raise ValueError(
                "tls is false but certificates or an API key are set: they need TLS; "
                "remove tls: false, or the TLS settings"
            )
        return self

    @property
    def secured_by_config(self) -> bool:
        """Whether this section alone asks for TLS (a certificate, a name, an API key)."""
        return bool(
            self.server_ca_cert
            or self.server_name
            or self.client_cert
            or self.client_key
            or self.api_key_setting
        )

    @property
    def uses_tls(self) -> bool:
        """TLS as this section alone says (the environment and a profile may add it)."""
        return self.tls is True or (self.tls is None and self.secured_by_config)

    @property
    def names_profile(self) -> bool:
        return self.profile is not None or self.config_file is not None
