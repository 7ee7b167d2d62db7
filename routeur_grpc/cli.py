"""`routeur-grpc`: run the server, or call it from a terminal.

    routeur-grpc serve
    routeur-grpc complete "Bonjour !" --model local/smollm2-135m-instruct --stream
    routeur-grpc models
    routeur-grpc transcribe meeting.mp3 --language fr [--meeting] [--job]

The client commands authenticate with `--api-key`, else the `ROUTEUR_API_KEY` variable,
else the admin key the server wrote at its first start (`data_dir/admin.key`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import grpc
from routeur.v1 import (
    completion_service_pb2,
    completion_service_pb2_grpc,
    model_service_pb2,
    model_service_pb2_grpc,
)

from routeur_grpc import cli_transcribe, event_loop
from routeur_grpc.open_files import raise_open_files_limit
from routeur_grpc.settings import SettingsError, load_settings
from routeur_grpc.structured_logging import configure_logging

DEFAULT_MODEL = "local/smollm2-135m-instruct"
# A client-side variable, not a server setting: the key the CLI calls with.
API_KEY_VARIABLE = "ROUTEUR_API_KEY"
ADMIN_KEY_FILE = "admin.key"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="routeur-grpc", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gRPC server (settings from ROUTEUR_*)")
    serve.set_defaults(run=_serve)

    complete = commands.add_parser("complete", help="ask a model for a completion")
    complete.add_argument("message", help="the text to answer")
    complete.add_argument("--model", default=DEFAULT_MODEL)
    complete.add_argument("--max-tokens", type=int)
    complete.add_argument("--temperature", type=float)
    complete.add_argument("--top-p", type=float)
    complete.add_argument("--seed", type=int, help="for repeatable answers")
    complete.add_argument(
        "--stop", action="append", default=[], metavar="TEXT",
        help="end the answer before this text (repeatable, up to 4)",
    )
    complete.add_argument("--stream", action="store_true", help="print tokens as they come")
    complete.set_defaults(run=_complete)

    models = commands.add_parser("models", help="list the models")
    models.set_defaults(run=_models)

    transcribe = cli_transcribe.add_parser(commands)
    transcribe.set_defaults(
        run=lambda args: cli_transcribe.transcribe(args, _address(args), _credentials(args))
    )

    # REST gateway alone (routeur_grpc.gateway), for servers running elsewhere.
    gateway = commands.add_parser(
        "gateway", help="run only the REST gateway (Envoy) in front of the gRPC server(s)"
    )
    gateway.set_defaults(run=_gateway)

    for client in (complete, models, transcribe):
        client.add_argument("--address", default=None, help="server host:port "
                            "(default: ROUTEUR_GRPC_ADDRESS or 127.0.0.1:50051)")
        client.add_argument("--timeout", type=float, default=300.0, help="deadline, seconds")
        client.add_argument("--api-key", default=None, help=f"API key or token (default: "
                            f"{API_KEY_VARIABLE}, or data_dir/{ADMIN_KEY_FILE})")
    return parser


def _serve(args: argparse.Namespace) -> int:
    from routeur_grpc.server import StartupError, serve
    from routeur_grpc.workers import WorkersError, serve_workers, worker_count

    try:
        settings = load_settings()
        workers = worker_count(settings)
    except (SettingsError, WorkersError) as error:
        print(f"routeur-grpc: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    raise_open_files_limit()
    running = serve(settings) if workers == 1 else serve_workers(settings, workers)
    try:
        event_loop.run(running, settings.event_loop)
    except (StartupError, WorkersError) as error:
        print(f"routeur-grpc: {error}", file=sys.stderr)
        return 1
    return 0


def _gateway(args: argparse.Namespace) -> int:
    from routeur_grpc.gateway.__main__ import main as gateway_main

    return gateway_main(["serve"])


def _address(args: argparse.Namespace) -> str:
    if args.address:
        return args.address
    try:
        return load_settings().grpc_address
    except SettingsError:
        return "127.0.0.1:50051"


def _credentials(args: argparse.Namespace) -> tuple[tuple[str, str], ...]:
    """`authorization` metadata from --api-key, ROUTEUR_API_KEY or the admin key file."""
    key = args.api_key or os.environ.get(API_KEY_VARIABLE, "").strip()
    if not key:
        try:
            data_dir = load_settings().data_dir
        except SettingsError:
            data_dir = Path("data")
        try:
            key = (data_dir / ADMIN_KEY_FILE).read_text().strip()
        except OSError:
            key = ""
    return (("authorization", f"Bearer {key}"),) if key else ()


def _complete(args: argparse.Namespace) -> int:
    fields: dict[str, object] = {"message": args.message, "model": args.model}
    if args.max_tokens is not None:
        fields["max_tokens"] = args.max_tokens
    for name in ("temperature", "top_p", "seed"):
        if getattr(args, name) is not None:
            fields[name] = getattr(args, name)
    if args.stop:
        fields["stop"] = args.stop
    with grpc.insecure_channel(_address(args)) as channel:
        stub = completion_service_pb2_grpc.CompletionServiceStub(channel)
        try:
            if args.stream:
                request = completion_service_pb2.StreamCompletionRequest(**fields)
                stream = stub.StreamCompletion(
                    request, timeout=args.timeout, metadata=_credentials(args)
                )
                for chunk in stream:
                    print(chunk.content, end="", flush=True)
                    if chunk.HasField("error"):
                        print(f"\nerror: {chunk.error.message}", file=sys.stderr)
                        return 1
                    if chunk.done:
                        usage = chunk.metadata.usage
                        print(f"\n[{chunk.metadata.model}: {usage.input_tokens} tokens in, "
                              f"{usage.output_tokens} out, {chunk.metadata.latency_s:.2f} s]",
                              file=sys.stderr)
            else:
                request = completion_service_pb2.CompleteRequest(**fields)
                response = stub.Complete(
                    request, timeout=args.timeout, metadata=_credentials(args)
                )
                print(response.response)
        except grpc.RpcError as error:
            return _report(error)
    return 0


def _models(args: argparse.Namespace) -> int:
    with grpc.insecure_channel(_address(args)) as channel:
        stub = model_service_pb2_grpc.ModelServiceStub(channel)
        try:
            response = stub.ListModels(
                model_service_pb2.ListModelsRequest(),
                timeout=args.timeout,
                metadata=_credentials(args),
            )
        except grpc.RpcError as error:
            return _report(error)
    for model in response.models:
        flag = "" if model.available else "  (unavailable)"
        print(f"{model.name:40} {model.provider:18} {model.description}{flag}")
    return 0


def _report(error: grpc.RpcError) -> int:
    print(f"error: {error.code().name}: {error.details()}", file=sys.stderr)  # type: ignore[attr-defined]
    if error.code() == grpc.StatusCode.UNAUTHENTICATED:  # type: ignore[attr-defined]
        print(f"hint: pass --api-key, set {API_KEY_VARIABLE}, or run from the directory "
              f"holding the server's data/{ADMIN_KEY_FILE}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
