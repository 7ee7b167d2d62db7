"""The application's parts, built from the settings one area at a time.

`routeur_grpc.application.build_application` composes these builders; each takes the
settings and the parts it needs and returns its own, so a new feature touches the one
area it belongs to rather than one long function. Nothing here decides anything: what a
part does lives in the package it comes from. This package sits above `services/` and
below `server.py`: it may import any layer, and nothing but `application.py` imports it.
"""
