"""`python -m routeur_grpc` is `routeur-grpc`."""

from routeur_grpc.cli import main

raise SystemExit(main())
