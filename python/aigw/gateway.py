"""The in-process gateway: ``aigw.Gateway``.

A Gateway owns one native server (``aigw._core.Server``): N worker threads, each with its own
libuv loop and listening socket. Those threads never take the GIL; this class only starts,
stops and inspects them.
"""

from __future__ import annotations

import atexit
import json
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from os import PathLike
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from aigw._core import Server
    from aigw._credential_refresh import CredentialRefresher
    from aigw._hooks import HookRunner
    from aigw.config import Config
    from aigw.cost import CostHook
    from aigw.events import Event
    from aigw.guardrails import Guardrail
    from aigw.reports import Certificate, CostHookStats, GatewayStats, UsageReport, UsageTotals
    from aigw.request_log import RequestLog
    from aigw.request_log.records import LogSink, RequestRecord


_running: weakref.WeakSet[Gateway] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:  # pragma: no cover - runs at interpreter exit
    for gw in list(_running):
        gw.stop(drain_timeout=0)


def _stop_dropped(
    server: Server,
    log: RequestLog,
    hooks: HookRunner | None,
    refreshers: Sequence[CredentialRefresher],
) -> None:
    server.stop(0.0)
    if hooks is not None:
        hooks.stop()
    for r in refreshers:
        r.stop()
    log.stop()


def _refreshers_of(providers: Mapping[str, Any]) -> list[CredentialRefresher]:
    if not any(
        p.kind == "vertex" or getattr(p, "credentials_hook", None) is not None
        for p in providers.values()
    ):
        return []  # the common case imports nothing more
    from aigw._credential_refresh import credential_refreshers

    return credential_refreshers(providers)


class Gateway:
    """An aigw gateway running inside this process.

    ``config`` is a path to a YAML/JSON/TOML file, a dict, a :class:`aigw.Config`, or None for
    the embedded default (the mock provider serving every model, no API keys, offline).
    ``host``, ``port`` and ``workers`` override the config's ``server`` section. In process the
    port defaults to 0: the kernel picks a free one, and :attr:`url` tells which.

    ``cost_hook`` prices answers in Python (``fn(ctx: aigw.CostContext) -> float | None``,
    sync or async; None keeps the table's cost): it replaces the config's ``cost.hook``, and the
    config's ``cost.timeout`` and ``cost.on_error`` apply to it (docs/cost.md).

    ``start()`` returns once every worker listens; ``stop()`` drains and joins every thread.
    Use it as a context manager, sync or async, or call ``start()``/``stop()`` (notebooks).
    """

    def __init__(
        self,
        config: str | PathLike[str] | Mapping[str, Any] | Config | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
        workers: int | None = None,
        env: Mapping[str, str] | None = None,
        guardrails: Sequence[Guardrail] = (),
        log_sinks: Sequence[LogSink] = (),
        on_completed: Callable[[RequestRecord], Any] | None = None,
        on_failed: Callable[[RequestRecord], Any] | None = None,
        cost_hook: CostHook | None = None,
    ) -> None:
        from aigw._config.defaults import default_core

        if guardrails:  # else aigw.guardrails (~1.8 MB resident) is not needed
            from aigw.guardrails import Guardrail

            for g in guardrails:
                if not isinstance(g, Guardrail):
                    raise TypeError(
                        "guardrails must be aigw.Guardrail instances (or @aigw.guardrail "
                        f"functions), not {type(g).__name__}"
                    )
        self._guardrails = list(guardrails)
        self._hooks: HookRunner | None = None

        self._overrides = {"host": host, "port": port, "workers": workers}
        # No config: the embedded default's core document is data, so the validator (pydantic,
        # ~20 MB resident for good) is not imported unless someone reads `config`.
        self._default_core = default_core(self._overrides) if config is None else None
        self._config: Config | None = None
        if self._default_core is None:
            from aigw.config import load_config

            self._config = load_config(config, env=env, overrides=self._overrides)
        config_guardrails = [] if self._config is None else self._config.guardrails
        # `kind: python` guardrails of the config, loaded now so a bad hook fails here.
        self._loaded: dict[str, Guardrail] = {}
        python = [g for g in config_guardrails if g.kind == "python"]
        if python:
            from aigw._hooks import load_guardrail

            self._loaded = {g.name: load_guardrail(g) for g in python}
        names = [g.name for g in config_guardrails] + [g.name for g in self._guardrails]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"guardrail names must be unique: {', '.join(duplicates)}")
        # The cost hook: the argument, else the config's (loaded now so a bad path fails here).
        if cost_hook is not None and not callable(cost_hook):
            raise TypeError(f"cost_hook must be callable, not {type(cost_hook).__name__}")
        self._cost_hook: CostHook | None = cost_hook
        cost = None if self._config is None else self._config.cost
        if cost_hook is None and cost is not None and cost.hook:
            from aigw._cost_hook import load_cost_hook

            self._cost_hook = load_cost_hook(cost.hook)
        # Providers whose credentials come from a hook (loaded now so a bad path fails here).
        self._refresher_hooks = (
            [] if self._config is None else _refreshers_of(self._config.providers)
        )
        self._refreshers: list[CredentialRefresher] = []
        self._lock = threading.Lock()
        self._server: Server | None = None
        self._port: int | None = None
        for sink in log_sinks:
            if not callable(getattr(sink, "write", None)):
                raise TypeError(f"a log sink needs a write(records) method; {sink!r} has none")
        self._log_sinks = list(log_sinks)
        from aigw.events import EventDispatcher

        # Request events ride on the request log: never on the data path (aigw.events).
        self._events = EventDispatcher()
        if on_completed is not None:
            self._events.on("completed", on_completed)
        if on_failed is not None:
            self._events.on("failed", on_failed)
        self._log: RequestLog | None = None
        self._last_log: RequestLog | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Gateway:
        """Bind and start the workers; returns self once the gateway accepts connections.

        Raises OSError when the address cannot be bound (e.g. the port is taken).
        """
        with self._lock:
            if self._server is not None and self._server.running:
                return self
            from aigw import _core
            from aigw._config.defaults import default_core
            from aigw.request_log import RequestLog

            cfg = self._config
            # A fresh document each start: it is added to below.
            core = None if self._default_core is None else default_core(self._overrides)
            if core is None:
                assert cfg is not None
                core = cfg.to_core_dict()
            hooks = None
            python_guardrails = [*self._loaded.values(), *self._guardrails]
            if python_guardrails:
                from aigw._hooks import python_entries

                # Python guardrails are guardrails of the core's set (kind "python"): one
                # priority order with the built-ins, selection by route and by header.
                core["guardrails"] = python_entries(
                    [] if cfg is None else cfg.guardrails, self._loaded, self._guardrails
                )
            cost_runner = None
            if self._cost_hook is not None:
                from aigw._cost_hook import CostHookRunner, backstop_ms
                from aigw.cost import CostConfig

                settings = (None if cfg is None else cfg.cost) or CostConfig()
                cost_runner = CostHookRunner(self._cost_hook, settings)
                core["hooks"] = {"cost": True, "cost_timeout_ms": backstop_ms(settings)}
            log = RequestLog(None if cfg is None else cfg.log, [*self._log_sinks, self._events])
            core["log"] = log.prepare()
            refreshers = self._refresher_hooks
            try:
                for r in refreshers:
                    r.fetch()  # before serving: a provider is never without credentials
                server = _core.Server(json.dumps(core))
                for r in refreshers:
                    r.start(server.set_provider_credentials)
                if python_guardrails or cost_runner is not None:
                    from aigw._hooks import HookRunner

                    hooks = HookRunner(server, python_guardrails, cost_runner).start()
                self._port = server.start()
            except BaseException:
                if hooks is not None:
                    hooks.stop()
                for r in refreshers:
                    r.stop()
                log.abandon()
                raise
            log.start(server)
            self._log = log
            self._server = server
            self._hooks = hooks
            self._refreshers = list(refreshers)
            # Dropped without stop(): stop the workers, then drain the log (records first).
            self._finalizer = weakref.finalize(
                self, _stop_dropped, server, log, hooks, self._refreshers
            )
            _running.add(self)
            return self

    def stop(self, drain_timeout: float | None = None) -> None:
        """Stop accepting, let in-flight requests and streams finish for up to
        ``drain_timeout`` seconds (default: ``server.drain_timeout``), close what is left and
        join every thread. Safe to call twice, or on a gateway that never started.
        """
        with self._lock:
            server = self._server
            if server is None:
                return
            server.stop(-1.0 if drain_timeout is None else max(0.0, float(drain_timeout)))
            if self._hooks is not None:
                self._hooks.stop()  # after the drain: parked requests still get their verdicts
                self._hooks = None
            for r in self._refreshers:  # after the drain too: a long stream may outlive a token
                r.stop()
            self._refreshers = []
            # The workers are joined: every record is in a journal. Drain them into the sinks.
            log, self._log = self._log, None
            if self._finalizer is not None:
                self._finalizer.detach()
                self._finalizer = None
            if log is not None:
                log.stop()
                self._last_log = log  # gw.logs() still answers after stop
            _running.discard(self)

    def on(self, event: Event, callback: Callable[[RequestRecord], Any]) -> Callable[..., Any]:
        """Calls ``callback(record)`` after each request that ``"completed"`` or ``"failed"``
        (see :mod:`aigw.events`), on an events thread, never on the data path; returns the
        callback. ``Gateway(on_completed=..., on_failed=...)`` does the same at construction."""
        return self._events.on(event, callback)

    def end_drain_now(self) -> None:
        """Make a :meth:`stop` in progress (on another thread) stop waiting for in-flight
        requests: they are closed at once, their records still written and flushed."""
        server = self._server
        if server is not None:
            server.end_drain_now()

    def __enter__(self) -> Gateway:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Gateway:
        import asyncio

        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        import asyncio

        await asyncio.to_thread(self.stop)

    # ------------------------------------------------------------------ inspection

    @property
    def config(self) -> Config:
        """The validated configuration this gateway runs (without a config: the embedded
        default, validated on first use)."""
        if self._config is None:
            from aigw.config import load_config

            self._config = load_config(None, overrides=self._overrides)
        return self._config

    @property
    def drain_timeout(self) -> float:
        """Seconds :meth:`stop` lets requests finish by default (``server.drain_timeout``)."""
        if self._default_core is not None:
            return float(self._default_core["server"]["drain_timeout_ms"]) / 1000
        return self.config.server.drain_timeout

    @property
    def running(self) -> bool:
        server = self._server
        return server is not None and server.running

    @property
    def host(self) -> str:
        if self._default_core is not None:
            host: str = self._default_core["server"]["host"]
            return host
        return self.config.server.host

    @property
    def port(self) -> int | None:
        """The port the gateway listens on (the real one when configured as 0), or None."""
        return self._port if self.running else None

    @property
    def workers(self) -> int | None:
        server = self._server
        return server.workers if server is not None and server.running else None

    @property
    def url(self) -> str:
        """Base URL of the running gateway, e.g. ``http://127.0.0.1:43121`` (``https://`` with
        ``server.tls``)."""
        if not self.running:
            raise RuntimeError("the gateway is not running; call start() first")
        host = self.host
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        scheme = "https" if self._serves_https() else "http"
        return f"{scheme}://{host}:{self._port}"

    def _serves_https(self) -> bool:
        # The embedded default (no validated config) never has server.tls.
        return self._config is not None and self._config.server.tls is not None

    def reload_tls(self) -> Certificate:
        """Reload the HTTPS certificate, key and client CA (``server.tls``) from their files now,
        changed or not. New connections get the new certificate; open ones keep theirs.

        Returns the certificate now served: ``{"subject", "serial", "not_after", "expired"}``.
        Raises :class:`aigw.ConfigError` naming the file and the problem when the files are
        refused (the current certificate stays), RuntimeError when the gateway is not running
        or has no ``server.tls``. The files are also checked every ``server.tls.reload_interval``
        seconds, and ``aigw serve`` reloads on SIGHUP.
        """
        server = self._server
        if server is None or not server.running:
            raise RuntimeError("the gateway is not running; call start() first")
        if not self._serves_https():
            raise RuntimeError("the gateway serves plain HTTP: there is no server.tls to reload")
        field, message = server.reload_tls()
        if message:
            from aigw.config import ConfigError

            path = f"server.tls.{field}" if field else "server.tls"
            raise ConfigError([f"{path}: {message}"], self._config.source)
        certificate: Certificate = json.loads(server.stats_json())["tls"]["certificate"]
        return certificate

    def stats(self) -> GatewayStats:
        """Counters of the data plane: connections, requests, refusals, errors, timeouts, TLS
        (``stats()["tls"]`` with ``server.tls``: handshakes, failures, reloads, the certificate),
        the guardrails' (``stats()["guardrails"]``, built-in and Python alike, see
        docs/guardrails.md), the hook thread's (``stats()["hooks"]``, with Python guardrails or
        a cost hook: docs/guardrails-python.md) and the request log's (``stats()["log"]``, see
        docs/logging.md). Typed as :class:`aigw.GatewayStats`; a gateway that never started
        reports only ``{"running": False}``."""
        server = self._server
        if server is None:
            return {"running": False}
        stats: GatewayStats = json.loads(server.stats_json())
        if self._hooks is not None:
            stats["hooks"] = self._hooks.stats()
            cost = self._hooks.cost_stats()
            if cost is not None:  # the hook thread's counts, with the C++ backstop's
                merged = {**cost, **stats.get("cost_hook", {})}
                stats["cost_hook"] = cast("CostHookStats", merged)
        log = self._log
        if log is not None:
            stats["log"] = {**stats["log"], **log.stats()}
        return stats

    def usage(
        self,
        *,
        day: str | date | None = None,
        provider: str | None = None,
        model: str | None = None,
    ) -> UsageReport:
        """Tokens and cost of the requests answered since the gateway last started.

        Returns ``{"total": T, "by_model": {model: T}, "by_provider": {provider: T},
        "by_day": {"YYYY-MM-DD": T}, "rows": [{"day", "provider", "model", **T}]}`` where
        ``T`` is ``{"requests", "prompt_tokens", "completion_tokens", "cached_tokens",
        "cost_usd", "unpriced_requests"}``. Days are UTC; the model is the one that answered
        (``x-aigw-model``). ``day``, ``provider`` and ``model`` keep only matching requests.
        The same document is served at ``GET /v1/usage`` (see docs/cost.md); its type is
        :class:`aigw.UsageReport`.
        """
        server = self._server
        if server is None:
            zero: UsageTotals = {
                "requests": 0,
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "cached_tokens": 0,
                "cost_usd": 0.0,
                "unpriced_requests": 0,
            }
            return {"total": zero, "by_model": {}, "by_provider": {}, "by_day": {}, "rows": []}
        day_text = day.isoformat() if isinstance(day, date) else (day or "")
        usage: UsageReport = json.loads(server.usage_json(day_text, provider or "", model or ""))
        return usage

    def logs(
        self,
        limit: int = 100,
        *,
        status: int | str | None = None,
        model: str | None = None,
        since: float | None = None,
        request_id: str | None = None,
    ) -> list[RequestRecord]:
        """Recent request records (dicts, newest first) from memory: the last
        ``log.memory_records`` (default 1000) of this gateway, replays included.

        ``status``: an HTTP status, ``"error"`` (>= 400, no status, or an error) or ``"ok"``;
        ``model``: requested or upstream model; ``since``: epoch seconds;
        ``request_id``: the ``x-aigw-request-id`` of one request. Records reach memory within
        ``log.flush_interval``; call :meth:`flush_logs` first to see every finished request.
        """
        log = self._log or self._last_log
        if log is None:
            return []
        return log.logs(limit=limit, status=status, model=model, since=since, request_id=request_id)

    def flush_logs(self, timeout: float = 5.0) -> bool:
        """Deliver every record written so far to every sink (and to :meth:`logs`); True
        once done within ``timeout`` seconds."""
        log = self._log
        return True if log is None else log.flush(timeout)

    def __repr__(self) -> str:
        source = "<default>" if self._default_core is not None else self.config.source or "<dict>"
        if self.running:
            return (
                f"<aigw.Gateway running url={self.url!r} workers={self.workers} config={source!r}>"
            )
        return f"<aigw.Gateway stopped config={source!r}>"
