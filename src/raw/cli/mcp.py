"""`raw mcp`: serve the project to coding agents over MCP (stdio, or streamable HTTP).

Exit codes: 0 the client went away; 2 a bad flag, or --http without an API token
(the error names the setting); 3 a --project-dir that is not a folder.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path

from raw import console as output
from raw.cli.log_options import add_log_format, start_logs
from raw.errors import UsageError

EXAMPLES = """\
examples:
  raw mcp                                   (stdio: what editors and agent CLIs start)
  raw mcp --read-only                       (only the inspecting tools)
  RAW_API_TOKEN=... raw mcp --http --port 8765
  raw mcp --http --port 0 --json            (any free port; prints the URL as JSON)

Agents' MCP config: {"mcpServers": {"raw": {"command": "raw", "args": ["mcp"]}}}
Every changing call is recorded in .raw/mcp/audit.jsonl. See docs/agents.md."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    parser.add_argument(
        "--http", action="store_true", help="serve streamable HTTP at /mcp instead of stdio"
    )
    parser.add_argument("--port", type=int, default=8765, help="the HTTP port (0: any free one)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="the HTTP address (default: 127.0.0.1 only)"
    )
    parser.add_argument(
        "--read-only", action="store_true", help="serve only the tools that change nothing"
    )
    add_log_format(parser)
    parser.set_defaults(handler=cmd_mcp)


def _root(args: argparse.Namespace) -> Path:
    root = Path(args.project_dir or os.environ.get("RAW_PROJECT_DIR") or Path.cwd()).resolve()
    if not root.is_dir():
        raise output.NotFoundError(f"{root} is not a folder; pass --project-dir with a folder.")
    return root


def cmd_mcp(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw mcp loads the MCP SDK.
    import anyio

    from raw.mcp.dispatch import STDIO_TOKEN_SETTING, Dispatcher, api_token
    from raw.mcp.server import serve_stdio
    from raw.mcp.tools import Workspace

    workspace = Workspace(_root(args))
    start_logs(args, "mcp")  # stderr only: with stdio, stdout is the protocol's
    if not args.http:
        dispatcher = Dispatcher(
            workspace,
            who="stdio",
            read_only=args.read_only,
            token_presented=os.environ.get(STDIO_TOKEN_SETTING) or None,
        )
        anyio.run(serve_stdio, dispatcher)
        output.leave(output.OK)  # the simulator's Temporal runtime may abort at exit
    setting, token = api_token(workspace.root)
    if token is None:
        raise UsageError(
            f"raw mcp --http needs the API token: set {setting} (every request must send "
            "it as 'Authorization: Bearer <token>')."
        )
    return _serve_http(args, workspace, token)


def _serve_http(args: argparse.Namespace, workspace: object, token: str) -> int:
    # Lazy: raw --help imports this module; only raw mcp --http loads uvicorn.
    import socket

    import uvicorn

    from raw.mcp.dispatch import Dispatcher
    from raw.mcp.server import http_app
    from raw.mcp.tools import Workspace

    assert isinstance(workspace, Workspace)
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        raise UsageError(f"Cannot listen on {args.host}:{args.port}: {exc.strerror}.") from None
    sock.listen(128)  # connections wait in the backlog until uvicorn accepts them
    port = sock.getsockname()[1]
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{shown_host}:{port}/mcp"

    def dispatcher_for(presented: str) -> Dispatcher:
        return Dispatcher(
            workspace,
            who=f"http {args.host}",
            read_only=args.read_only,
            token_presented=presented,
        )

    app = http_app(dispatcher_for, token=token, host=args.host)
    if args.json:
        output.emit_json({"url": url, "read_only": args.read_only, "root": str(workspace.root)})
    output.err(f"raw mcp: serving {url} (Authorization: Bearer <token>); Ctrl-C stops it")
    config = uvicorn.Config(app, log_level="warning", lifespan="on", log_config=None)
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    output.leave(output.OK)
