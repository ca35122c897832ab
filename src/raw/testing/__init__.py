"""Fixtures and harnesses shipped to users for testing their RAW systems.

The fixtures (a Temporal server, a task queue, a worker, a PostgreSQL database) come
with the ``raw`` pytest plugin (:mod:`raw.testing.pytest_plugin`), registered when
the package is installed. The harnesses behind them, for tests of your own::

    from raw.testing import OpenAIServer, keep_history, start_time_skipping_env

- Temporal (:mod:`raw.testing.temporal`): :func:`start_time_skipping_env`,
  :func:`start_dev_server_env`, :func:`run_worker`, :func:`sandbox_runner`,
  :func:`unique_task_queue`, :func:`register_search_attributes`,
  :func:`find_binary` (:class:`TemporalBinaryNotFoundError`), :data:`DEV_SERVER_TUNING`;
- replay histories (:mod:`raw.testing.histories`): :func:`keep_history`,
  :data:`RECORD_SETTING`;
- an LLM provider (:mod:`raw.testing.openai_server`): :class:`OpenAIServer`,
  :class:`Reply`, :class:`RecordedRequest`, :data:`ScriptedReply`;
- PostgreSQL (:mod:`raw.testing.postgres`): :func:`embedded_postgres`,
  :func:`postgres_server`, :class:`PostgresServer`;
- project copies (:mod:`raw.testing.projects`): :func:`copy_project`,
  :data:`LOCAL_STATE`.

Names load on first use (:mod:`raw._lazy`): pytest loads the plugin in every
session, and this package must not bring Temporal or PostgreSQL with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from raw._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from raw.testing.histories import RECORD_SETTING as RECORD_SETTING
    from raw.testing.histories import keep_history as keep_history
    from raw.testing.openai_server import OpenAIServer as OpenAIServer
    from raw.testing.openai_server import RecordedRequest as RecordedRequest
    from raw.testing.openai_server import Reply as Reply
    from raw.testing.openai_server import ScriptedReply as ScriptedReply
    from raw.testing.postgres import PostgresServer as PostgresServer
    from raw.testing.postgres import embedded_postgres as embedded_postgres
    from raw.testing.postgres import postgres_server as postgres_server
    from raw.testing.projects import LOCAL_STATE as LOCAL_STATE
    from raw.testing.projects import copy_project as copy_project
    from raw.testing.temporal import DEV_SERVER_TUNING as DEV_SERVER_TUNING
    from raw.testing.temporal import TemporalBinaryNotFoundError as TemporalBinaryNotFoundError
    from raw.testing.temporal import find_binary as find_binary
    from raw.testing.temporal import register_search_attributes as register_search_attributes
    from raw.testing.temporal import run_worker as run_worker
    from raw.testing.temporal import sandbox_runner as sandbox_runner
    from raw.testing.temporal import start_dev_server_env as start_dev_server_env
    from raw.testing.temporal import start_time_skipping_env as start_time_skipping_env
    from raw.testing.temporal import unique_task_queue as unique_task_queue

_EXPORTS = {
    "copy_project": "raw.testing.projects",
    "DEV_SERVER_TUNING": "raw.testing.temporal",
    "embedded_postgres": "raw.testing.postgres",
    "find_binary": "raw.testing.temporal",
    "keep_history": "raw.testing.histories",
    "LOCAL_STATE": "raw.testing.projects",
    "OpenAIServer": "raw.testing.openai_server",
    "postgres_server": "raw.testing.postgres",
    "PostgresServer": "raw.testing.postgres",
    "RECORD_SETTING": "raw.testing.histories",
    "RecordedRequest": "raw.testing.openai_server",
    "register_search_attributes": "raw.testing.temporal",
    "Reply": "raw.testing.openai_server",
    "run_worker": "raw.testing.temporal",
    "sandbox_runner": "raw.testing.temporal",
    "ScriptedReply": "raw.testing.openai_server",
    "start_dev_server_env": "raw.testing.temporal",
    "start_time_skipping_env": "raw.testing.temporal",
    "TemporalBinaryNotFoundError": "raw.testing.temporal",
    "unique_task_queue": "raw.testing.temporal",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
