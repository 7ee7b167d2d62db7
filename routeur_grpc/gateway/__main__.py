"""Run or inspect the REST gateway on its own.

python -m routeur_grpc.gateway serve    # Envoy only, settings from ROUTEUR_*
python -m routeur_grpc.gateway render   # print the Envoy configuration it would run
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from routeur_grpc.gateway import GatewayConfig, GatewayError, run_gateway
from routeur_grpc.gateway.config import render_envoy_config
from routeur_grpc.settings import SettingsError, load_settings
from routeur_grpc.structured_logging import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m routeur_grpc.gateway", description=__doc__)
    parser.add_argument("command", choices=("serve", "render"))
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"routeur gateway: {error}", file=sys.stderr)
        return 2
    try:
        if args.command == "render":
            with tempfile.TemporaryDirectory() as work_dir:
                print(render_envoy_config(GatewayConfig.from_settings(settings), Path(work_dir)))
            return 0
        configure_logging(settings.log_level, settings.log_format)
        return asyncio.run(run_gateway(settings))
    except GatewayError as error:
        print(f"routeur gateway: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
