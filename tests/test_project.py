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


RICH = (
    "version: 1\nname: shop\ncache_dir: .raw/mycache\n"
    "builder:\n  gates:\n    default: [validate, lint]\n    optional:\n"
    "      lint: {command: ruff check, timeout_seconds: 5}\n      dry: {}\n"
    "system:\n  name: shop\n  extra: {a: [1, 2]}\n"
)


def test_a_config_validated_before_is_rebuilt_as_validation_builds_it(tmp_path: Path) -> None:
    import yaml

    from raw.config.project import ProjectConfig

    config = tmp_path / ".raw" / "config.yaml"
    config.parent.mkdir()
    write(config, RICH, mtime_ns=1_000_000_000)
    first = load_config(config)  # validated, and the validation recorded
    again = load_config(config)  # rebuilt from the record
    expected = ProjectConfig.model_validate(yaml.safe_load(RICH))
    expected._source = config
    for loaded in (first, again):
        assert loaded == expected
        assert loaded.model_fields_set == expected.model_fields_set
        gates, want = loaded.builder.gates, expected.builder.gates
        assert gates.model_fields_set == want.model_fields_set
        assert gates.optional["lint"].model_fields_set == {"command", "timeout_seconds"}
        assert gates.optional["dry"].model_fields_set == set()
        assert loaded.model_dump_json() == expected.model_dump_json()
    assert again.builder is not first.builder  # its own objects, never shared


def test_a_recorded_validation_of_another_schema_is_not_used(tmp_path: Path) -> None:
    import json

    config = tmp_path / ".raw" / "config.yaml"
    config.parent.mkdir()
    write(config, "version: 1\nname: fresh\n", mtime_ns=1_000_000_000)
    load_config(config)
    cache = config.parent / "cache" / "config.json"
    record = json.loads(cache.read_text(encoding="utf-8"))
    assert record["validated"]["config"] == {"version": 1, "name": "fresh"}
    record["validated"] = {"schema": ["an older kit"], "config": {"name": "stale"}}
    cache.write_text(json.dumps(record), encoding="utf-8")
    assert load_config(config).name == "fresh"
    # and an edited file is validated again, whatever the record says
    write(config, "version: 1\nnme: typo\n", mtime_ns=2_000_000_000)
    with pytest.raises(ConfigError, match="unknown key 'nme'"):
        load_config(config)


def test_a_run_with_a_validated_config_builds_no_config_schema(tmp_path: Path) -> None:
    import subprocess
    import sys

    config = tmp_path / ".raw" / "config.yaml"
    config.parent.mkdir()
    config.write_text(RICH, encoding="utf-8")
    code = (
        "from pathlib import Path\nfrom raw.config import project as p\n"
        "c = p.load_config(Path('.raw/config.yaml'))\n"
        "print(c.builder.gates.default, [m.__pydantic_complete__ for m in "
        "(p.ProjectConfig, p.BuilderConfig, p.GatesConfig, p.GateCommand)])"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs[0].startswith("['validate', 'lint'] [True, ")  # validated: ProjectConfig built
    assert runs[1] == "['validate', 'lint'] [False, False, False, False]"  # rebuilt: not
