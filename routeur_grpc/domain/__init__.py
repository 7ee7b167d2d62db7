"""Domain types and interfaces: what Routeur is about, free of transport concerns."""
