"""The orchestrator kit: RAW workflows inside durable Temporal processes.

Install with ``pip install 'raw-systems[orchestrator]'``. Built on the official
``temporalio`` SDK and Temporal's own servers, and split the way it is:

- :mod:`raw.orchestrator.workflow`: what process code uses (``RawProcess``,
  ``execute_raw``, ``first_signal``, ``sleep_until``, ``wait_for``...). Sandbox-safe:
  it loads no I/O library.
- :mod:`raw.orchestrator.client`: starting, signalling, querying and cancelling
  processes from outside (``connect``, ``start_process``, ``signal``...).
- :mod:`raw.orchestrator.activity`: the activity that runs a RAW workflow
  (``RawActivities``, ``run_raw_workflow``).

::

    from temporalio import workflow

    with workflow.unsafe.imports_passed_through():
        from raw.orchestrator.workflow import RawProcess, execute_raw, first_signal, sleep_until

See docs/orchestrator.md.
"""

from __future__ import annotations

from raw._moved import moved_names as _moved_names
from raw.orchestrator import _deprecated

__all__: list[str] = []


# Names this package exported before the split: they answer for one release, with a warning.
__getattr__ = _moved_names(__name__, _deprecated.PACKAGE_NAMES)
