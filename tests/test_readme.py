"""The README stays true: every setting is documented, and the two commands exist."""

from __future__ import annotations

import re
from pathlib import Path

from routeur_grpc.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table():
    documented = set(re.findall(rf"`({ENV_PREFIX}[A-Z0-9_]+)`", README))
    expected = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    assert expected <= documented, f"undocumented: {sorted(expected - documented)}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in README
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")
