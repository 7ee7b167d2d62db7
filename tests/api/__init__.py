"""Specifications of `routeur_grpc.api`: the servicers over a real server."""
