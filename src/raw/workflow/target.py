"""Before a run starts: the workflow it runs, the options it runs with, and the
result of a run that never starts (bad id, no project, no such workflow)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from raw import clock
from raw.ids import new_run_id
from raw.project import Project, check_workflow_id, find_project
from raw.workflow.definition import WorkflowDefinition
from raw.workflow.loader import LoadedWorkflow, load_workflow
from raw.workflow.recorder import Recorder
from raw.workflow.result import ErrorInfo, RunResult, RunStatus, Timings

__all__ = ["RunOptions", "WorkflowTarget", "error_result", "resolve"]


class RunOptions:
    """How one run runs: dry or not, its deadline, its cache, where it is recorded.

    ``correlation_id`` is the id of what caused the run (a webhook delivery), kept in
    its manifest. ``on_hard_timeout`` (CLI only) is called from a timer thread at the
    deadline with the timed-out result. ``propagate_interrupt`` re-raises
    KeyboardInterrupt after recording the run as cancelled (the CLI prints instead).
    ``echo_output`` copies a plain script's output to this process's stdout and stderr
    as it comes (CLI). ``chdir_to_run`` runs with the run's folder as the working
    directory, as the original runtime did: ``raw run`` sets it (one run per process);
    in-process callers (the coordinator, a worker) run many at once and keep theirs,
    since the working directory is per process.

    A plain class, not a dataclass: a dataclass compiles its methods when its module is
    imported, and ``raw run`` imports this one on every start (benchmarks/README.md).
    """

    def __init__(
        self,
        dry: bool = False,
        timeout_seconds: float | None = None,
        use_cache: bool = True,
        idempotency_key: str | None = None,
        correlation_id: str | None = None,
        cancel_event: threading.Event | None = None,
        recorder: Recorder | None = None,
        entry_point: str = "python",
        on_hard_timeout: Callable[[RunResult], None] | None = None,
        propagate_interrupt: bool = True,
        echo_output: bool = False,
        chdir_to_run: bool = False,
    ) -> None:
        self.dry = dry
        self.timeout_seconds = timeout_seconds
        self.use_cache = use_cache
        self.idempotency_key = idempotency_key
        self.correlation_id = correlation_id
        self.cancel_event = cancel_event
        self.recorder = recorder
        self.entry_point = entry_point
        self.on_hard_timeout = on_hard_timeout
        self.propagate_interrupt = propagate_interrupt
        self.echo_output = echo_output
        self.chdir_to_run = chdir_to_run


class WorkflowTarget:
    """A workflow found on disk, ready to load and run.

    ``preloaded`` is a class already imported (``python run.py`` runs as ``__main__``).

    A plain class, not a dataclass, as :class:`RunOptions` (start-up, issue 20).
    """

    def __init__(
        self,
        workflow_id: str,
        workflow_dir: Path,
        project: Project | None = None,
        preloaded: type[WorkflowDefinition] | None = None,  # type: ignore[type-arg]
    ) -> None:
        self.workflow_id = workflow_id
        self.workflow_dir = workflow_dir
        self.project = project
        self.preloaded = preloaded
        self._loaded: LoadedWorkflow | None = None
        """The first successful load: a target serves one run, which loads it more than once."""
        self.script: bool | None = None
        """Whether run.py is a plain script (``is_plain_script``), once known."""

    def again(self) -> WorkflowTarget:
        """A target for another run of the same, unchanged run.py: what this one learnt
        (its load, whether it is a plain script) is not done again. The caller checks
        the file has not changed (the activity compares its ``stat``)."""
        twin = WorkflowTarget(self.workflow_id, self.workflow_dir, self.project, self.preloaded)
        twin._loaded = self._loaded
        twin.script = self.script
        return twin

    @property
    def path(self) -> Path:
        return self.workflow_dir / "run.py"

    def load(self) -> LoadedWorkflow:
        if self.preloaded is not None:
            self.preloaded.workflow_id = self.workflow_id
            return LoadedWorkflow(self.workflow_id, self.path, self.preloaded)
        if self._loaded is None:
            self._loaded = load_workflow(
                self.path,
                self.workflow_id,
                project_root=self.project.root if self.project else None,
            )
        return self._loaded


def resolve(workflow_id: str, project_dir: Project | Path | str | None = None) -> WorkflowTarget:
    """Find a workflow by id (or a name for an original folder, see Project.resolve_workflow_id).

    ``project_dir`` may be a :class:`Project` already found (a worker keeps its own).
    Raises InvalidWorkflowIdError, ProjectError, WorkflowNotFoundError, AmbiguousWorkflowError.
    """
    check_workflow_id(workflow_id)
    project = project_dir if isinstance(project_dir, Project) else find_project(project_dir)
    workflow_id = project.resolve_workflow_id(workflow_id)
    target = WorkflowTarget(workflow_id, project.workflow_dir(workflow_id), project)
    project.config  # noqa: B018 - a bad config.yaml is reported before the run starts
    return target


def error_result(
    workflow_id: str, status: RunStatus, exc: BaseException, *, dry: bool = False
) -> RunResult:
    """A result for a run that never started (bad id, no project, no such workflow)."""
    now = clock.now()
    return RunResult(
        workflow=workflow_id,
        run_id=new_run_id(now),
        status=status,
        error=ErrorInfo.of(exc),
        dry=dry,
        timings=Timings(started_at=now, ended_at=now, duration_ms=0.0),
    )
