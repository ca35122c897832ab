"""``system.coordinator.database_tls``: how the coordinator's PostgreSQL connections use TLS.

A managed PostgreSQL (RDS, Cloud SQL, Azure, Neon, ...) takes TLS connections and
names the CA that signed its certificate. libpq's own settings say how to use it,
and psycopg reads them from the URL's query (``DATABASE_URL``), so they are the
settings here too, with libpq's names and meanings:

    system:
      coordinator:
        database_tls:
          sslmode: verify-full                # or disable, prefer, require, verify-ca...
          sslrootcert: certs/db-ca.pem        # the CA's certificate (from the project's root)
          sslcert: /etc/raw/db-client/tls.crt # a client certificate, when the server asks for one
          sslkey: /etc/raw/db-client/tls.key

The same settings in ``DATABASE_URL``'s query
(``postgresql://app@db.example.com/app?sslmode=verify-full&sslrootcert=/certs/ca.pem``)
and libpq's variables (``PGSSLMODE``, ``PGSSLROOTCERT``, ``PGSSLCERT``, ``PGSSLKEY``)
work as they do for ``psql``. The URL's query and the config win over the variables;
given in both the URL and the config, ``sslmode`` takes the stricter of the two and a
file with two different values is refused rather than silently chosen. Every part
that opens the database (the app, ``raw dispatcher``, ``raw db``, the run index,
migrations) uses the URL :func:`with_tls` builds, so all of them connect alike.

Pure string work: no driver and no SQLAlchemy are loaded here.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, quote, urlsplit

from pydantic import Field

from raw.config._base import Strict

__all__ = [
    "SSL_MODES",
    "TLS_SETTINGS",
    "DatabaseTLSConfig",
    "TLSConflictError",
    "effective_sslmode",
    "encrypts",
    "is_local_database",
    "tls_setting",
    "url_password",
    "with_tls",
]

SSLMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
SSL_MODES: tuple[str, ...] = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
"""libpq's modes, weakest first: from ``require`` on, every connection is encrypted."""

TLS_SETTINGS = ("sslmode", "sslrootcert", "sslcert", "sslkey")
"""The settings the config may give, by their libpq (and URL query) names."""

ENVIRONMENT = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
}
"""The variables libpq reads for a setting neither the URL nor the config gives."""

_FILES = ("sslrootcert", "sslcert", "sslkey")
_LOCAL_HOSTS = {"", "localhost", "postgres"}


class DatabaseTLSConfig(Strict):
    """TLS of the coordinator's PostgreSQL connections, with libpq's names."""

    sslmode: SSLMode | None = Field(
        default=None,
        description=(
            "libpq's sslmode: disable, allow, prefer, require (encrypted, certificate not "
            "checked), verify-ca (signed by sslrootcert's CA) or verify-full (and issued "
            "for the URL's host name). Default: DATABASE_URL's, else PGSSLMODE, else prefer."
        ),
    )
    sslrootcert: str | None = Field(
        default=None,
        description=(
            "File of the CA certificate(s) the server's certificate must be signed by "
            "(relative paths from the project's root), or 'system' for the system's CAs."
        ),
    )
    sslcert: str | None = Field(
        default=None,
        description="A client certificate file, for a server that asks for one (mTLS).",
    )
    sslkey: str | None = Field(
        default=None,
        description=(
            "The client certificate's private key file (mode 0600); the key itself never "
            "goes in the config."
        ),
    )
    allow_unencrypted: bool = Field(
        default=False,
        description=(
            "Let `raw deploy check` pass a database on another host with an sslmode "
            "below require (a private network you trust)."
        ),
    )

    def settings(self, base_dir: Path | None = None) -> dict[str, str]:
        """The settings given, by libpq name; relative file paths resolved from ``base_dir``."""
        found: dict[str, str] = {}
        for name in TLS_SETTINGS:
            value = getattr(self, name)
            if value is None:
                continue
            if name in _FILES and value != "system" and base_dir is not None:
                path = Path(value).expanduser()
                value = str(path if path.is_absolute() else base_dir / path)
            found[name] = value
        return found


class TLSConflictError(ValueError):
    """A certificate file given twice, with different values, in the URL and in the config."""

    def __init__(self, name: str, in_url: str, in_config: str) -> None:
        self.name = name
        self.in_url = in_url
        self.in_config = in_config
        super().__init__(
            f"{name} is '{in_url}' in the URL's query but '{in_config}' in "
            f"system.coordinator.database_tls.{name}: give it in one place"
        )


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(url.partition("?")[2], keep_blank_values=True))


def _postgres(url: str) -> bool:
    return url.strip().lower().startswith("postgres")


def with_tls(url: str, tls: DatabaseTLSConfig | None, base_dir: Path | None = None) -> str:
    """``url`` with the config's TLS settings added to its query (PostgreSQL URLs only).

    ``sslmode`` in both becomes the stricter one; a file setting in both with two values
    raises :class:`TLSConflictError`.
    """
    if tls is None or not _postgres(url):
        return url
    query = _query(url)
    added = []
    for name, value in tls.settings(base_dir).items():
        if name == "sslmode" and name in query and query[name] in SSL_MODES:
            if SSL_MODES.index(value) > SSL_MODES.index(query[name]):
                url = _replace(url, name, value)  # the stricter of the two, never the weaker
            continue
        if name in query:
            if query[name] != value:
                raise TLSConflictError(name, query[name], value)
            continue
        added.append(f"{name}={quote(value, safe='/:~.-_')}")
    if not added:
        return url
    sep = "&" if "?" in url else "?"
    return url + sep + "&".join(added)


def _replace(url: str, name: str, value: str) -> str:
    base, _, query = url.partition("?")
    pairs = [
        f"{name}={quote(value, safe='/:~.-_')}" if part.partition("=")[0] == name else part
        for part in query.split("&")
    ]
    return f"{base}?{'&'.join(pairs)}"


def tls_setting(
    url: str, name: str, environ: Mapping[str, str] | None = None
) -> tuple[str | None, str]:
    """A TLS setting's value as libpq will use it, and where it comes from.

    The URL's query first, then libpq's variable (``PGSSLMODE``...): the config's
    settings are in the URL already once :func:`with_tls` has made it.
    """
    query = _query(url)
    if name in query:
        return query[name], f"{name} in the database URL"
    env = os.environ if environ is None else environ
    variable = ENVIRONMENT.get(name)
    if variable and env.get(variable):
        return env[variable], variable
    return None, f"{name} (not set)"


def effective_sslmode(url: str, environ: Mapping[str, str] | None = None) -> str:
    """The sslmode libpq will use for ``url``: the URL's, else ``PGSSLMODE``, else prefer."""
    mode, _ = tls_setting(url, "sslmode", environ)
    return mode or "prefer"


def encrypts(sslmode: str) -> bool:
    """Whether every connection in ``sslmode`` is encrypted (``require`` and above)."""
    return sslmode in ("require", "verify-ca", "verify-full")


def _host(url: str) -> str:
    hosts = _query(url).get("host") or _query(url).get("hostaddr")
    if hosts:
        return hosts.split(",")[0]
    try:
        return urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""


def is_local_database(url: str) -> bool:
    """Whether ``url`` names a database on this machine or in this Compose project.

    A Unix socket, a loopback address, ``localhost`` or Compose's own ``postgres``
    service: traffic that never crosses a network someone else runs.
    """
    host = _host(url).strip("[]").lower()
    if host.startswith("/") or host in _LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_password(url: str) -> str | None:
    """The password written in ``url``'s userinfo or query, if any (to refuse it in a file)."""
    try:
        parts = urlsplit(url.strip())
        password = parts.password
    except ValueError:
        return None
    if password and not password.startswith("$"):  # ${VAR} / $(VAR) is a reference, not a value
        return password
    query = _query(url)
    value = query.get("password") or query.get("sslpassword")
    return value or None
