"""Specifications of `routeur_grpc.interceptors`: admission, errors, request decoding."""
