"""Routeur: an AI router delivered as a grpc.aio microservice."""

__version__ = "0.1.0"
