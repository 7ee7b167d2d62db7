"""Specifications of `routeur_grpc.services`."""
