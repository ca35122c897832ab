"""The sections of ``.raw/config.yaml`` that the parts share, as Pydantic models: core.

A section lives here when more than one layer reads it: :mod:`raw.system` (the whole
``system:`` schema) validates the integrations' and the deployment's sections, and the
integrations and ``raw deploy`` use them. Nothing here imports a part of the kit.
The parts keep their old module paths (``raw.integrations.config``,
``raw.deploy.config``), which re-export these.
"""
