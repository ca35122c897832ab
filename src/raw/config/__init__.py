"""The whole schema of ``.raw/config.yaml`` and the settings read from the environment: core.

One module per section, each a set of strict Pydantic models (an unknown key is an
error that names the keys allowed beside it, and the nearest one):

- :mod:`raw.config.project`: the file itself (:class:`ProjectConfig`: ``name``,
  ``runs_dir``, ``builder.gates``, ...), how it is read, and how its problems are named;
- :mod:`raw.config.system`: the ``system:`` section, made of
  :mod:`raw.config.orchestrator` (Temporal, schedules), :mod:`raw.config.coordinator`
  (webhooks, the dispatcher, entities), :mod:`raw.config.integrations` and
  :mod:`raw.config.deploy`;
- :mod:`raw.config.cron`: the schedules' cron expressions, checked with ``cronsim``;
- :mod:`raw.config.settings`: what is read from ``RAW_*`` environment variables;
- :mod:`raw.config.reference`: every key as the table in docs/config.md.

The other parts import their sections from here; nothing here imports a part of the
kit. Importing this package loads nothing: ``raw run`` reads only ``project``.
"""
