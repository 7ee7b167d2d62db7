"""Specifications of `routeur_grpc.providers`: every provider through its real SDK against its
fake upstream (`tests/fakes`), and end to end through the server."""
