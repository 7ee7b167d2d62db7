"""`python -m routeur_grpc` is `routeur-grpc`."""

from routeur_grpc.cli import main

if __name__ == "__main__":  # not when a worker process is spawned from this module
    raise SystemExit(main())
