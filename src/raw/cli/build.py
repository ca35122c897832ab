"""`raw build "<what the system must do>"`: a model builds the system until the gates pass.

It drives the OpenAI-compatible model of RAW_LLM_BASE_URL / RAW_LLM_MODEL (RAW_LLM_API_KEY)
through the tools `raw mcp` serves, writing only inside the project folder. Each step
is shown on stderr (with --json: one JSON event per line on stdout). Exit codes: 0
every default gate passed; 1 the step or token budget ran out first (what was
written is listed); 2 no model configured, or a bad flag; 4 the model did not answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from raw import console as output

if TYPE_CHECKING:
    from raw.mcp.build import BuildEvent

EXAMPLES = """\
examples:
  RAW_LLM_BASE_URL=http://localhost:11434/v1 RAW_LLM_MODEL=qwen3 \\
    raw build "Approve expense requests: a request webhook, a manager's approval within 3 days"
  raw build "Summarise support tickets every morning" --max-steps 40 --json

exit codes: 0 the gates pass, 1 the budget ran out, 2 no model or usage, 4 model unreachable"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    parser.add_argument("requirement", metavar="REQUIREMENT", help="what the system must do")
    parser.add_argument(
        "--max-steps", type=int, default=30, metavar="N", help="model calls (default 30)"
    )
    parser.add_argument(
        "--max-tokens",
        type=int,
        default=400_000,
        metavar="N",
        help="tokens the model may spend, as it reports them (default 400000)",
    )
    parser.set_defaults(handler=cmd_build)


def _human(event: BuildEvent) -> None:
    data = event.data
    if event.kind == "start":
        output.err(f"raw build: {data['requirement']}")
        output.err(f"  model {data['model']}, in {data['project']}")
    elif event.kind == "model":
        calls = ", ".join(data["calls"]) or "no tool calls"
        output.err(f"[{data['step']}] model ({data['tokens']} tokens so far): {calls}")
        if data.get("text"):
            output.err(output.style("    " + str(data["text"]).strip()[:300], "2"))
    elif event.kind == "tool":
        if not data["ok"]:
            output.err(f"    {data['tool']} " + output.style(f"error: {data['summary']}", "31"))
        elif data["tool"] == "gates":
            passed = data["summary"] == "all gates passed"
            output.err(f"    gates: {output.style(data['summary'], '32' if passed else '33')}")
        else:
            output.err(f"    {data['tool']}: {data['summary']}")
    elif event.kind == "gates":
        verdict = "passed" if data["ok"] else f"failed: {', '.join(data['failed'])}"
        output.err(f"    gates (run by raw build): {verdict}")


def _print_end(result_doc: dict[str, object]) -> None:
    gates = result_doc["gates"]
    print("gates:")
    if isinstance(gates, dict):
        for gate in gates.get("gates", []):
            print(f"  {gate['name']:<20} {gate['status']}")
    else:
        print("  (never run)")
    changed = result_doc["changed"]
    assert isinstance(changed, dict)
    for what in ("added", "modified", "deleted"):
        for path in changed[what]:
            print(f"  {what:<9} {path}")
    if result_doc["outcome"] == "passed":
        steps, tokens = result_doc["steps"], result_doc["tokens"]
        print(f"Every default gate passes ({steps} steps, {tokens} tokens).")
    else:
        print(
            f"The budget ran out after {result_doc['steps']} steps and {result_doc['tokens']} "
            "tokens before every gate passed; the files above were written."
        )


def cmd_build(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw build loads the tools and httpx.
    import asyncio

    from raw.mcp.build import BuildOptions, run_build
    from raw.mcp.tools import Workspace

    root = Path(args.project_dir or Path.cwd()).resolve()
    root.mkdir(parents=True, exist_ok=True)

    def on_event(event: BuildEvent) -> None:
        if args.json:
            sys.stdout.write(json.dumps(event.to_dict(), ensure_ascii=False, default=str) + "\n")
            sys.stdout.flush()
        else:
            _human(event)

    options = BuildOptions(args.requirement, max_steps=args.max_steps, max_tokens=args.max_tokens)
    result = asyncio.run(run_build(options, Workspace(root), on_event=on_event))
    if not args.json:
        _print_end(result.to_dict())
    output.leave(result.exit_code)  # a simulate call may have run Temporal (NOTES.md)
