"""`raw deploy render|check`: deployment files from the system config, checked offline.

Exit codes: 0 written / clean; 1 ``check`` found problems (each names its file,
its object and the fix); 2 an invalid config, a bad argument, an unsupported
Kubernetes version or a missing checker; 3 no project.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from raw import console as output
from raw.cli.process import action_adder

EXAMPLES = """\
examples:
  raw deploy render                       (writes deploy/: Dockerfile, Compose, k8s/, helm/)
  raw deploy render --out build/deploy --json
  raw deploy check                        (checks deploy/ against the system)
  raw deploy check build/deploy --kubernetes-version 1.33.0 --json

exit codes: 0 clean, 1 findings, 2 invalid config or usage, 3 no project"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    action = action_adder(parser)
    p = action("render", "Write the Dockerfile, docker-compose.yml, k8s/ and a Helm chart.")
    p.add_argument(
        "--out", metavar="DIR", help="where to write them (default: deploy/ in the project)"
    )
    p.set_defaults(handler=cmd_render)
    p = action("check", "Check deployment files with the real schemas and against the system.")
    p.add_argument(
        "directory", metavar="DIR", nargs="?", help="the folder to check (default: deploy/)"
    )
    p.add_argument(
        "--kubernetes-version",
        metavar="X.Y.Z",
        help="the Kubernetes API to check against (default: system.deploy.kubernetes_version)",
    )
    p.set_defaults(handler=cmd_check)


def cmd_render(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw deploy loads PyYAML.
    from raw.commands.deploy import deploy_render_document
    from raw.deploy.compose_secrets import SECRETS_DIR, compose_secrets

    done = deploy_render_document(args.project_dir, args.out)
    if args.json:
        output.emit_json(done.body)
        return output.OK
    result = done.detail
    plan = result.plan
    print(f"Wrote {len(result.files)} files to {result.out} for the system '{plan.name}':")
    for name in result.files:
        print(f"  {name}")
    for name in result.removed:
        print(f"  removed {name} (no longer rendered)")
    keys = plan.secret_keys()
    needed = ", ".join(s.name for s in keys if s.required)
    optional = ", ".join(s.name for s in keys if not s.required)
    print(
        f"\nThe Secret {plan.secret_name} must hold: {needed}"
        + (f"; it may hold: {optional}." if optional else ".")
    )
    if plan.temporal_tls_secret is not None:
        keys_tls = ", ".join(key for _, key in plan.temporal_tls_files())
        print(f"The Secret {plan.temporal_tls_secret} must hold Temporal's TLS files: {keys_tls}.")
    files = [s.filename for s in compose_secrets(plan)]
    if files:
        folder = _shown(result.out / SECRETS_DIR)
        print(f"Compose mounts these files from {folder}/: {', '.join(files)}.")
    local = plan.local_integrations()
    if local:
        print(
            f"Note: {', '.join(local)} use local adapters (a catcher, a simulator, a folder): "
            "switch them to their production adapters before deploying."
        )
    print(f"Next: raw deploy check {_shown(result.out)}")
    return output.OK


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def cmd_check(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw deploy needs it.
    from raw.commands.deploy import deploy_check_document

    done = deploy_check_document(
        args.project_dir, args.directory, kubernetes_version=args.kubernetes_version
    )
    report, code = done.detail, done.exit_code
    if args.json:
        output.emit_json(done.body)
        return code
    counts = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in report.checked.items())
    where = f"{report.directory} (Kubernetes {report.kubernetes_version}; {counts})"
    if report.ok:
        print(f"{where}: no findings.")
        return code
    by_file: dict[str, list[str]] = defaultdict(list)
    for finding in report.findings:
        by_file[finding.file].append(
            f"  {finding.object}: {finding.problem}\n    fix: {finding.fix}  [{finding.check}]"
        )
    for file, lines in by_file.items():
        print(output.style(file, "1"))
        print("\n".join(lines))
    print(f"\n{where}: {len(report.findings)} finding(s).")
    return code
