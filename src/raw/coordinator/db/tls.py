"""Why a TLS connection to PostgreSQL failed, said as the setting to change.

libpq's messages are accurate but name neither our settings nor the fix
("SSL error: certificate verify failed"). :func:`explain` reads one, with the
URL it was for, and returns what went wrong and which setting fixes it, or None
when the failure has nothing to do with TLS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from raw.config.database import tls_setting

__all__ = ["TLSProblem", "explain"]

WHERE = (
    "DATABASE_URL's query, system.coordinator.database_tls.{name} in .raw/config.yaml, "
    "or {variable}"
)
_MISMATCH = re.compile(
    r'server certificate for "([^"]*)"( \(and \d+ other names?\))? does not match host name '
    r'"([^"]*)"'
)
_ROOT_MISSING = re.compile(r'root certificate file "([^"]*)" does not exist')
_DEFAULT_ROOT = "~/.postgresql/root.crt (libpq's default)"


@dataclass(frozen=True)
class TLSProblem:
    """One TLS failure: what went wrong, the setting to change, and how."""

    reason: str
    setting: str
    fix: str


def _where(name: str) -> str:
    return WHERE.format(name=name, variable="PG" + name.upper())


def explain(text: str, url: str, environ: Mapping[str, str] | None = None) -> TLSProblem | None:
    """The TLS problem libpq's error ``text`` reports for ``url``, or None."""
    low = text.lower()
    mode = tls_setting(url, "sslmode", environ)[0] or "prefer"
    root = tls_setting(url, "sslrootcert", environ)[0]
    match = _MISMATCH.search(text)
    if match:
        names = f"'{match.group(1)}'" + (match.group(2) or "")
        return TLSProblem(
            f"the server's certificate is issued for {names}, not for '{match.group(3)}', "
            "the host the URL connects to",
            "host",
            "Connect to a host name the certificate names (the host in DATABASE_URL), or set "
            "sslmode=verify-ca to check the CA's signature without the name.",
        )
    match = _ROOT_MISSING.search(text)
    if match:
        return TLSProblem(
            f"sslmode={mode} checks the server's certificate, but the CA file "
            f"sslrootcert={match.group(1)} does not exist",
            "sslrootcert",
            "Set sslrootcert to the file of the CA certificate that signed the server's "
            f"(in {_where('sslrootcert')}), or sslrootcert=system for the system's trusted CAs.",
        )
    if "certificate verify failed" in low:
        signer = (
            "any of the system's trusted CAs (sslrootcert=system)"
            if root == "system"
            else f"the CA in sslrootcert={root or _DEFAULT_ROOT}"
        )
        return TLSProblem(
            f"the server's certificate is not signed by {signer}",
            "sslrootcert",
            "Set sslrootcert to the CA certificate that signed the server's (your provider's "
            f"CA bundle) in {_where('sslrootcert')}.",
        )
    if "server does not support ssl" in low:
        return TLSProblem(
            f"sslmode={mode} needs TLS, but the server does not offer it",
            "sslmode",
            "Turn ssl on in the server's settings; only for a database on this machine, set "
            f"sslmode=prefer (in {_where('sslmode')}).",
        )
    if "pg_hba.conf" in low and "no encryption" in low:  # no entry for it, or one rejecting it
        return TLSProblem(
            "the server takes only encrypted connections from this host, and this one was not",
            "sslmode",
            f"Set sslmode=verify-full with sslrootcert (or at least sslmode=require) in "
            f"{_where('sslmode')}.",
        )
    if any(
        words in low
        for words in (
            "requires a valid client certificate",
            "certificate authentication failed",
            "certificate required",
        )
    ):
        return TLSProblem(
            "the server asks for a client certificate, and none it accepts was sent",
            "sslcert",
            "Set sslcert and sslkey to a client certificate signed by the CA the server "
            f"trusts, issued for the database user (in {_where('sslcert')}, and sslkey alike).",
        )
    for words in (
        "could not open certificate file",
        "could not load private key file",
        "certificate present, but not private key file",
        "private key file",
        "could not read certificate file",
    ):
        if words in low:
            line = next(line for line in text.splitlines() if words in line.lower())
            detail = line.split("failed: ", 1)[-1].strip().rstrip(".")
            return TLSProblem(
                f"the client certificate cannot be used: {detail}",
                "sslkey" if "key" in words else "sslcert",
                "Point sslcert and sslkey at the certificate and its key; the key file must "
                "belong to the user running RAW and be readable by it alone (chmod 0600).",
            )
    return None
