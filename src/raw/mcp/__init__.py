"""RAW for coding agents: the ``raw mcp`` server, the skills and the ``raw build`` loop.

- :mod:`raw.mcp.tools`: every tool, its JSON Schema and its handler, each a thin call
  of the :mod:`raw.commands` function whose document ``raw <command> --json`` prints;
  no MCP SDK import, so ``raw build`` shares it.
- :mod:`raw.mcp.server`: the tools, resources and prompts on the official SDK, over
  stdio or streamable HTTP (bearer token).
- :mod:`raw.mcp.audit`: the audit log of every changing call.
- :mod:`raw.mcp.docs`: the packaged docs and config reference (search, read).
- :mod:`raw.mcp.skills`: the SKILL.md files ``raw skill install`` writes.
- :mod:`raw.mcp.build`: ``raw build``, a model driving the same tools until the gates pass.
"""
