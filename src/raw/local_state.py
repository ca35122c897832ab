"""What the kit writes into a project that is local state, never part of the system.

One list for everything that must keep it out: the ``.gitignore`` of a new system,
the ``.dockerignore`` that ``raw deploy render`` writes, ``raw deploy check`` (which
fails when the build context would hold any of it) and copies of a project for tests.
What a project's own config moves elsewhere is added by
:meth:`raw.project.Project.local_state`.
A module that writes under ``.raw/`` takes its path from here, so a new kind of local
state cannot be added without being kept out of images and commits.

Patterns are ``.dockerignore`` patterns from the project's root (``*`` within a folder,
``**`` across folders); the same patterns, without ``.raw/``, serve ``.raw/.gitignore``,
where folders are anchored (``/mail/``) so that a workflow named ``chat`` or ``storage``
stays committed. ``.raw/histories`` is not local state: recorded histories are
committed test data.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from raw._records import FrozenRecord

__all__ = [
    "AUDIT_FILE",
    "LOCAL_STATE",
    "CALLS_FILE",
    "CHAT_OUTBOX",
    "DATABASE_FILE",
    "ENGINE_DIR",
    "GATES_DIR",
    "KIT_STATE",
    "LOCAL_ENV",
    "MAIL_DIR",
    "SECRET_FILES",
    "SERVICES_FILE",
    "SIMULATE_DIR",
    "STORAGE_DIR",
    "LocalState",
    "gitignore",
    "gitignore_lines",
    "raw_dir_entries",
]

RAW = ".raw"
LOCAL_ENV = "local.env"
"""Development secrets ``raw up`` writes (:mod:`raw.up.local_env`)."""
DATABASE_FILE = "coordinator.db"
"""The system's SQLite database when no other is configured."""
ENGINE_DIR = "temporal"
"""The embedded Temporal engine's database, ports, pid and log."""
GATES_DIR = "gates"
SIMULATE_DIR = "simulate"
MAIL_DIR = PurePosixPath(RAW, "mail")
CALLS_FILE = PurePosixPath(RAW, "calls", "calls.jsonl")
SERVICES_FILE = PurePosixPath(RAW, "integrations", "services.json")
STORAGE_DIR = PurePosixPath(RAW, "storage")
CHAT_OUTBOX = PurePosixPath(RAW, "chat", "outbox.jsonl")
AUDIT_FILE = PurePosixPath(RAW, "mcp", "audit.jsonl")


class LocalState(FrozenRecord):
    """One kind of local state: where it lies and what it holds, for messages.

    ``pattern`` is a ``.dockerignore`` pattern from the project's root; ``folder``, that
    it is a folder (``.raw/.gitignore`` anchors it and ends it with ``/``), not files.
    Frozen, with a dataclass's ``==``, hash and ``repr`` (:mod:`raw._records`: start-up).
    """

    __slots__ = ("pattern", "holds", "written_by", "folder")
    _fields = __slots__

    pattern: str
    holds: str
    written_by: str
    folder: bool

    def __init__(self, pattern: str, holds: str, written_by: str, folder: bool = True) -> None:
        self._set(pattern=pattern, holds=holds, written_by=written_by, folder=folder)

    @property
    def gitignore_line(self) -> str:
        """The pattern in ``.raw/.gitignore``: anchored there unless it names files anywhere."""
        inner = self.pattern.removeprefix(RAW + "/")
        if not inner.startswith("*") and "/" not in inner:
            inner = "/" + inner
        return inner + ("/" if self.folder else "")


KIT_STATE: tuple[LocalState, ...] = (
    LocalState(f"{RAW}/{LOCAL_ENV}", "development secrets", "raw up", folder=False),
    LocalState(f"{RAW}/up", "where the running raw up listens (pid, port, URLs)", "raw up"),
    LocalState(
        f"{RAW}/*.db", "a SQLite database (deliveries, processes, runs)", "raw up", folder=False
    ),
    LocalState(f"{RAW}/*.db-*", "a SQLite journal (-wal, -shm)", "raw up", folder=False),
    LocalState(f"{RAW}/{ENGINE_DIR}", "the embedded Temporal engine's histories", "raw up"),
    LocalState(str(SERVICES_FILE.parent), "the local integrations' state", "raw up"),
    LocalState(str(MAIL_DIR), "captured email", "the local mail catcher"),
    LocalState(str(CALLS_FILE.parent), "simulated calls", "the local phone simulator"),
    LocalState(str(STORAGE_DIR), "stored objects", "the local storage adapter"),
    LocalState(str(CHAT_OUTBOX.parent), "chat notifications", "the local chat adapter"),
    LocalState(f"{RAW}/{SIMULATE_DIR}", "simulation runs and their databases", "raw simulate"),
    LocalState(f"{RAW}/{GATES_DIR}", "gate runs and their logs", "raw gates"),
    LocalState(str(AUDIT_FILE.parent), "the audit log of agents' changing calls", "raw mcp"),
    LocalState(f"{RAW}/cache", "cached step results", "@cache"),
    LocalState(f"{RAW}/runs", "run records", "raw run"),
    LocalState(f"{RAW}/workflows/*/runs", "run records (params, outputs, logs)", "raw run"),
)
"""What the kit writes under ``.raw/`` by default."""

SECRET_FILES: tuple[LocalState, ...] = (
    LocalState(".env", "settings and secrets", "you"),
    LocalState("**/.env", "settings and secrets", "you"),
    LocalState("**/.env.*", "settings and secrets", "you"),
)
"""Files that hold secrets by convention, wherever they lie."""


LOCAL_STATE: dict[str, str] = {entry.gitignore_line: entry.holds for entry in KIT_STATE}
"""``.raw/.gitignore`` patterns (relative to ``.raw/``), each with what it keeps."""


def gitignore_lines() -> list[str]:
    """``.raw/.gitignore`` lines for the kit's local state (patterns inside ``.raw/``)."""
    return list(LOCAL_STATE)


def gitignore() -> str:
    """The ``.raw/.gitignore`` of a new project: every kind of local state, explained."""
    lines = [
        "# Local state of raw (runs, raw up, raw simulate, raw gates): never committed.",
        "# Email, calls, chat and stored objects caught locally may hold customer data.",
        "# (histories/ is committed: the temporal-validate gate replays it.)",
    ]
    for entry in KIT_STATE:  # git reads no comment after a pattern
        lines += [f"# {entry.holds} ({entry.written_by})", entry.gitignore_line]
    return "\n".join(lines) + "\n"


def raw_dir_entries() -> frozenset[str]:
    """Names directly under ``.raw/`` that are local state as a whole (files and folders)."""
    prefix = RAW + "/"
    return frozenset(
        entry.pattern.removeprefix(prefix)
        for entry in KIT_STATE
        if "/" not in entry.pattern.removeprefix(prefix) and "*" not in entry.pattern
    )
