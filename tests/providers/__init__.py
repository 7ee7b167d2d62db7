"""Providers, routing and accounting tests (fake upstreams in `tests/fakes`)."""
