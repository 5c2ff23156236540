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
import logging
import math
import threading
import time
from typing import TYPE_CHECKING, Any

from aigw._hooks import call_hook, is_async
from aigw._import_path import load_object
from aigw._sync_hooks import SyncHookPool, SyncHookRejected
from aigw.cost import CostConfig, CostContext, CostHook

if TYPE_CHECKING:
    from aigw.reports import CostHookThreadStats

log = logging.getLogger("aigw.cost")


def load_cost_hook(path: str) -> CostHook:
    """The function ``cost.hook: "module:attr"`` names (it must be callable)."""
    obj = load_object(path, what="cost hook")
    if not callable(obj):
        raise ValueError(f"cost hook {path!r}: not callable ({type(obj).__name__})")
    hook: CostHook = obj
    return hook


# The C++ backstop fires this long after the hook's timeout if no result came: the runner
# answers at the timeout itself, so the slack only covers a hook thread that cannot run then
# (PythonGuardrail::kBackstopSlackMs is the same for guardrails).
BACKSTOP_SLACK_S = 0.1


def backstop_ms(settings: CostConfig) -> int:
    """The C++ backstop for one answer: the hook's timeout plus the slack."""
    return round((settings.timeout + BACKSTOP_SLACK_S) * 1000)


class CostHookRunner:
    """Runs one cost hook on the hook thread's loop (sync hooks in ``pool``)."""

    def __init__(self, hook: CostHook, settings: CostConfig) -> None:
        self.hook = hook
        self.settings = settings
        self.is_async = is_async(hook)
        self._name = getattr(hook, "__qualname__", None) or type(hook).__name__
        self._lock = threading.Lock()
        self._calls = 0
        self._errors = 0
        self._timeouts = 0
        self._total_ms = 0.0

    def stats(self) -> CostHookThreadStats:
        with self._lock:
            return {
                "calls": self._calls,
                "errors": self._errors,
                "timeouts": self._timeouts,
                "total_ms": round(self._total_ms, 3),
            }

    async def run(self, payload: str, pool: SyncHookPool) -> dict[str, Any]:
        """The result for the data plane: ``{"cost_usd": float | None}``."""
        ctx = CostContext.from_snapshot(payload)
        started = time.perf_counter()
        error = timed_out = False
        cost: float | None
        try:
            outcome = await call_hook(
                self.hook,
                ctx,
                is_async=self.is_async,
                timeout=self.settings.timeout,
                pool=pool,
                hook="cost",
            )
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
        except SyncHookRejected as exc:
            error = True
            log.error(
                "cost hook %s not run on request %s (on_error=%s): %s",
                self._name,
                ctx.request_id,
                self.settings.on_error,
                exc,
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
