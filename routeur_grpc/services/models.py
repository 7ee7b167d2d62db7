"""The models callers can name: the catalog as the router knows it, filtered and sorted.

Servicers (ModelService, the OpenAI-compatible `/v1/models`) call this rather than the
router, so the rules — sort order, what "available" means — live in one place.
"""

from __future__ import annotations

from routeur_grpc.domain.models import ModelInfo
from routeur_grpc.errors import InvalidArgument
from routeur_grpc.routing.router import ModelRouter


class ModelsService:
    """Lists and looks up models."""

    def __init__(self, router: ModelRouter) -> None:
        self._router = router

    async def list(self, *, provider: str = "", available_only: bool = False) -> list[ModelInfo]:
        """Models of the catalog, by provider then name; `available_only`: only those a
        configured provider serves here."""
        models = [
            model
            for model in await self._router.list_models()
            if (not provider or model.provider == provider)
            and (model.available or not available_only)
        ]
        models.sort(key=lambda model: (model.provider, model.name))
        return models

    async def get(self, name: str) -> ModelInfo:
        if not name:
            raise InvalidArgument("`name` is empty: give a model name from ListModels.")
        return await self._router.get_model(name)
