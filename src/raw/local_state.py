"""What a project's ``.raw/`` holds that is local state: never committed, never copied.

One list, read by every place that must know it: the ``.raw/.gitignore`` that
``raw init`` and ``raw new system`` write, :func:`raw.testing.projects.copy_project`,
and the tests that hold the examples' ``.gitignore`` files and the folders the
kit's parts write (``MAIL_DIR``, ``ENGINE_DIR``, ...) against it. Captured email,
calls, chat messages and stored objects hold customer data: a ``git add -A`` after
``raw up`` must not commit them.
"""

from __future__ import annotations

__all__ = ["LOCAL_STATE", "gitignore", "names"]

LOCAL_STATE: dict[str, str] = {
    "/local.env": "raw up's development secrets",
    "/up/": "where the running raw up listens (its pid, port and URLs)",
    "*.db": "SQLite databases: the coordinator's and the run index",
    "*.db-*": "their journals",
    "/cache/": "@cache's step results and the parsed config",
    "/runs/": "run records, when runs_dir is set to it",
    "workflows/*/runs/": "each workflow's run records",
    "/temporal/": "the embedded Temporal engine's database and log",
    "/integrations/": "where the local services listen (services.json)",
    "/mail/": "email the SMTP catcher kept",
    "/calls/": "calls the phone simulator placed",
    "/chat/": "the local chat outbox",
    "/storage/": "objects the local storage adapter stored",
    "/simulate/": "raw simulate's runs",
    "/gates/": "raw gates' logs and findings",
}
"""``.gitignore`` patterns, relative to ``.raw/``, each with what it keeps.

Folders are anchored (``/mail/``): a workflow named ``chat`` stays committed."""


def names() -> frozenset[str]:
    """The entries of ``.raw/`` itself that are local state (``mail``, ``local.env``, ...)."""
    return frozenset(p.strip("/") for p in LOCAL_STATE if "*" not in p)


def gitignore() -> str:
    """The ``.raw/.gitignore`` of a new project."""
    lines = [
        "# Local state of raw (runs, raw up, raw simulate, raw gates): never committed.",
        "# Email, calls, chat and stored objects caught locally may hold customer data.",
        "# (histories/ is committed: the temporal-validate gate replays it.)",
    ]
    for pattern, what in LOCAL_STATE.items():  # git reads no comment after a pattern
        lines += [f"# {what}", pattern]
    return "\n".join(lines) + "\n"
