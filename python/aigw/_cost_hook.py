"""The custom cost hook on the hook thread: loads it, runs it with its timeout, turns what it
returns (or raises) into the cost the data plane uses, and counts what happened.

The data plane sends a snapshot of the answer (kind ``"cost"``) through the HookQueue and holds
the answer until the result comes back as ``{"cost_usd": number | null}``. Whatever the hook
does, this module answers: a hook that raises, times out or returns something that is not a
number >= 0 (or None) gives the table's cost (``on_error: table``) or none (``on_error: null``),
logged on the ``aigw.cost`` logger and counted in ``gw.stats()["cost_hook"]``.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import math
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import Any

from aigw.cost import CostConfig, CostContext, CostHook

log = logging.getLogger("aigw.cost")


def load_cost_hook(path: str) -> CostHook:
    """The function ``cost.hook: "module:attr"`` names (it must be callable)."""
    module_name, _, attr = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cost hook {path!r}: cannot load it: {exc}") from exc
    if not callable(obj):
        raise ValueError(f"cost hook {path!r}: not callable ({type(obj).__name__})")
    hook: CostHook = obj
    return hook


def backstop_ms(settings: CostConfig) -> int:
    """The C++ backstop for one answer: the hook's timeout plus a second of slack."""
    return int((settings.timeout + 1.0) * 1000)


def _is_async(fn: Callable[..., Any]) -> bool:
    call = getattr(fn, "__call__", None)  # noqa: B004 - an object with an async __call__
    return inspect.iscoroutinefunction(fn) or (
        not inspect.isfunction(fn) and call is not None and inspect.iscoroutinefunction(call)
    )


class CostHookRunner:
    """Runs one cost hook on the hook thread's loop (sync hooks in ``pool``)."""

    def __init__(self, hook: CostHook, settings: CostConfig) -> None:
        self.hook = hook
        self.settings = settings
        self._async = _is_async(hook)
        self._name = getattr(hook, "__qualname__", None) or type(hook).__name__
        self._lock = threading.Lock()
        self._calls = 0
        self._errors = 0
        self._timeouts = 0
        self._total_ms = 0.0

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": self._calls,
                "errors": self._errors,
                "timeouts": self._timeouts,
                "total_ms": round(self._total_ms, 3),
            }

    async def run(
        self,
        payload: str,
        loop: asyncio.AbstractEventLoop,
        pool: Executor,
        resume: Callable[[Coroutine[Any, Any, Any], Any], Coroutine[Any, Any, Any]],
    ) -> dict[str, Any]:
        """The result for the data plane: ``{"cost_usd": float | None}``."""
        ctx = CostContext.from_snapshot(payload)
        started = time.perf_counter()
        error = timed_out = False
        cost: float | None
        try:
            if self._async:
                # Most hooks finish without waiting: run the first step here, arm the timeout
                # only if it actually waits (as the guardrails do).
                coro = self.hook(ctx)
                try:
                    first = coro.send(None)  # type: ignore[union-attr]
                except StopIteration as finished:
                    outcome: Any = finished.value
                else:
                    async with asyncio.timeout(self.settings.timeout):
                        outcome = await resume(coro, first)  # type: ignore[arg-type]
            else:
                async with asyncio.timeout(self.settings.timeout):
                    outcome = await loop.run_in_executor(pool, self.hook, ctx)
                    if inspect.isawaitable(outcome):
                        outcome = await outcome
            cost = self._checked(outcome, ctx)
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            timed_out = True
            log.error(
                "cost hook %s timed out after %g s on request %s (on_error=%s)",
                self._name,
                self.settings.timeout,
                ctx.request_id,
                self.settings.on_error,
            )
            cost = self._fallback(ctx)
        except Exception:
            error = True
            log.error(
                "cost hook %s failed on request %s (on_error=%s)",
                self._name,
                ctx.request_id,
                self.settings.on_error,
                exc_info=True,
            )
            cost = self._fallback(ctx)
        ms = (time.perf_counter() - started) * 1000.0
        with self._lock:
            self._calls += 1
            self._errors += error
            self._timeouts += timed_out
            self._total_ms += ms
        return {"cost_usd": cost}

    def _checked(self, outcome: Any, ctx: CostContext) -> float | None:
        if outcome is None:
            return ctx.table_cost_usd
        if isinstance(outcome, bool) or not isinstance(outcome, (int, float)):
            raise TypeError(f"returned {type(outcome).__name__}, not a number of USD or None")
        value = float(outcome)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"returned {value!r}: a cost is a finite number >= 0")
        return value

    def _fallback(self, ctx: CostContext) -> float | None:
        return ctx.table_cost_usd if self.settings.on_error == "table" else None
