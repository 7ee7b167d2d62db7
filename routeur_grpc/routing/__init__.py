"""Routing: from a model name to the provider that serves it, and back with the answer."""
