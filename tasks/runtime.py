"""What the tasks need at run time, built once per worker process from the settings."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from tierline.config.settings import Settings
from tierline.config.tiers import Endpoint, TiersConfig, load_tiers
from tierline.jobs.models import JobSpec
from tierline.persistence.db import Database
from tierline.providers.base import Provider
from tierline.providers.factory import build_provider
from tierline.routing.base import Router
from tierline.routing.breaker import BreakerPolicy, Breakers, MemoryBreakers
from tierline.routing.factory import build_router
from tierline.routing.limiter import Limiter, MemoryLimiter
from tierline.routing.policy import PolicyConfig, allowed_endpoints, load_policy
from tierline.tasks.asyncloop import BackgroundLoop
from tierline.tasks.budgets import SpendCache
from tierline.tasks.deliveries import Deliveries, MemoryDeliveries, build_deliveries

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    tiers: TiersConfig
    router: Router
    simulator_url: str | None
    policy: PolicyConfig = field(default_factory=load_policy)
    breakers: Breakers = field(default_factory=MemoryBreakers)
    # Each budget's spend, re-read from the ledger every `settings.budget_refresh_s` at most.
    spend: SpendCache = field(default_factory=SpendCache)
    # Deliveries of steps that have not finished, to quarantine poison messages.
    deliveries: Deliveries = field(default_factory=MemoryDeliveries)
    # Each endpoint's requests and tokens per minute and calls in flight (routing.limiter).
    limiter: Limiter = field(default_factory=MemoryLimiter)
    _providers: dict[str, Provider] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _on_close: list[Callable[[], None]] = field(default_factory=list)
    _loop: BackgroundLoop | None = None

    def provider(self, endpoint: Endpoint) -> Provider:
        """One client per endpoint per process: the SDK clients pool their connections."""
        with self._lock:
            provider = self._providers.get(endpoint.label)
            if provider is None:
                provider = build_provider(endpoint, self.simulator_url)
                self._providers[endpoint.label] = provider
            return provider

    def chain(self, tier: int, job: JobSpec | None = None) -> list[tuple[Endpoint, Provider]]:
        """The tier's fallback chain; for a sensitive job, only the hosts its tenant allows."""
        tier_config = self.tiers.get(tier)
        endpoints = (allowed_endpoints(tier_config, job, self.policy) if job is not None
                     else list(tier_config.endpoints))
        return [(e, self.provider(e)) for e in endpoints]

    def async_loop(self) -> BackgroundLoop:
        """The process's event loop for async provider calls, started on first use."""
        with self._lock:
            if self._loop is None:
                self._loop = BackgroundLoop(limit=self.settings.tier1_calls_in_flight)
                self._on_close.append(self._loop.stop)
                # Run before the loop stops (callbacks run last first).
                self._on_close.append(self._close_async_clients)
            return self._loop

    def _close_async_clients(self) -> None:
        """Close the providers' async clients on the loop their connections belong to."""
        loop = self._loop
        for provider in list(self._providers.values()):
            aclose = getattr(provider, "aclose", None)
            if loop is not None and aclose is not None:
                try:
                    loop.run(aclose())
                except Exception:  # closing is best effort: the process is ending
                    log.warning("could not close the client of %s", provider.name, exc_info=True)

    def close(self) -> None:
        for callback in reversed(self._on_close):
            callback()
        self.db.dispose()


def build_breakers(settings: Settings, tiers: TiersConfig) -> Breakers:
    """The fleet's breakers in the broker's Redis, so every worker sees one state per endpoint;
    this process's own without a Redis broker (the embedded default)."""
    slowest = max(e.timeout_s for e in tiers.endpoints())
    lease = max(120.0, 2 * slowest)  # a probe is held longer than any call can take
    policy = BreakerPolicy(failures_to_open=settings.breaker_failures_to_open,
                           open_for_s=settings.breaker_open_s, probe_lease_s=lease,
                           forget_after_s=max(600.0, settings.breaker_open_s + lease))
    url = settings.broker_url or ""
    if url.startswith(("redis://", "rediss://")):
        from tierline.tasks.breaker_store import RedisBreakers

        return RedisBreakers.from_url(url, policy)
    return MemoryBreakers(policy)


def build_limiter(settings: Settings) -> Limiter:
    """The fleet's rate limits in the broker's Redis, so ten workers together keep a provider's
    limit; this process's own without a Redis broker (the embedded default)."""
    url = settings.broker_url or ""
    if url.startswith(("redis://", "rediss://")):
        from tierline.tasks.limiter_store import RedisLimiter

        return RedisLimiter.from_url(url)
    return MemoryLimiter()


# Starts a stand-in for the model providers in this process, at a latency time scale, and
# returns its base URL and how to stop it. Production code has none: the runs that want the
# simulator in-process (the demo, the embedded CLI, tests, benchmarks) install it here.
StartSimulator = Callable[[float], tuple[str, Callable[[], None]]]
_simulator_starter: StartSimulator | None = None


def install_simulator(start: StartSimulator | None) -> None:
    global _simulator_starter
    _simulator_starter = start


def _start_simulator(time_scale: float) -> tuple[str, Callable[[], None]]:
    if _simulator_starter is None:
        raise RuntimeError(
            "TIERLINE_SIMULATOR is on without TIERLINE_SIMULATOR_URL and no simulator runs in "
            "this process: point TIERLINE_SIMULATOR_URL at `tierline sim serve`, or set "
            "TIERLINE_SIMULATOR=false to call the real providers")
    return _simulator_starter(time_scale)


def build_runtime(settings: Settings, concurrency: int | None = None) -> Runtime:
    """Open the database, load tiers and router, and start the installed simulator if the
    settings want one in this process.

    `concurrency` is the worker's number of threads: its database pool gets one connection each
    (and a couple for the drain's and the budget cache's extra sessions), without a ping per
    checkout."""
    tiers = load_tiers(settings.tiers_file)
    on_close: list[Callable[[], None]] = []
    simulator_url = settings.simulator_url if settings.simulator else None
    if settings.simulator and not simulator_url:
        simulator_url, stop = _start_simulator(settings.simulator_time_scale)
        on_close.append(stop)
    tier1 = tiers.get(1).primary
    tier1_provider = build_provider(tier1, simulator_url)
    policy = load_policy(settings.routing_policy_file)
    # The LLM router asks the tier-1 model; the other routers ignore `complete`.
    router = build_router(settings, tiers, tier1_provider.complete, policy)
    close_router = getattr(router, "close", None)
    if callable(close_router):
        on_close.append(close_router)
    breakers = build_breakers(settings, tiers)
    on_close.append(breakers.close)
    deliveries = build_deliveries(settings.broker_url)
    on_close.append(deliveries.close)
    limiter = build_limiter(settings)
    on_close.append(limiter.close)
    database = (Database(settings.effective_database_url) if concurrency is None else
                Database(settings.effective_database_url, pool_size=concurrency + 2,
                         pre_ping=False))
    return Runtime(settings, database, tiers, router,
                   simulator_url, policy, breakers, SpendCache(settings.budget_refresh_s),
                   deliveries, limiter,
                   _providers={tier1.label: tier1_provider},
                   _on_close=on_close)


_current: Runtime | None = None
_factory: Callable[[], Runtime] | None = None
_install_lock = threading.Lock()


def install(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def install_factory(factory: Callable[[], Runtime]) -> None:
    """Build the runtime lazily, on the first task: after a prefork worker has forked."""
    global _factory
    _factory = factory


def close_current() -> None:
    """Close the process's runtime if one was built: its async clients close on their own
    loop (else aiohttp warns of unclosed sessions as the process ends) and its pools drain."""
    global _current
    with _install_lock:
        built, _current = _current, None
    if built is not None:
        built.close()


def current() -> Runtime:
    global _current
    if _current is None:
        with _install_lock:
            if _current is None and _factory is not None:
                _current = _factory()
    if _current is None:
        raise RuntimeError("no tierline runtime in this process: workers install one at start-up")
    return _current
