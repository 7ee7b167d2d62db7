"""The README stays true: every setting is documented, the two commands exist, and its
examples are read as runnable commands (test_readme_examples.py runs them)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from readme_blocks import PLACEHOLDER, blocks, examples

from routeur_grpc.settings import ENV_PREFIX, Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table():
    documented = set(re.findall(rf"`({ENV_PREFIX}[A-Z0-9_]+)`", README))
    expected = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    assert expected <= documented, f"undocumented: {sorted(expected - documented)}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in README
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")


# How README examples are read (tests/readme_blocks.py); test_readme_examples.py runs them.

SAMPLE = """\
## Calling it

```bash
make run     # the top-level command
export KEY=$(cat data/admin.key)

# a comment, then a command on two lines
curl -s http://127.0.0.1:8080/models \\
  -H "Authorization: Bearer $KEY"
```

<!-- not run: it rebuilds the checkout -->

```sh
make protos
```

```toml
key = "a configuration file, not commands"
```

```python
print("hello")
```
"""


def test_shell_lines_are_commands_with_continuations_kept_and_make_run_left_out():
    runnable, _ = examples(SAMPLE)
    shell = [example for example in runnable if example.kind == "shell"]
    assert [example.text for example in shell] == [
        "export KEY=$(cat data/admin.key)",
        'curl -s http://127.0.0.1:8080/models \\\n  -H "Authorization: Bearer $KEY"',
    ]
    assert [example.line for example in shell] == [5, 8]
    assert (
        shell[1].test_id
        == 'L8 curl -s http://127.0.0.1:8080/models -H "Authorization: Bearer $KEY"'
    )


def test_a_block_is_skipped_only_with_a_visible_reason():
    runnable, not_run = examples(SAMPLE)
    assert [(block.language, block.not_run) for block in not_run] == [
        ("sh", "it rebuilds the checkout")
    ]
    assert "make protos" not in {example.text for example in runnable}


def test_python_blocks_run_whole_and_configuration_blocks_not_at_all():
    runnable, _ = examples(SAMPLE)
    assert [example.text for example in runnable if example.kind == "python"] == ['print("hello")']
    assert not any("configuration file" in example.text for example in runnable)


def test_every_readme_block_left_unrun_says_why():
    _, not_run = examples(README)
    for block in not_run:
        assert len(block.not_run or "") >= 20, f"line {block.line}: give a real reason"


def test_readme_examples_need_no_placeholder_filled_in():
    runnable, _ = examples(README)
    for example in runnable:
        assert not PLACEHOLDER.search(example.text), f"line {example.line}: {example.text}"


LOOPS = """\
```bash
ROUTEUR_METRICS_PORT=9464 make run
for attempt in 1 2 3; do
  curl -s http://127.0.0.1:8080/health
done
cat > request.json <<'JSON'
{"message": "Bonjour"}
JSON
echo 'a quote
over two lines'
```

```console
$ curl -s http://127.0.0.1:8080/health
{"status": "SERVING"}
```
"""


def test_a_command_spans_every_line_until_the_shell_would_run_it():
    runnable, _ = examples(LOOPS)
    assert [example.text.splitlines()[0] for example in runnable] == [
        "for attempt in 1 2 3; do",
        "cat > request.json <<'JSON'",
        "echo 'a quote",
        "curl -s http://127.0.0.1:8080/health",
    ]
    assert [len(example.text.splitlines()) for example in runnable] == [3, 3, 2, 1]


def test_every_configuration_file_example_is_read_by_the_settings(tmp_path, monkeypatch):
    """The README's ```toml blocks are configuration files a reader copies: each loads."""
    configurations = [block for block in blocks(README) if block.language == "toml"]
    assert configurations
    for number, block in enumerate(configurations):
        path = tmp_path / f"routeur-{number}.toml"
        path.write_text(block.text)
        for name in list(os.environ):
            if name.startswith(ENV_PREFIX):
                monkeypatch.delenv(name)
        monkeypatch.setenv(f"{ENV_PREFIX}CONFIG_FILE", str(path))
        try:
            load_settings()
        except SettingsError as error:
            raise AssertionError(f"README line {block.line}: {error}") from None


def architecture_paths() -> list[Path]:
    """The paths the Architecture section's tree names (`dir/` starts a nested list)."""
    (tree,) = [block for block in blocks(README) if block.heading == "Architecture"][:1]
    paths: list[Path] = []
    parent = ROOT
    for line in tree.text.splitlines():
        names = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        if not names:
            continue
        nested = line.startswith("  ")
        for name in names.split(", "):
            if " " in name:
                break  # prose, not a path
            path = (parent if nested else ROOT) / name.rstrip("/")
            paths.append(path)
            if not nested and name.endswith("/"):
                parent = path
    return paths


def test_every_path_of_the_architecture_map_exists():
    paths = architecture_paths()
    assert ROOT / "routeur_grpc" / "server.py" in paths
    missing = [
        str(path.relative_to(ROOT))
        for path in paths
        if not (list(path.parent.glob(path.name)) if "*" in path.name else path.exists())
    ]
    assert not missing, f"README's Architecture names missing paths: {missing}"


def test_every_package_of_the_server_is_on_the_architecture_map():
    paths = set(architecture_paths())
    packages = {path.parent for path in (ROOT / "routeur_grpc").glob("*/__init__.py")}
    assert not packages - paths, f"add to README's Architecture: {sorted(packages - paths)}"
