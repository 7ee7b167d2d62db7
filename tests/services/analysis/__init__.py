"""Specifications of `routeur_grpc.services.analysis*`, over a server with a fake OpenAI."""
