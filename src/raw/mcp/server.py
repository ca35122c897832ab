"""``raw mcp``: the tools, resources and prompts on the official MCP SDK (PyPI ``mcp``).

Over stdio (the default; the SDK points fd 1 at stderr while serving, so nothing a
workflow prints reaches the protocol) or streamable HTTP on 127.0.0.1, where every
request needs ``Authorization: Bearer <API token>`` (compared in constant time).

A tool's result is the document ``raw <command> --json`` prints, as JSON text and as
structured content. An error is a tool error (``is_error``) whose document is the
CLI's: ``{"error": {"type", "message"}, "exit_code", "exit_code_name"}``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from starlette.types import ASGIApp, Receive, Scope, Send

from raw.errors import RawError
from raw.mcp import docs, skills
from raw.mcp.dispatch import CallOutcome, Dispatcher
from raw.version import __version__

__all__ = ["BearerTokenMiddleware", "build_server", "http_app", "serve_stdio"]

INSTRUCTIONS = """\
RAW Systems: design, build, simulate and check durable systems of RAW workflows,
Temporal processes and a FastAPI coordinator. Start with `plan` (the decision tree),
then `new_system`, edit the files it wrote, and run `gates` until every gate passes;
`simulate` runs scenarios on simulated time. `search_docs`/`read_doc` answer how.
Every tool returns the JSON document of the matching `raw ... --json` command."""


class ResourceNotFoundError(RawError):
    """No resource has that URI."""


def _text(outcome: CallOutcome) -> str:
    return json.dumps(outcome.body, indent=2, ensure_ascii=False, default=str)


def _project(root: Path) -> Any:
    # Lazy: a workspace without a project still serves the docs.
    from raw.project import find_project

    try:
        return find_project(root)
    except RawError:
        return None


def _resources(root: Path) -> list[types.Resource]:
    found = [
        types.Resource(
            name=f"doc: {name}",
            uri=f"raw://docs/{name}",
            mime_type="text/markdown",
            description=f"docs/{name}.md",
        )
        for name in docs.doc_names()
    ]
    found += [
        types.Resource(
            name="config reference",
            uri="raw://config-reference",
            mime_type="text/markdown",
            description="every key of .raw/config.yaml, its type, default and meaning",
        ),
        types.Resource(
            name="scenario schema",
            uri="raw://scenario.schema.json",
            mime_type="application/schema+json",
            description="the JSON Schema of `raw simulate` scenarios",
        ),
    ]
    project = _project(root)
    if project is not None:
        for workflow_id in project.workflow_ids():
            found.append(
                types.Resource(
                    name=f"workflow source: {workflow_id}",
                    uri=f"raw://workflows/{workflow_id}/source",
                    mime_type="text/x-python",
                )
            )
            found.append(
                types.Resource(
                    name=f"last run: {workflow_id}",
                    uri=f"raw://workflows/{workflow_id}/last-run",
                    mime_type="application/json",
                )
            )
    return found


def read_resource(root: Path, uri: str) -> tuple[str, str]:
    """The text and MIME type of the resource at ``uri``."""
    if uri.startswith("raw://docs/"):
        return docs.read(uri.removeprefix("raw://docs/"))["text"], "text/markdown"
    if uri == "raw://config-reference":
        from raw.config.reference import reference_table  # Lazy: only this resource needs it.

        return reference_table(), "text/markdown"
    if uri == "raw://scenario.schema.json":
        from raw.simulate.scenario import scenario_json_schema  # Lazy: loads the simulator.

        return json.dumps(scenario_json_schema(), indent=2), "application/schema+json"
    if uri.startswith("raw://workflows/"):
        workflow_id, _, what = uri.removeprefix("raw://workflows/").partition("/")
        project = _project(root)
        if project is not None and what == "source":
            return (project.workflow_dir(workflow_id) / "run.py").read_text(
                "utf-8"
            ), "text/x-python"
        if project is not None and what == "last-run":
            # Lazy: the run records load only for this resource.
            from raw.commands.inspect import runs_root
            from raw.workflow.recorder import list_run_dirs, run_summary

            project.workflow_dir(workflow_id)
            runs = list_run_dirs(runs_root(project, workflow_id))
            manifest = run_summary(runs[0]) if runs else None
            return json.dumps(manifest, indent=2, default=str), "application/json"
    raise ResourceNotFoundError(f"There is no resource '{uri}'. resources/list names them all.")


def _progress_reporter(
    ctx: ServerRequestContext[Any, Any], pending: list[asyncio.Future[Any]]
) -> Callable[[float, float | None, str], None]:
    loop = asyncio.get_running_loop()

    def report(done: float, total: float | None, message: str) -> None:
        coroutine = ctx.session.report_progress(done, total, message)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:  # called on the loop (the simulator): sent before the result
            pending.append(asyncio.ensure_future(coroutine))
        else:  # called from a worker thread (gates): wait until it is sent
            asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    return report


def build_server(dispatcher: Dispatcher) -> Server[Any]:
    """The MCP server over ``dispatcher``'s tools, with the docs and skills as resources/prompts."""
    root = dispatcher.workspace.root

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[
                types.Tool(
                    name=tool.name,
                    description=tool.description
                    + (f" (like `{tool.command} --json`)" if tool.command else ""),
                    input_schema=tool.input_schema,
                    annotations=types.ToolAnnotations(
                        read_only_hint=not tool.changes, destructive_hint=False
                    ),
                )
                for tool in dispatcher.served
            ]
        )

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        pending: list[asyncio.Future[Any]] = []
        client = getattr(ctx.request, "client", None)  # over HTTP: who sent the request
        outcome = await dispatcher.call(
            params.name,
            params.arguments,
            progress=_progress_reporter(ctx, pending),
            who=f"http {client.host}" if client is not None else None,
        )
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        return types.CallToolResult(
            content=[types.TextContent(text=_text(outcome))],
            structured_content=outcome.body,
            is_error=outcome.is_error,
        )

    async def list_resources(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=_resources(root))

    async def read(
        ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        text, mime = read_resource(root, str(params.uri))
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=str(params.uri), mime_type=mime, text=text)]
        )

    async def list_prompts(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        return types.ListPromptsResult(
            prompts=[
                types.Prompt(
                    name=prompt.name,
                    description=prompt.description,
                    arguments=[
                        types.PromptArgument(name=arg, description=text, required=True)
                        for arg, text in prompt.arguments.items()
                    ],
                )
                for prompt in skills.PROMPTS
            ]
        )

    async def get_prompt(
        ctx: ServerRequestContext[Any, Any], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        prompt = skills.prompt_named(params.name)
        text = prompt.render(params.arguments or {})
        return types.GetPromptResult(
            description=prompt.description,
            messages=[types.PromptMessage(role="user", content=types.TextContent(text=text))],
        )

    return Server(
        "raw",
        version=__version__,
        title="RAW Systems",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
    )


async def serve_stdio(dispatcher: Dispatcher) -> None:
    server = build_server(dispatcher)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


class BearerTokenMiddleware:
    """Refuses every HTTP request without ``Authorization: Bearer <token>`` (401)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"authorization", b"")
        scheme, _, value = given.partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(value.strip(), self.token):
            body = json.dumps(
                {
                    "error": {
                        "type": "Unauthorized",
                        "message": "Send the API token as 'Authorization: Bearer <token>'.",
                    }
                }
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"www-authenticate", b'Bearer realm="raw mcp"'),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def http_app(
    dispatcher_for: Callable[[str], Dispatcher], *, token: str, host: str = "127.0.0.1"
) -> ASGIApp:
    """The streamable HTTP app at ``/mcp`` behind the bearer token.

    Every request has passed the token check, so the dispatcher is the one whose caller
    presented it (``dispatcher_for(token)``).
    """
    server = build_server(dispatcher_for(token))
    app = server.streamable_http_app(host=host)
    return BearerTokenMiddleware(app, token)
