"""An installed wheel carries the gateway's files: Envoy's configuration renders from the
package alone, far from any source checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds a wheel

ROOT = Path(__file__).resolve().parents[1]
ASSETS = "routeur_grpc/gateway/assets/"
RENDER = """
import sys, tempfile
from pathlib import Path
from routeur_grpc.gateway.config import GatewayConfig, render_envoy_config
with tempfile.TemporaryDirectory() as work:
    text = render_envoy_config(GatewayConfig(upstreams=("127.0.0.1:50051",)), Path(work))
assert sys.argv[1] in text, "paths point into the installed package"
print("rendered")
"""


def test_the_wheel_holds_the_gateway_files_and_renders_without_a_checkout(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("routeur-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for name in ("envoy.yaml", "rest_adapter.lua", "openapi.json", "routeur_v1.pb"):
            assert ASSETS + name in names
            assert archive.getinfo(ASSETS + name).file_size > 100  # a copy, not a link
        assert not any(n.endswith("gateway/openapi.py") for n in names), "a build tool"
        archive.extractall(tmp_path / "installed")
    installed = tmp_path / "installed"
    result = subprocess.run(
        [sys.executable, "-c", RENDER, str(installed / ASSETS)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "rendered" in result.stdout
