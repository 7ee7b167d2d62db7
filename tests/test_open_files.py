"""`serve` raises its soft limit on open files to the hard one, as Go's runtime does."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_the_soft_limit_on_open_files_is_raised_to_the_hard_one() -> None:
    script = textwrap.dedent(
        """
        import resource
        from routeur_grpc.open_files import raise_open_files_limit
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        now = raise_open_files_limit()
        print(now, resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.split()
    now, soft, hard = (int(value) for value in out)
    assert now == soft > 256
    assert soft == hard or hard == -1  # -1: unlimited, capped at the kernel's maximum
