"""Servicers for contracts whose feature is not built yet.

Every method answers UNIMPLEMENTED with a message naming the missing feature, never a
silent empty answer.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor

from routeur_grpc.errors import NotImplementedFeature


def unimplemented_servicer(base: type, service: ServiceDescriptor, feature: str) -> Any:
    """An instance of `base` (a generated servicer class) refusing every method."""
    methods = {
        method.name: _refusal(f"{service.full_name}/{method.name}", feature)
        for method in service.methods
    }
    return type(f"Unimplemented{service.name}", (base,), methods)()


def _refusal(method: str, feature: str) -> Any:
    async def refuse(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        raise NotImplementedFeature(
            f"{method} is not available yet: {feature} is not built in this version of "
            "Routeur.",
            metadata={"method": method},
        )

    return refuse
