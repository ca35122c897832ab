"""The project config: strict keys, and the parse cache that must never serve a stale file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from raw.config.project import load_config
from raw.errors import ConfigError


def write(path: Path, text: str, *, mtime_ns: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_an_edited_config_is_parsed_again_not_served_from_the_cache(tmp_path: Path) -> None:
    config = tmp_path / ".raw" / "config.yaml"
    config.parent.mkdir()
    write(config, "version: 1\nruns_dir: a\n", mtime_ns=1_000_000_000)
    assert load_config(config).runs_dir == "a"
    assert (config.parent / "cache" / "config.json").exists()

    write(config, "version: 1\nruns_dir: b\n", mtime_ns=2_000_000_000)
    assert load_config(config).runs_dir == "b"

    write(config, "version: 1\nrunsdir: b\n", mtime_ns=3_000_000_000)
    with pytest.raises(ConfigError, match="unknown key 'runsdir'"):
        load_config(config)


def test_a_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    config = tmp_path / ".raw" / "config.yaml"
    (config.parent / "cache").mkdir(parents=True)
    (config.parent / "cache" / "config.json").write_text("{not json", encoding="utf-8")
    config.write_text("version: 1\nname: x\n", encoding="utf-8")
    assert load_config(config).name == "x"


def test_unknown_gate_names_are_refused_with_what_is_allowed(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("builder:\n  gates:\n    default: [validate, lint]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown gate 'lint'.*allowed: validate, dry"):
        load_config(config)


def test_the_system_section_is_validated_on_first_use_with_the_key_named(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("system:\n  orchestrator:\n    task_queu: x\n", encoding="utf-8")
    loaded = load_config(config)  # reading the file does not build the system schema
    with pytest.raises(
        ConfigError,
        match=r"unknown key 'system\.orchestrator\.task_queu'\. Did you mean 'task_queue'\? "
        r"\(allowed: address, namespace, task_queue",
    ):
        loaded.system  # noqa: B018


def test_raw_run_does_not_build_the_system_schema(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = tmp_path / "p"
    (root / ".raw" / "workflows" / "hi").mkdir(parents=True)
    (root / ".raw" / "config.yaml").write_text("version: 1\n", encoding="utf-8")
    (root / ".raw" / "workflows" / "hi" / "run.py").write_text(
        "from raw import BaseWorkflow, step\n\n\nclass Hi(BaseWorkflow):\n"
        "    @step\n    def hi(self) -> str:\n        return 'hi'\n",
        encoding="utf-8",
    )
    code = (
        "import sys\nfrom raw.cli.main import main\ntry:\n    main(['run', 'hi', '--json'])\n"
        "except SystemExit:\n    pass\nprint('system loaded:', 'raw.config.system' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_") and k != "DATABASE_URL"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, env=env, check=True
    ).stdout
    assert out.strip().endswith("system loaded: False")
