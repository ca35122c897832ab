"""Plain-script workflows: a ``run.py`` with no ``BaseWorkflow``, run as the original ran it.

The original runtime's skill template and GUIDE write ``run.py`` files that parse their
own flags (argparse) and never import ``BaseWorkflow``. ``raw run <id> --flags`` runs
such a file as a subprocess of this interpreter with those flags, in the run's folder
(so ``results/...`` lands in the run), and records it like any run: the exit code,
``stdout.log`` and ``stderr.log``, the duration, and every file it wrote under the run
folder as an artifact. ``--dry`` runs its ``dry_run.py`` the same way, once ``run.py``
is known to compile (the original ran ``dry_run.py`` alone, so a broken ``run.py``
passed its dry run).

Exit codes follow the CLI's table: 0 succeeded; 2 (argparse's code for bad flags) is
``invalid_input``; any other code is ``failed``, and the script's own code is kept in
the result's ``return_code``.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from raw import clock
from raw._patterns import LazyPattern
from raw.errors import (
    RawError,
    RunCancelledError,
    RunTimedOutError,
    ScriptFailedError,
    UsageError,
)
from raw.ids import new_run_id
from raw.redact import environment_secrets
from raw.version import __version__
from raw.workflow.recorder import STDERR_LOG, STDOUT_LOG, default_recorder, written_files
from raw.workflow.redaction import RedactingHandle
from raw.workflow.result import ErrorInfo, RunResult, RunStatus, Timings
from raw.workflow.target import RunOptions, WorkflowTarget

if TYPE_CHECKING:
    import subprocess

__all__ = [
    "DRY_RUN_SCRIPT",
    "compile_problem",
    "is_plain_script",
    "params_to_flags",
    "run_script",
    "script_environment",
    "script_help",
]

DRY_RUN_SCRIPT = "dry_run.py"
_USAGE_EXIT = 2  # argparse's exit code for flags it refuses
_USES_BASE_WORKFLOW = LazyPattern(
    r"^\s*(?:from\s+[\w.]+\s+import\s+[^#\n]*\bBaseWorkflow\b|class\s+\w+\s*\([^#\n]*\bBaseWorkflow\b)",
    re.MULTILINE,
)
"""An import of BaseWorkflow or a class statement deriving from it, at the start of a line."""


_MODULE_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


def _imports_base_workflow(source: str) -> bool:
    """A line ``from <module> import ..., BaseWorkflow, ...``: the usual file, told apart
    without compiling :data:`_USES_BASE_WORKFLOW` (~1.2 M instructions a ``raw run``).

    Every line it accepts, that pattern matches too, so the answer is the pattern's.
    """
    for line in source.split("\n"):
        if "BaseWorkflow" not in line:
            continue
        words = line.partition("#")[0].split()
        if (
            len(words) > 3
            and words[0] == "from"
            and words[2] == "import"
            and _MODULE_NAME_CHARS.issuperset(words[1])
            and any(word.strip("(),") == "BaseWorkflow" for word in words[3:])
        ):
            return True
    return False


def is_plain_script(path: Path) -> bool:
    """Whether ``path`` is a script that uses no ``BaseWorkflow`` (by its code, not its text).

    A file that never names ``BaseWorkflow`` in code (comments and strings do not
    count) is run as a script. A file that does not parse is left to the loader, which
    names the syntax error.
    """
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    if "BaseWorkflow" not in source:
        return True
    if _imports_base_workflow(source) or _USES_BASE_WORKFLOW.search(source):
        return False  # the usual file: no parse on raw run's path
    # Lazy: a file that names BaseWorkflow is parsed once to tell code from comments.
    import ast

    try:
        tree = ast.parse(source, str(path))
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if (
            (isinstance(node, ast.Name) and node.id == "BaseWorkflow")
            or (isinstance(node, ast.Attribute) and node.attr == "BaseWorkflow")
            or (isinstance(node, ast.alias) and node.name.rsplit(".", 1)[-1] == "BaseWorkflow")
        ):
            return False
    return True


def compile_problem(path: Path) -> str | None:
    """Why ``path`` does not compile (``line N: message``), or None. Nothing is run."""
    try:
        compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"{path.name} line {exc.lineno}: syntax error: {exc.msg}."
    except (OSError, ValueError) as exc:
        return f"{path.name} cannot be read: {exc}."
    return None


def script_environment(target: WorkflowTarget, extra_paths: Sequence[Path] = ()) -> dict[str, str]:
    """The child's environment: ours, with the dependencies and the project root importable."""
    env = dict(os.environ)
    paths = [str(p) for p in extra_paths]
    if target.project is not None:
        paths.append(str(target.project.root))  # `from tools.x import y`, as in the original
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(paths)
    env["RAW_WORKFLOW_ID"] = target.workflow_id
    return env


def params_to_flags(params: dict[str, Any]) -> list[str]:
    """``--params`` for a script: ``{"max_items": 3, "tags": ["a"]}`` -> ``--max-items 3 --tags a``.

    True is a bare flag, False and None are left out, a list gives its values after one
    flag (argparse's ``nargs``), anything else is its JSON text or string.
    """
    # Lazy: json only for params given as JSON to a script.
    import json

    flags: list[str] = []
    for key, value in params.items():
        flag = "--" + str(key).replace("_", "-")
        if value is True:
            flags.append(flag)
        elif value is False or value is None:
            continue
        elif isinstance(value, list):
            flags += [flag, *(v if isinstance(v, str) else json.dumps(v) for v in value)]
        else:
            flags += [flag, value if isinstance(value, str) else json.dumps(value)]
    return flags


def script_help(target: WorkflowTarget, extra_paths: Sequence[Path] = ()) -> str:
    """What ``run.py --help`` prints (its own argparse help), for ``raw run <id> --help``."""
    # Lazy: subprocess costs every `raw run` ~2 ms to import; only plain scripts need it.
    import subprocess

    proc = subprocess.run(
        [sys.executable, str(target.path), "--help"],
        cwd=target.workflow_dir,
        env=script_environment(target, extra_paths),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    header = f"{target.workflow_id} is a plain script; its own --help follows.\n\n"
    return header + (proc.stdout or proc.stderr)


def _tee(source: IO[bytes], path: Path, echo: IO[bytes] | None) -> None:
    with open(path, "wb") as fh:
        for chunk in iter(lambda: source.read1(65536), b""):  # type: ignore[attr-defined]
            fh.write(chunk)
            fh.flush()
            if echo is not None:
                try:
                    echo.write(chunk)
                    echo.flush()
                except (OSError, ValueError):  # our terminal went away: keep recording
                    echo = None


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
    return " / ".join(line.strip() for line in text.splitlines()[-lines:])


def _echo_streams(options: RunOptions) -> tuple[IO[bytes] | None, IO[bytes] | None]:
    if not options.echo_output:
        return None, None
    return getattr(sys.stdout, "buffer", None), getattr(sys.stderr, "buffer", None)


def run_script(
    target: WorkflowTarget,
    flags: Sequence[str],
    options: RunOptions,
    *,
    extra_paths: Sequence[Path] = (),
) -> RunResult:
    """Run a plain-script workflow (``run.py``, or ``dry_run.py`` with ``options.dry``)."""
    started_at = clock.now()
    t0 = clock.monotonic()
    script = target.workflow_dir / (DRY_RUN_SCRIPT if options.dry else "run.py")

    def early(status: RunStatus, exc: RawError) -> RunResult:
        return RunResult(
            workflow=target.workflow_id,
            run_id=new_run_id(started_at),
            status=status,
            error=ErrorInfo.of(exc),
            dry=options.dry,
            timings=Timings(started_at=started_at, ended_at=started_at, duration_ms=0.0),
        )

    if options.dry:
        if not script.exists():
            return early(
                "invalid_input",
                UsageError(
                    f"Workflow '{target.workflow_id}' is a plain script (its run.py uses no "
                    f"BaseWorkflow) and has no {DRY_RUN_SCRIPT}: its dry run is that file, "
                    f"which runs with mock data. Write {target.workflow_dir / DRY_RUN_SCRIPT}."
                ),
            )
        problem = compile_problem(target.path)  # the dry run must not pass a broken run.py
        if problem is not None:
            return early("failed", ScriptFailedError(target.workflow_id, "run.py", 1, problem))

    recorder = options.recorder or default_recorder(target.project)
    handle = RedactingHandle(
        recorder.start(
            target.workflow_id, new_run_id(started_at), workflow_dir=target.workflow_dir
        ),
        environment_secrets(),
    )
    assert handle.run_dir is not None
    command = [sys.executable, str(script), *flags]
    handle.log(
        f"{started_at.isoformat()} INFO run {handle.run_id} of '{target.workflow_id}' started"
        f"{' (dry run)' if options.dry else ''}: {script.name} {' '.join(flags)}".rstrip()
    )

    def result(
        status: RunStatus, *, error: BaseException | None = None, code: int | None = None
    ) -> RunResult:
        ended = None if status == "running" else clock.now()
        return RunResult(
            workflow=target.workflow_id,
            run_id=handle.run_id,
            status=status,
            error=ErrorInfo.of(error) if error is not None else None,
            return_code=code,
            dry=options.dry,
            timings=Timings(
                started_at=started_at,
                ended_at=ended,
                duration_ms=None if ended is None else round((clock.monotonic() - t0) * 1000, 3),
            ),
            artifacts=written_files(handle.run_dir) if handle.run_dir else [],
            run_dir=str(handle.run_dir),
            log_path=str(handle.log_path) if handle.log_path else None,
        )

    def manifest(res: RunResult) -> dict[str, Any]:
        doc = res.to_json_dict()
        doc["params"] = {"args": list(flags)}
        doc["script"] = {
            "path": str(script),
            "command": [Path(command[0]).name, script.name, *flags],
            "exit_code": res.return_code,
            "stdout": STDOUT_LOG,
            "stderr": STDERR_LOG,
        }
        doc["environment"] = {
            "python": sys.version.split()[0],
            "raw": __version__,
            "host": os.uname().nodename,
            "pid": os.getpid(),
            "entry_point": options.entry_point,
        }
        return doc

    handle.write_manifest(manifest(result("running")))
    echo_out, echo_err = _echo_streams(options)
    # Lazy: as in script_help, only a plain script's run pays for subprocess.
    import subprocess

    final: RunResult
    try:
        proc = subprocess.Popen(
            command,
            cwd=handle.run_dir,
            env=script_environment(target, extra_paths),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        final = result(
            "failed", error=ScriptFailedError(target.workflow_id, script.name, -1, str(exc))
        )
    else:
        assert proc.stdout is not None and proc.stderr is not None
        readers = [
            threading.Thread(
                target=_tee, args=(proc.stdout, handle.run_dir / STDOUT_LOG, echo_out)
            ),
            threading.Thread(
                target=_tee, args=(proc.stderr, handle.run_dir / STDERR_LOG, echo_err)
            ),
        ]
        for reader in readers:
            reader.daemon = True
            reader.start()
        try:
            final = _wait(proc, readers, target, script, options, result, handle.run_dir)
        finally:
            proc.stdout.close()
            proc.stderr.close()
    handle.log(
        f"{clock.now().isoformat()} INFO run {handle.run_id} {final.status}"
        + (f": {final.error.message}" if final.error else "")
    )
    handle.write_manifest(manifest(final))
    handle.close()
    return final


def _wait(
    proc: subprocess.Popen[bytes],
    readers: list[threading.Thread],
    target: WorkflowTarget,
    script: Path,
    options: RunOptions,
    result: Callable[..., RunResult],
    run_dir: Path,
) -> RunResult:
    import subprocess  # Lazy: loaded by run_script already (see script_help)

    try:
        code = proc.wait(timeout=options.timeout_seconds)
    except subprocess.TimeoutExpired:
        _stop(proc, readers)
        return result("timed_out", error=RunTimedOutError(options.timeout_seconds or 0))
    except KeyboardInterrupt:
        _stop(proc, readers)
        if options.propagate_interrupt:
            raise
        return result("cancelled", error=RunCancelledError())
    for reader in readers:
        reader.join()
    if code == 0:
        return result("succeeded", code=0)
    detail = _tail(run_dir / STDERR_LOG)
    error = ScriptFailedError(target.workflow_id, script.name, code, detail)
    status: RunStatus = "invalid_input" if code == _USAGE_EXIT else "failed"
    return result(status, error=error, code=code)


def _stop(proc: subprocess.Popen[bytes], readers: list[threading.Thread]) -> None:
    import subprocess  # Lazy: loaded by run_script already (see script_help)

    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for reader in readers:
        reader.join(timeout=5)
