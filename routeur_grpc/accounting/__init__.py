"""Accounting for each completion: price, carbon footprint and everyday equivalences."""
