"""raw.testing.projects.copy_project: the project comes along, its local state does not."""

from __future__ import annotations

from pathlib import Path

from raw.testing.projects import LOCAL_STATE, copy_project


def test_a_copy_keeps_the_project_and_leaves_local_state_behind(tmp_path: Path) -> None:
    source = tmp_path / "system"
    raw = source / ".raw"
    (raw / "workflows" / "score" / "runs" / "r1").mkdir(parents=True)
    (raw / "workflows" / "score" / "run.py").write_text("# the workflow\n")
    (raw / "config.yaml").write_text("version: 1\n")
    (raw / "histories" / "P").mkdir(parents=True)
    (raw / "histories" / "P" / "h.json").write_text("{}")
    for name in LOCAL_STATE:
        (raw / name).mkdir(exist_ok=True)
    for name in ("coordinator.db", "coordinator.db-wal"):
        (raw / name).write_text("")
    (source / "pkg" / "__pycache__").mkdir(parents=True)
    (source / "pkg" / "code.py").write_text("x = 1\n")

    target = copy_project(source, tmp_path / "copy")

    kept = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert kept == [
        ".raw/config.yaml",
        ".raw/histories/P/h.json",
        ".raw/workflows/score/run.py",
        "pkg/code.py",
    ]
