"""What a Gateway reports about itself, as TypedDicts: ``gw.stats()`` (the data plane's counters,
with the hook thread's and the log thread's) and ``gw.usage()`` (tokens and cost, also served
at ``GET /v1/usage``).

The documents are JSON made in C++ (GatewayServer::statsJson, UsageBook::json) and completed
in Python; tests/python/package/test_typed_surface.py compares these types with real
documents, key for key, so they cannot drift apart.
"""

from __future__ import annotations

from typing import Literal, TypedDict

__all__ = [
    "Certificate",
    "CostHookStats",
    "CostHookThreadStats",
    "GatewayStats",
    "GuardrailStats",
    "HookStats",
    "LogSinkStats",
    "LogStats",
    "LogThreadStats",
    "RoutingStats",
    "SyncHookCounters",
    "SyncPoolStats",
    "TlsStats",
    "TokenCounts",
    "UsageReport",
    "UsageRow",
    "UsageTotals",
]

# ------------------------------------------------------------------ stats()


class Certificate(TypedDict):
    """The HTTPS certificate served now (also what ``gw.reload_tls()`` returns)."""

    subject: str  # RFC 2253, e.g. "CN=api.example.com,O=Example"
    serial: str  # upper-case hex
    not_after: str  # ISO 8601 UTC
    expired: bool


class TlsStats(TypedDict):
    """``stats()["tls"]``, with ``server.tls`` only."""

    handshakes: int
    handshake_failures: int
    handshake_timeouts: int
    errors: int
    reloads: int
    reload_failures: int
    last_reload_error: str | None
    certificate: Certificate


class RoutingStats(TypedDict):
    """``stats()["routing"]``: sums over every route and target."""

    retries: int
    retry_budget_denied: int
    fallbacks: int
    unavailable: int
    cap_rejections: int
    ejections: int


class LogSinkStats(TypedDict):
    name: str
    open: bool
    records: int
    errors: int
    last_error: str | None


class LogThreadStats(TypedDict, total=False):
    """The log thread's part of ``stats()["log"]``: there while the gateway runs."""

    dir: str
    run: str
    handoff: Literal["memory", "journal"]
    replayed_runs: int
    torn_lines: int
    bad_lines: int
    sinks: list[LogSinkStats]


class LogStats(LogThreadStats):
    """``stats()["log"]``: the data plane's journal counters, and the log thread's."""

    enabled: bool
    records_written: int
    journal_bytes: int
    pending_bytes: int
    journal_files: int
    records_spilled: int
    backpressure_refusals: int
    records_dropped: int


class GuardrailStats(TypedDict):
    """``stats()["guardrails"][name]``, built-in and Python guardrails alike."""

    kind: str
    stages: list[Literal["input", "during", "output", "stream"]]
    runs: int
    blocks: int
    redactions: int
    errors: int
    timeouts: int
    duration_us: int
    upstream_cancels: int


class SyncHookCounters(TypedDict):
    """One hook's share of the sync pool (``stats()["hooks"]["sync"]["by_hook"][name]``)."""

    running: int
    queued: int
    abandoned: int
    calls: int
    timeouts: int
    expired_in_queue: int
    abandoned_total: int
    rejected: int


class SyncPoolStats(TypedDict):
    """The pool that runs sync hooks: settings, threads now, counters in total and by hook."""

    threads: int
    share: int
    max_abandoned: int
    max_abandoned_per_hook: int
    live_threads: int
    idle_threads: int
    abandoned: int
    running: int
    queued: int
    calls: int
    timeouts: int
    expired_in_queue: int
    abandoned_total: int
    rejected: int
    by_hook: dict[str, SyncHookCounters]


class HookStats(TypedDict):
    """``stats()["hooks"]``, with Python guardrails or a cost hook."""

    sync: SyncPoolStats


class CostHookThreadStats(TypedDict, total=False):
    """The hook thread's part of ``stats()["cost_hook"]``: there while the gateway runs."""

    calls: int
    errors: int
    timeouts: int
    total_ms: float


class CostHookStats(CostHookThreadStats):
    """``stats()["cost_hook"]``, with a cost hook: the hook thread's counts and the data
    plane's backstop (answers that went out with the table's cost because no result came)."""

    backstop_timeouts: int


class TokenCounts(TypedDict):
    prompt_tokens: int
    completion_tokens: int


# Everything but `running`: a gateway that never started reports only {"running": False}.
class _ServerStats(TypedDict, total=False):
    workers: int
    uptime_s: float
    connections_active: int
    connections_accepted: int
    connections_refused: int
    requests: int
    requests_in_flight: int
    framing_errors: int
    limit_errors: int
    timeouts: int
    client_aborts: int
    tls: TlsStats  # with server.tls
    routing: RoutingStats
    log: LogStats
    guardrails: dict[str, GuardrailStats]
    usage: TokenCounts
    hooks: HookStats  # with Python guardrails or a cost hook
    cost_hook: CostHookStats  # with a cost hook


class GatewayStats(_ServerStats):
    """``gw.stats()``. Once the gateway has started, every key is there but ``tls``, ``hooks``
    and ``cost_hook``, which depend on the config (see each)."""

    running: bool


# ------------------------------------------------------------------ usage()


class UsageTotals(TypedDict):
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    cost_usd: float
    unpriced_requests: int  # answered without a cost (no usage, or no price)


class UsageRow(UsageTotals):
    """The totals of one (day, provider, model)."""

    day: str  # YYYY-MM-DD, UTC
    provider: str
    model: str  # the model that answered (x-aigw-model)


class UsageReport(TypedDict):
    """``gw.usage()`` and ``GET /v1/usage``."""

    total: UsageTotals
    by_model: dict[str, UsageTotals]
    by_provider: dict[str, UsageTotals]
    by_day: dict[str, UsageTotals]
    rows: list[UsageRow]
