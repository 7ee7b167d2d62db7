"""Health of the service and of each dependency it relies on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

HealthCheck = Callable[[], Awaitable[str | None]]
"""Returns when the dependency works (optionally a word on its state, e.g. a provider's
circuit); raises with a readable message when it does not."""


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    name: str
    healthy: bool
    message: str = ""


@dataclass(frozen=True, slots=True)
class HealthReport:
    status: str  # healthy, degraded or unhealthy
    components: tuple[ComponentHealth, ...]


class HealthChecker:
    """Runs every dependency's check; the service is degraded when one fails."""

    def __init__(
        self,
        checks: Mapping[str, HealthCheck],
        more: Callable[[], Mapping[str, HealthCheck]] | None = None,
    ) -> None:
        """`more`: checks of components that come and go at run time (asked each report)."""
        self._checks = dict(checks)
        self._more = more

    def add_check(self, name: str, check: HealthCheck) -> None:
        """A dependency known only once the service runs (e.g. the REST gateway)."""
        self._checks[name] = check

    async def report(self) -> HealthReport:
        components = []
        checks = {**self._checks, **(self._more() if self._more is not None else {})}
        for name, check in checks.items():
            try:
                note = await check()
                components.append(ComponentHealth(name, True, note or ""))
            except Exception as error:  # noqa: BLE001 - any failure means unhealthy
                components.append(ComponentHealth(name, False, str(error) or type(error).__name__))
        status = "healthy" if all(c.healthy for c in components) else "degraded"
        return HealthReport(status, tuple(components))
