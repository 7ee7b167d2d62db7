"""As many open files as the system lets this process have.

Each stream holds a socket to its provider, and each client connection one more. The soft
limit on open files (often 1,024) would refuse them long before
`ROUTEUR_MAX_CONCURRENT_CALLS`. As Go's runtime does for every program, `serve` raises
the soft limit to the hard one at start; workers and Envoy inherit it.
"""

from __future__ import annotations

import resource

#: Linux refuses more than `fs.nr_open` (1,048,576 by default), even when the hard limit
#: is unlimited.
UNLIMITED_TARGET = 1_048_576


def raise_open_files_limit() -> int:
    """Raise the soft limit on open files to the hard one; return the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = UNLIMITED_TARGET if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft  # a container may forbid it: keep what we have
        return target
    return soft
