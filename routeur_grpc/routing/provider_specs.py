"""Kept for imports written before provider specs moved to `routeur_grpc.domain`."""

from routeur_grpc.domain.provider_spec import ProviderSpec, RemoteProviderType

__all__ = ["ProviderSpec", "RemoteProviderType"]
