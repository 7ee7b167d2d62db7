"""Server interceptors: request context, error mapping."""
