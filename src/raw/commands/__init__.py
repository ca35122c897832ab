"""What each ``raw`` command does, as a function that returns the command's JSON document.

One code path for every front end: the CLI (:mod:`raw.cli`) prints the document
with ``--json`` (and its human text from the same document), the MCP server
(:mod:`raw.mcp`) returns it from the matching tool, and ``raw build`` hands it to
the model. Nothing here prints, prompts or exits; errors are :class:`raw.errors.RawError`
subclasses that each front end turns into its own shape (an exit code, a tool error).

Modules: :mod:`~raw.commands.design` (plan, new system, create, init),
:mod:`~raw.commands.inspect` (list, show), :mod:`~raw.commands.checks` (validate,
gates, config check), :mod:`~raw.commands.simulate`, :mod:`~raw.commands.deploy`,
:mod:`~raw.commands.process` (Temporal processes), :mod:`~raw.commands.runs` (run, rerun).
"""

from __future__ import annotations

from raw.commands.document import Document

__all__ = ["Document"]
