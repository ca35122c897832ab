"""The skills ``raw skill install`` writes (``SKILL.md``: YAML front matter, then text),
and the MCP prompts built from them.

Every ``raw ...`` command line a skill mentions exists in ``raw``'s argparse tree
(tests/mcp/test_skills.py parses them), and every MCP tool it names is served.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from raw.errors import UsageError
from raw.files import write_atomic

__all__ = ["PROMPTS", "SKILLS", "Prompt", "Skill", "install", "prompt_named"]


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    text: str

    def render(self) -> str:
        return (
            f"---\nname: {self.name}\ndescription: {_yaml_string(self.description)}\n---\n\n"
            + self.text.strip()
            + "\n"
        )


def _yaml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


SYSTEM_ARCHITECTURE = """\
# System architecture with RAW

Use this skill when what the user wants spans days, receives webhooks, runs on a
schedule or keeps state: design it as a RAW system and build it with the `raw`
commands (or the `raw mcp` server's tools, named in brackets). Every command takes
`--json` and prints one document; the tools return the same document.

## The parts

1. **RAW workflows, the workers.** Stateless: params in, output out.
   `.raw/workflows/<id>/run.py` holds a `BaseWorkflow` with a Pydantic `Params`
   model and `@step` methods; `mocks/` makes `raw run <id> --dry` work offline.
   Create one with `raw create <id> --intent "..."` [create_workflow].
2. **The coordinator (FastAPI kit), the front door.** Webhook routes are data in
   `.raw/config.yaml` (`system.coordinator.webhooks`): each verifies its sender's
   signature, stores the delivery once (idempotent) in the database and puts an
   action in the inbox, which the dispatcher performs (start a process, signal it,
   run a workflow). `raw serve` runs it; `raw webhook send ROUTE --data JSON` sends
   a correctly signed delivery in development [send_webhook].
3. **Processes (Temporal kit), the memory.** A durable process per business key:
   it runs RAW workflows as activities, waits for signals (`wait_for`), sleeps until
   a date and survives restarts. `raw worker` serves it; `raw process start`,
   `raw process signal` [signal_process], `raw process status` [process_describe]
   and `raw process list` [process_list] drive it.
4. **Deployment.** `raw deploy render` [deploy_render] writes the Dockerfile,
   docker-compose.yml, Kubernetes manifests and a Helm chart from the config;
   `raw deploy check` [deploy_check] checks them offline with the real schemas.

Never call `raw run` through a subprocess from the coordinator or a process: the
kits run workflows as activities and actions, with retries and records.

## Decision tree

Run `raw plan` [plan] with the answers; it explains each branch and prints the
command that builds it:

```
Does it need state across days? --no--> single: one RAW workflow
        | yes
Does it need webhooks? --no--> temporal: Temporal + RAW workflows
        | yes
full: coordinator + Temporal + RAW workflows + deployment
```

- `raw plan --no-state-across-days`
- `raw plan --state-across-days --no-webhooks --schedule "0 8 * * *:daily-report"`
- `raw plan --state-across-days --webhook request --webhook approval --name approvals`

## Patterns

- **Webhook -> RAW -> database** (`full`): the route stores the delivery and its row
  in one transaction; the inbox action runs the workflow; the status API reads
  the row. `raw new system intake --pattern full --webhook submission`.
- **Multi-day process** (`temporal` or `full`): the first webhook starts the
  process, each further webhook is a signal it waits for, up to 7 days.
  `raw new system hiring --pattern full --webhook application --webhook interview`.
- **Scheduled report** (`temporal` + `--schedule`): a Temporal Schedule runs a
  report workflow. `raw new system reports --pattern temporal --schedule "0 8 * * *:daily-report"`;
  `raw schedules sync` applies the config's schedules to a running Temporal.

## Build it, step by step

1. Choose: `raw plan ...` [plan].
2. Generate: `raw new system NAME --pattern single|temporal|full` [new_system]. The
   project passes its own tests and gates as written: start from green.
3. Fill in the workflows: edit `.raw/workflows/<id>/run.py` and its `mocks/`; try
   each with `raw run <id> --dry` [run_workflow with dry] and `raw validate <id>`
   [validate]. `raw show <id>` [describe_workflow] shows its params and steps.
4. Shape the process and the routes in `.raw/config.yaml`; `raw config check`
   [config_check] names any wrong key and the keys allowed there.
5. Check: `raw gates` [gates] until every default gate passes; a failing gate's
   output is in its log and in the tool's `failures`.
6. Simulate days in seconds: `raw simulate scenarios/happy-path.yaml` [simulate],
   a scenario of deliveries, waits and expectations (schema: `raw simulate --schema`,
   resource raw://scenario.schema.json). `raw simulate scenarios/happy-path.yaml --record`
   saves histories for `raw temporal replay`.
7. Run it here: `raw up` (Temporal, worker, coordinator, local mail and phone).
8. Deploy: `raw deploy render`, then `raw deploy check` [deploy_check].

## Checklist

- [ ] `raw plan` chose the pattern, and its reasons fit the requirements
- [ ] each workflow is stateless, has Params, mocks and a test; `raw run <id> --dry` passes
- [ ] each webhook route names its scheme and secret setting; none is hard-coded
- [ ] each wait in a process has a timeout and a path for when it expires
- [ ] `raw config check` is clean
- [ ] `raw gates` passes every default gate
- [ ] a scenario per journey passes `raw simulate`
- [ ] `raw deploy check` has no findings

## Gates

`builder.gates` in `.raw/config.yaml`. Built in: `validate` (workflows import and
check), `dry` (every workflow's dry run), `system-check` (the config against the
code), `temporal-validate` (recorded histories replay), `docker-validate` (the
deployment files). Optional gates are commands with a time limit:

```yaml
builder:
  gates:
    default: [validate, dry, system-check]
    optional:
      api-test:
        command: "pytest tests/ -q"
        timeout_seconds: 120
```

Run one with `raw gates --only system-check`. Read the docs offline with the
search_docs and read_doc tools (docs: build-a-system, workflows, orchestrator,
coordinator, simulate, deploy, config).
"""

WORKFLOW_AUTHORING = """\
# Writing a RAW workflow

Use this skill to add or change one RAW workflow: a stateless unit of work with
typed params, named steps, mocks for dry runs and a test.

1. Create it: `raw create <id> --intent "what it does"` [create_workflow]. It writes
   `.raw/workflows/<id>/run.py`, `mocks/params.json`, `mocks/llm.json` and a test.
2. Define `Params` (a Pydantic model; each field becomes a `--flag`, its
   description the flag's help) and the steps:

```python
from pydantic import BaseModel, Field
from raw import BaseWorkflow, step, retry

class Params(BaseModel):
    cv_text: str = Field(description="the CV as plain text")

class AnalyzeCV(BaseWorkflow[Params]):
    \"\"\"Score a CV against a job description.\"\"\"

    @step("score")
    @retry(max_attempts=3)
    def score(self) -> dict:
        answer = self.llm.complete(f"Score this CV: {self.params.cv_text}")
        return {"score": answer}

    def run(self) -> dict:
        return self.score()
```

3. Keep it stateless: everything it needs arrives in `Params`; it returns its
   output; it never keeps state between runs (processes keep state).
4. Mocks: `mocks/params.json` is the dry run's params; `mocks/llm.json` answers
   the LLM. `raw run <id> --dry` [run_workflow with dry] runs offline.
5. See it as the kit sees it: `raw show <id>` [describe_workflow] (params, steps,
   mocks, recent runs); `raw run <id> --help` lists its flags.
6. Check it: `raw validate <id>` [validate], then `raw gates --only validate --only dry`
   [gates with only]. Fix what the findings name, file and line.
7. Run it for real: `raw run <id> --params @params.json` [run_workflow]; `raw logs <id>`
   prints the last run's log; `raw list` [list_workflows] shows every workflow's last run.

The LLM is any OpenAI-compatible endpoint: `RAW_LLM_BASE_URL`, `RAW_LLM_MODEL`,
`RAW_LLM_API_KEY`. Read docs/workflows.md with read_doc for the whole API.
"""

SKILLS: tuple[Skill, ...] = (
    Skill(
        "raw-system-architecture",
        "Design and build multi-part systems (webhooks, multi-day processes, schedules, "
        "deployment) with RAW workflows, the coordinator and Temporal, using the raw "
        "commands or the raw MCP tools, until every gate passes.",
        SYSTEM_ARCHITECTURE,
    ),
    Skill(
        "raw-workflow-authoring",
        "Write, run and check one RAW workflow: Params, steps, retries, mocks, dry runs, "
        "validation, with the raw commands or the raw MCP tools.",
        WORKFLOW_AUTHORING,
    ),
)


def install(directory: Path, *, force: bool = True) -> list[Path]:
    """Write each skill as ``<directory>/<name>/SKILL.md``; the paths written."""
    written = []
    for skill in SKILLS:
        path = directory / skill.name / "SKILL.md"
        if path.exists() and not force:
            raise UsageError(f"{path} exists; pass --force to write over it.")
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, skill.render().encode("utf-8"))
        written.append(path)
    return written


def section(text: str, heading: str) -> str:
    """One ``## heading`` section of a skill's text."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    return match.group(1).strip() if match else ""


@dataclass(frozen=True)
class Prompt:
    name: str
    description: str
    template: str
    arguments: dict[str, str] = field(default_factory=dict)

    def render(self, values: dict[str, str]) -> str:
        missing = [a for a in self.arguments if not values.get(a)]
        if missing:
            raise UsageError(f"Prompt '{self.name}' needs: {', '.join(missing)}.")
        return self.template.format(**{a: values[a] for a in self.arguments})


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


_ARCH = SYSTEM_ARCHITECTURE
PROMPTS: tuple[Prompt, ...] = (
    Prompt(
        "design-system",
        "Design a RAW system for a requirement and build it through the tools.",
        "Design and build a RAW system that does this:\n\n{requirements}\n\n"
        + _escape(
            "Follow these steps, calling the tools named in brackets:\n\n"
            + section(_ARCH, "Build it, step by step")
            + "\n\nDecision tree:\n\n"
            + section(_ARCH, "Decision tree")
            + "\n\nBefore you finish, the checklist:\n\n"
            + section(_ARCH, "Checklist")
        ),
        {"requirements": "what the system must do"},
    ),
    Prompt(
        "add-webhook",
        "Add a webhook route to the system: config, body model, handler, test.",
        "Add a webhook route named '{name}' to this RAW system: {purpose}\n\n"
        + _escape(
            "Read the coordinator doc (read_doc coordinator, section 'Webhook routes are "
            "data'), add the route under system.coordinator.webhooks with its scheme and "
            "secret setting, then config_check, gates, and a scenario step in simulate.\n\n"
            + section(_ARCH, "The parts")
        ),
        {"name": "the route's name", "purpose": "what the delivery means and what it does"},
    ),
    Prompt(
        "add-process",
        "Add a durable Temporal process to the system.",
        "Add a durable process '{name}' to this RAW system: {purpose}\n\n"
        + _escape(
            "Read the orchestrator doc (read_doc orchestrator, section 'A process'), list "
            "the process under system.orchestrator.workflows, give every wait a timeout, "
            "then config_check, gates and simulate.\n\n" + section(_ARCH, "Patterns")
        ),
        {"name": "the process's name", "purpose": "what it waits for, day by day"},
    ),
    Prompt(
        "add-schedule",
        "Add a scheduled workflow (a Temporal Schedule) to the system.",
        "Add a schedule '{cron}' that runs the workflow '{workflow}' in this RAW system.\n\n"
        + _escape(
            "Create the workflow if missing (create_workflow), add the schedule under "
            "system.orchestrator.schedules (read_doc config, search_docs schedules), then "
            "config_check and gates; `raw schedules sync` applies it to a running Temporal."
        ),
        {"cron": "a cron expression, e.g. 0 8 * * *", "workflow": "the RAW workflow's id"},
    ),
)


def prompt_named(name: str) -> Prompt:
    for prompt in PROMPTS:
        if prompt.name == name:
            return prompt
    raise UsageError(f"There is no prompt '{name}'. Prompts: {', '.join(p.name for p in PROMPTS)}.")
