"""gRPC servicers: each translates protobuf to domain calls and back, nothing more."""
