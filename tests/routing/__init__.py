"""Specifications of `routeur_grpc.routing`: catalog, deployments, retries, the router."""
