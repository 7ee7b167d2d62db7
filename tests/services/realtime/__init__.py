"""Specifications of the realtime sessions (`routeur_grpc.services.realtime`, its WebSocket endpoint)."""
