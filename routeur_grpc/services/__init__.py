"""Domain services: what each RPC does, independent of gRPC."""
