"""TLS, mutual TLS and API key for the kit's Temporal clients, as Temporal's own tools read them.

Three layers, each setting taken from the first that has it:

1. the environment: the standard ``TEMPORAL_*`` client settings, read by
   ``temporalio.envconfig`` exactly as the ``temporal`` CLI reads them
   (``TEMPORAL_API_KEY``, ``TEMPORAL_TLS``, ``TEMPORAL_TLS_SERVER_CA_CERT_PATH`` /
   ``_DATA``, ``TEMPORAL_TLS_SERVER_NAME``, ``TEMPORAL_TLS_CLIENT_CERT_PATH`` / ``_DATA``,
   ``TEMPORAL_TLS_CLIENT_KEY_PATH`` / ``_DATA``, ``TEMPORAL_GRPC_META_*``);
2. ``system.orchestrator.connection`` (:mod:`raw.config.temporal`): paths and names,
   never a secret;
3. a profile of Temporal's TOML client config, read only when one is named
   (``TEMPORAL_PROFILE``, ``TEMPORAL_CONFIG_FILE``, or the section's ``profile`` /
   ``config_file``), so a profile in the user's home never redirects a project that
   did not ask for it.

Every value keeps the name of the setting it came from, so an error can say which
one to fix. Secrets (the API key, key material) are never in a repr, a description
or an error message. :func:`refused` turns the SDK's connection failures into one
:class:`TemporalSecurityError` that names that setting.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raw.errors import ConfigError, ServiceUnreachableError

if TYPE_CHECKING:
    from temporalio.envconfig import ClientConfigProfile
    from temporalio.service import TLSConfig

    from raw.config.orchestrator import OrchestratorConfig

__all__ = [
    "Secured",
    "Security",
    "TemporalProfileError",
    "TemporalSecurityError",
    "TemporalUnavailableError",
    "Value",
    "load_profile",
    "refused",
    "resolve_security",
]

CONFIG = "system.orchestrator.connection"
ENV_CA = "TEMPORAL_TLS_SERVER_CA_CERT"
ENV_CERT = "TEMPORAL_TLS_CLIENT_CERT"
ENV_KEY = "TEMPORAL_TLS_CLIENT_KEY"


class TemporalUnavailableError(ServiceUnreachableError):
    """No Temporal server to connect to, or it does not answer (exit code 4)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class TemporalSecurityError(TemporalUnavailableError):
    """Temporal refused the connection's credentials, or one cannot be read.

    A ``TemporalUnavailableError`` (exit code 4; the coordinator answers 503 and the
    dispatcher waits it out, spending no attempts): the kit cannot use Temporal until
    ``setting``, which the message names, is fixed.
    """

    def __init__(self, message: str, *, setting: str, address: str) -> None:
        self.setting = setting
        self.address = address
        super().__init__(message)


class TemporalProfileError(ConfigError):
    """Temporal's TOML client config cannot be read, or has no such profile (exit code 2)."""


@dataclass(frozen=True)
class Value:
    """One setting's value and the name of the setting it came from."""

    setting: str
    """E.g. 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'system.orchestrator.connection.client_key'."""
    path: Path | None = None
    data: bytes | None = field(default=None, repr=False)
    text: str | None = None

    def read(self, *, what: str, address: str) -> bytes:
        """The file's bytes (or the inline data from the environment)."""
        if self.data is not None:
            return self.data
        assert self.path is not None
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise TemporalSecurityError(
                f"Cannot read {what} for Temporal at {address}: {self.path} "
                f"({exc.strerror}), from {self.setting}. Set {self.setting} to a readable "
                "PEM file.",
                setting=self.setting,
                address=address,
            ) from None

    def describe(self) -> str:
        where = str(self.path) if self.path is not None else "inline data"
        return f"{where} (from {self.setting})" if self.text is None else self.text


@dataclass(frozen=True)
class Security:
    """How one connection to Temporal is secured: TLS files, server name, API key."""

    tls: bool = False
    tls_from: str | None = None
    server_ca_cert: Value | None = None
    server_name: Value | None = None
    client_cert: Value | None = None
    client_key: Value | None = None
    api_key: str | None = field(default=None, repr=False)
    api_key_from: str | None = None
    rpc_metadata: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def mutual(self) -> bool:
        return self.client_cert is not None

    def describe(self) -> dict[str, Any]:
        """What ``raw`` may print: where each setting comes from, never a secret."""
        return {
            "tls": self.tls,
            "server_ca_cert": self.server_ca_cert.describe() if self.server_ca_cert else None,
            "server_name": self.server_name.text if self.server_name else None,
            "client_cert": self.client_cert.describe() if self.client_cert else None,
            "client_key": self.client_key.describe() if self.client_key else None,
            "api_key": f"set (from {self.api_key_from})" if self.api_key else None,
        }

    def connect_kwargs(self, address: str) -> dict[str, Any]:
        """Keyword arguments for ``Client.connect``: ``tls``, ``api_key``, ``rpc_metadata``."""
        # Lazy: raw.orchestrator.connect loads this module; the SDK's TLS types only here.
        from temporalio.service import TLSConfig

        kwargs: dict[str, Any] = {}
        if self.rpc_metadata:
            kwargs["rpc_metadata"] = dict(self.rpc_metadata)
        if self.api_key is not None:
            kwargs["api_key"] = self.api_key
        if not self.tls:
            kwargs["tls"] = False
            return kwargs
        tls: TLSConfig = TLSConfig(
            server_root_ca_cert=(
                self.server_ca_cert.read(what="the server CA certificate", address=address)
                if self.server_ca_cert
                else None
            ),
            domain=self.server_name.text if self.server_name else None,
            client_cert=(
                self.client_cert.read(what="the client certificate", address=address)
                if self.client_cert
                else None
            ),
            client_private_key=(
                self.client_key.read(what="the client key", address=address)
                if self.client_key
                else None
            ),
        )
        kwargs["tls"] = tls
        return kwargs


@dataclass(frozen=True)
class Secured:
    """The address, namespace and security the three layers give (any may be None)."""

    address: str | None
    address_from: str | None
    namespace: str | None
    namespace_from: str | None
    security: Security


def _env_profile(env: Mapping[str, str]) -> ClientConfigProfile:
    # Lazy: the SDK's loader (its Rust bridge) only for clients that connect.
    from temporalio.envconfig import ClientConfigProfile

    return ClientConfigProfile.load(disable_file=True, override_env_vars=dict(env))


def load_profile(
    config: OrchestratorConfig, *, root: Path | None, env: Mapping[str, str]
) -> tuple[ClientConfigProfile, str] | None:
    """The named profile of Temporal's TOML file and a label for it; None when none is named."""
    connection = config.connection
    name = env.get("TEMPORAL_PROFILE") or connection.profile
    file_setting = "TEMPORAL_CONFIG_FILE" if env.get("TEMPORAL_CONFIG_FILE") else None
    file_text = env.get("TEMPORAL_CONFIG_FILE") or connection.config_file
    if file_setting is None and file_text is not None:
        file_setting = f"{CONFIG}.config_file"
    if name is None and file_text is None:
        return None
    # Lazy: the SDK's loader (its Rust bridge) only for clients that connect.
    from temporalio.envconfig import ClientConfigProfile

    path: Path | None = None
    if file_text is not None:
        path = Path(file_text).expanduser()
        if not path.is_absolute() and root is not None and file_setting != "TEMPORAL_CONFIG_FILE":
            path = root / path
        if not path.is_file():
            raise TemporalProfileError(
                f"Temporal's client config file {path} (from {file_setting}) does not exist. "
                f"Set {file_setting} to the TOML file that holds the profile."
            )
    label = f"profile '{name or 'default'}'" + (f" of {path}" if path else "")
    try:
        profile = ClientConfigProfile.load(
            profile=name, config_source=path, disable_env=True, config_file_strict=True
        )
    except Exception as exc:  # the bridge's ConfigError, not importable by name
        text = str(exc)
        where = re.search(r"line \d+, column \d+", text)
        if where is not None:  # never quote the file: it may hold an API key
            reason = f"it is not valid TOML ({where.group(0)})"
        elif "not found" in text:
            reason = "it has no such profile"
        else:
            reason = "it could not be read"
        setting = "TEMPORAL_PROFILE" if env.get("TEMPORAL_PROFILE") else f"{CONFIG}.profile"
        raise TemporalProfileError(
            f"Temporal's client config {label} cannot be used: {reason}. Fix the file, or "
            f"set {setting} (or {file_setting or 'TEMPORAL_CONFIG_FILE'}) to one that exists."
        ) from None
    return profile, label


def _source(raw: Any, setting: str, label: str) -> Value | None:
    """A TLS file setting of a loaded profile (a Path, or data) as a Value."""
    if raw is None:
        return None
    if isinstance(raw, Path):
        return Value(f"{setting}_PATH" if label == "env" else setting, path=raw)
    data = raw.encode() if isinstance(raw, str) else bytes(raw)
    return Value(f"{setting}_DATA" if label == "env" else setting, data=data)


def _config_path(value: str | None, key: str, root: Path | None) -> Value | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute() and root is not None:
        path = root / path
    return Value(f"{CONFIG}.{key}", path=path)


def resolve_security(
    config: OrchestratorConfig, *, root: Path | None, env: Mapping[str, str] | None = None
) -> Secured:
    """Address, namespace and security from the environment, the config, then the profile."""
    env = os.environ if env is None else env
    connection = config.connection
    loaded = load_profile(config, root=root, env=env)
    from_env = _env_profile(env)
    profile, label = loaded if loaded is not None else (None, "")
    p_tls = profile.tls if profile is not None else None
    e_tls = from_env.tls

    def first(*values: Value | None) -> Value | None:
        return next((v for v in values if v is not None), None)

    server_ca = first(
        _source(e_tls.server_root_ca_cert if e_tls else None, ENV_CA, "env"),
        _config_path(connection.server_ca_cert, "server_ca_cert", root),
        _source(p_tls.server_root_ca_cert if p_tls else None, f"{label} tls.server_ca_cert", ""),
    )
    client_cert = first(
        _source(e_tls.client_cert if e_tls else None, ENV_CERT, "env"),
        _config_path(connection.client_cert, "client_cert", root),
        _source(p_tls.client_cert if p_tls else None, f"{label} tls.client_cert", ""),
    )
    client_key = first(
        _source(e_tls.client_private_key if e_tls else None, ENV_KEY, "env"),
        _config_path(connection.client_key, "client_key", root),
        _source(p_tls.client_private_key if p_tls else None, f"{label} tls.client_key", ""),
    )
    server_name = None
    for text, setting in (
        (e_tls.server_name if e_tls else None, "TEMPORAL_TLS_SERVER_NAME"),
        (connection.server_name, f"{CONFIG}.server_name"),
        (p_tls.server_name if p_tls else None, f"{label} tls.server_name"),
    ):
        if text:
            server_name = Value(setting, text=text)
            break

    address, address_from = None, None
    if env.get("TEMPORAL_ADDRESS"):
        address, address_from = env["TEMPORAL_ADDRESS"], "TEMPORAL_ADDRESS"
    elif config.address:
        address, address_from = config.address, "config"
    elif profile is not None and profile.address:
        address, address_from = profile.address, label
    api_key: str | None = None
    api_key_from: str | None = None
    named = connection.api_key_setting
    for value, key_from in (
        (env.get(named) if named else None, named),
        (from_env.api_key, "TEMPORAL_API_KEY"),
        (profile.api_key if profile else None, f"{label} api_key"),
    ):
        if value:
            api_key, api_key_from = value, key_from
            break
    tls: bool | None = None
    tls_from: str | None = None
    for disabled, setting in (
        (e_tls.disabled if e_tls else None, "TEMPORAL_TLS"),
        (None if connection.tls is None else not connection.tls, f"{CONFIG}.tls"),
        (p_tls.disabled if p_tls else None, f"{label} tls"),
    ):
        if disabled is not None:
            tls, tls_from = not disabled, setting
            break
    if named and api_key is None and address is not None and tls is not False:
        # TLS turned off (a deployment's own Temporal): no key is needed there.
        raise TemporalSecurityError(
            f"{CONFIG}.api_key_setting names {named}, but {named} is not set: set it to the "
            "Temporal API key (from your secret store), or remove api_key_setting.",
            setting=named,
            address=address,
        )

    if tls is None:
        # As Temporal's tools: a certificate, a name or an API key means TLS.
        implied = [v.setting for v in (server_ca, client_cert, client_key, server_name) if v]
        implied += [api_key_from] if api_key_from else []
        tls = bool(implied)
        tls_from = implied[0] if implied else None

    namespace, namespace_from = None, None
    if from_env.namespace:
        namespace, namespace_from = from_env.namespace, "TEMPORAL_NAMESPACE"
    elif profile is not None and profile.namespace:
        namespace, namespace_from = profile.namespace, label

    metadata = {**(profile.grpc_meta if profile else {}), **from_env.grpc_meta}
    return Secured(
        address=address,
        address_from=address_from,
        namespace=namespace,
        namespace_from=namespace_from,
        security=Security(
            tls=tls,
            tls_from=tls_from,
            server_ca_cert=server_ca,
            server_name=server_name,
            client_cert=client_cert,
            client_key=client_key,
            api_key=api_key,
            api_key_from=api_key_from,
            rpc_metadata=metadata,
        ),
    )


# --- the SDK's failures, named -----------------------------------------------------------

_CONFIG_NAMES = {
    ENV_CA: "server_ca_cert",
    ENV_CERT: "client_cert",
    ENV_KEY: "client_key",
    "TEMPORAL_TLS_SERVER_NAME": "server_name",
    "TEMPORAL_TLS": "tls",
}


def _or_config(env_name: str) -> str:
    """'TEMPORAL_TLS_SERVER_CA_CERT_PATH (or system.orchestrator.connection.server_ca_cert)'."""
    key = _CONFIG_NAMES[env_name]
    shown = env_name + ("_PATH" if env_name in (ENV_CA, ENV_CERT, ENV_KEY) else "")
    return f"{shown} (or {CONFIG}.{key})"


_AFTER_CONNECT = ("call error after connection", "transport error", "connection closed")
_CLOSED = ("UnexpectedEof", "ConnectionReset", "BrokenPipe", "close_notify", "connection closed")


def refused(
    exc: BaseException, *, address: str, security: Security
) -> TemporalSecurityError | None:
    """The setting to fix, when ``exc`` (the SDK's connect failure) is a TLS or key refusal."""
    text = str(exc)

    def error(message: str, setting: str) -> TemporalSecurityError:
        return TemporalSecurityError(
            f"Temporal at {address} refused the connection: {message}",
            setting=setting,
            address=address,
        )

    if "UnknownIssuer" in text or "BadSignature" in text:
        if security.server_ca_cert is not None:
            setting = security.server_ca_cert.setting
            return error(
                "its certificate is not signed by the CA in "
                f"{security.server_ca_cert.describe()}. Set {setting} to the CA certificate "
                "that signed the server's.",
                setting,
            )
        return error(
            "the system's root certificates do not trust its certificate. Set "
            f"{_or_config(ENV_CA)} to the CA certificate that signed the server's.",
            ENV_CA + "_PATH",
        )
    if "NotValidForName" in text:
        name = security.server_name
        if name is None:
            return error(
                "its certificate is not valid for the address's host name. Set "
                f"{_or_config('TEMPORAL_TLS_SERVER_NAME')} to a name the certificate holds.",
                "TEMPORAL_TLS_SERVER_NAME",
            )
        return error(
            f"its certificate is not valid for the name '{name.text}' (from {name.setting}). "
            f"Set {name.setting} to a name the certificate holds.",
            name.setting,
        )
    if "Expired" in text or "NotValidYet" in text:
        return error(
            "a certificate is out of its validity period (expired or not yet valid). Renew it.",
            (security.client_cert.setting if security.client_cert else ENV_CA + "_PATH"),
        )
    if "Unauthenticated" in text:
        if security.api_key is not None:
            setting = security.api_key_from or "TEMPORAL_API_KEY"
            return error(
                f"the API key from {setting} was not accepted (wrong, expired or revoked). "
                f"Set {setting} to a valid API key for this namespace.",
                setting,
            )
        return error(
            "it requires credentials and none were given. Set TEMPORAL_API_KEY to an API key, "
            f"or use a client certificate: {_or_config(ENV_CERT)} and {_or_config(ENV_KEY)}.",
            "TEMPORAL_API_KEY",
        )
    if "PermissionDenied" in text:
        setting = security.api_key_from or (
            security.client_cert.setting if security.client_cert else "TEMPORAL_API_KEY"
        )
        return error(
            f"the credentials from {setting} may not use this namespace. Give them access to "
            "it, or set TEMPORAL_NAMESPACE (or system.orchestrator.namespace) to one they may use.",
            setting,
        )
    if any(marker in text for marker in ("InvalidContentType", "CorruptMessage")) and security.tls:
        return error(
            f"it does not speak TLS, but TLS is on (from {security.tls_from}). Point the "
            f"address at its TLS port, or set TEMPORAL_TLS=false (or {CONFIG}.tls: false) "
            "and remove the TLS settings.",
            security.tls_from or "TEMPORAL_TLS",
        )
    if any(marker in text for marker in _AFTER_CONNECT) and any(m in text for m in _CLOSED):
        if not security.tls:
            return error(
                "it closed the connection at once, as a server that requires TLS does. Set "
                f"TEMPORAL_TLS=true (or {CONFIG}.tls: true), and the CA that signed its "
                f"certificate unless it is publicly trusted: {_or_config(ENV_CA)}.",
                "TEMPORAL_TLS",
            )
        if security.client_cert is None:
            return error(
                "it closed the TLS connection: it requires a client certificate (mutual TLS). "
                f"Set {_or_config(ENV_CERT)} and {_or_config(ENV_KEY)}.",
                ENV_CERT + "_PATH",
            )
        setting = security.client_cert.setting
        return error(
            f"it did not accept the client certificate {security.client_cert.describe()}: "
            "it is not signed by a CA the server trusts, or does not match its key. Set "
            f"{setting} to a certificate the server accepts.",
            setting,
        )
    return None
