"""Rate limits and budgets: counters shared by every request of a user or an API key.

`counters` defines the one interface (`CounterStore`) and its values; `memory` keeps the
counters in this process (one instance), `redis_store` in Redis (several instances behind
one Envoy). `policy` says which counters a caller is charged on; `report` carries the
outcome to the response metadata.
"""
