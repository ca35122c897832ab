"""`raw up`'s cheap check: a SQLite database at its migrations' heads, read without Alembic."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from alembic import command

from raw.coordinator.db.database import Database, head_revision, upgrade
from raw.coordinator.db.heads import script_head, sqlite_at_head, sqlite_file_of
from raw.coordinator.db.system_migrations import upgrade_system
from raw.project import Project as RawProject

if TYPE_CHECKING:
    from conftest import Project

ENV_PY = """
from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection)
with context.begin_transaction():
    context.run_migrations()
"""

REVISION = '''
"""{name}."""
import sqlalchemy as sa
from alembic import op

revision: str = "{name}"
down_revision = {down}


def upgrade() -> None:
    op.create_table("{name}", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("{name}")
'''


def _revision(versions: Path, name: str, down: str | None) -> None:
    versions.mkdir(parents=True, exist_ok=True)
    text = REVISION.format(name=name, down=repr(down))
    (versions / f"{name}.py").write_text(textwrap.dedent(text), encoding="utf-8")


def _system(project: Project) -> Path:
    """A system with its own Alembic folder holding one revision, sys_a."""
    folder = project.root / "db" / "migrations"
    folder.mkdir(parents=True)
    (folder / "env.py").write_text(ENV_PY, encoding="utf-8")
    _revision(folder / "versions", "sys_a", None)
    (project.root / ".raw" / "config.yaml").write_text(
        "version: 1\nsystem:\n  coordinator:\n    migrations: db/migrations\n", encoding="utf-8"
    )
    return folder


def _url(project: Project) -> str:
    return f"sqlite+aiosqlite:///{project.root / '.raw' / 'coordinator.db'}"


def _migrate(url: str, project: Project, *, revision: str = "head") -> None:
    async def run() -> None:
        async with Database(url) as db:
            await upgrade(db, revision=revision)
            await upgrade_system(db, RawProject(project.root))

    asyncio.run(run())


def test_the_kits_head_read_from_the_files_is_alembics() -> None:
    versions = Path(__file__).parents[2] / "src" / "raw" / "coordinator" / "db" / "migrations"
    assert script_head(versions / "versions") == head_revision() == "0002"


def test_a_branch_or_an_unreadable_revision_file_makes_it_unsure(tmp_path: Path) -> None:
    _revision(tmp_path, "r1", None)
    _revision(tmp_path, "r2", "r1")
    assert script_head(tmp_path) == "r2"
    _revision(tmp_path, "r3", "r1")  # two heads
    assert script_head(tmp_path) is None
    (tmp_path / "r3.py").unlink()
    (tmp_path / "odd.py").write_text("revision = make_one()\ndown_revision = 'r2'\n")
    assert script_head(tmp_path) is None
    assert script_head(tmp_path / "missing") is None


def test_only_a_plain_sqlite_file_url_is_read() -> None:
    assert sqlite_file_of("sqlite+aiosqlite:////abs/c.db") == Path("/abs/c.db")
    assert sqlite_file_of("sqlite:///rel.db") == Path("rel.db")
    assert sqlite_file_of("sqlite+aiosqlite:///:memory:") is None
    assert sqlite_file_of("sqlite:////abs/c.db?mode=ro") is None
    assert sqlite_file_of("postgresql+psycopg://u:p@h/db") is None


def test_due_until_both_the_kit_and_the_system_are_at_head(project: Project) -> None:
    folder = _system(project)
    url = _url(project)
    raw_project = RawProject(project.root)
    assert not sqlite_at_head(url, raw_project)  # no file yet: a fresh database
    _migrate(url, project, revision="0001")
    assert not sqlite_at_head(url, raw_project)  # the kit's tables one revision behind
    _migrate(url, project)
    assert sqlite_at_head(url, raw_project)
    _revision(folder / "versions", "sys_b", "sys_a")  # the system ships a new revision
    assert not sqlite_at_head(url, RawProject(project.root))
    _migrate(url, project)
    assert sqlite_at_head(url, RawProject(project.root))
    path = project.root / ".raw" / "coordinator.db"
    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"sys_a", "sys_b", "raw_inbox"} <= tables


def test_a_file_that_is_not_a_migrated_database_is_due(project: Project) -> None:
    path = project.root / ".raw" / "coordinator.db"
    sqlite3.connect(path).close()  # an empty database: no version table
    assert not sqlite_at_head(_url(project), RawProject(project.root))
    path.write_bytes(b"not a database at all" * 100)
    assert not sqlite_at_head(_url(project), RawProject(project.root))


def test_a_warm_check_loads_neither_sqlalchemy_nor_alembic(project: Project) -> None:
    _system(project)
    _migrate(_url(project), project)
    code = (
        "import sys\n"
        "from raw.coordinator.db.heads import sqlite_at_head\n"
        "import raw.coordinator.db.urls\n"
        "from pathlib import Path\nfrom raw.project import Project\n"
        f"project = Project(Path({str(project.root)!r}))\n"
        f"assert sqlite_at_head({_url(project)!r}, project)\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_bad_migrations_folder_is_left_to_the_migrations_to_report(project: Project) -> None:
    _migrate(_url(project), project)
    (project.root / ".raw" / "config.yaml").write_text(
        "version: 1\nsystem:\n  coordinator:\n    migrations: db/nowhere\n", encoding="utf-8"
    )
    assert not sqlite_at_head(_url(project), RawProject(project.root))


def test_upgrade_at_head_leaves_alembic_alone(
    db_url: str, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kit's and the system's: Alembic upgrades what is due, and is not asked at head."""
    _system(project)
    calls: list[str] = []
    real = command.upgrade

    def counted(config: Any, revision: str) -> None:
        calls.append(revision)
        real(config, revision)

    async def migrate() -> tuple[str | None, str | None]:
        async with Database(db_url) as db:
            return await upgrade(db), await upgrade_system(db, RawProject(project.root))

    asyncio.run(upgrade(db_url, revision="0001"))
    monkeypatch.setattr(command, "upgrade", counted)
    assert asyncio.run(migrate()) == ("0002", "sys_a")
    assert calls == ["head", "head"]
    assert asyncio.run(migrate()) == ("0002", "sys_a")
    assert calls == ["head", "head"]  # at head: not asked again
    _revision(project.root / "db" / "migrations" / "versions", "sys_b", "sys_a")
    assert asyncio.run(migrate()) == ("0002", "sys_b")
    assert calls == ["head", "head", "head"]
