"""The hook thread: runs Python guardrails and the custom cost hook for the C++ data plane.

One thread per gateway with hooks owns an asyncio loop where every hook runs (async ones
directly, sync ones through a small thread pool). A job's kind says which: ``guardrails.input``
(a request's input guardrails) or ``cost`` (pricing an answer, aigw._cost_hook). The C++
HookQueue makes an eventfd readable when jobs wait; the loop's reader drains them all at once
(one wake-up per batch, no second thread handing the GIL back and forth). A result goes back
with ``Server.complete_hook``; C++ posts it to the worker that parked the request. The data
plane's loop threads never take the GIL.
"""

from __future__ import annotations

import asyncio
import copy
import importlib
import inspect
import json
import logging
import threading
import time
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from aigw import _core
from aigw.guardrails import (
    Guardrail,
    GuardrailStats,
    Request,
    Verdict,
    _check_settings,
    apply_redactions,
    apply_rewrite,
    guardrail,
)

if TYPE_CHECKING:
    from aigw._cost_hook import CostHookRunner

log = logging.getLogger("aigw.guardrails")


async def _resume(coro: Coroutine[Any, Any, Any], yielded: Any) -> Any:
    """Drives a coroutine that already ran its first step (and yielded `yielded`) to its end,
    the way an asyncio Task would: wait for each future it yields, then resume it; a
    cancellation of the task running this is thrown into the coroutine."""
    while True:
        try:
            if yielded is None:  # a bare yield: asyncio.sleep(0)
                await asyncio.sleep(0)
            else:
                yielded._asyncio_future_blocking = False
                if not yielded.done():
                    await asyncio.wait((yielded,))
        except asyncio.CancelledError as cancel:
            if yielded is not None:
                yielded.cancel()
            try:
                yielded = coro.throw(cancel)
            except StopIteration as finished:
                return finished.value
            continue
        try:
            yielded = coro.send(None)
        except StopIteration as finished:
            return finished.value


def _priority_groups(guardrails: Sequence[Guardrail]) -> list[list[Guardrail]]:
    """Guardrails grouped by priority, lowest first (config order within a group)."""
    groups: dict[int, list[Guardrail]] = {}
    for g in guardrails:
        groups.setdefault(g.priority, []).append(g)
    return [groups[p] for p in sorted(groups)]


def _apply(request: Request, verdict: Verdict) -> bool:
    """Applies a rewrite or redaction to the request; True when the body changed."""
    if verdict.action == "rewrite":
        apply_rewrite(request.body, verdict)
        return True
    if verdict.action == "redact":
        return apply_redactions(request.body, verdict.redactions)
    return False


def _record(name: str, verdict: str, ms: float | None, error: str | None) -> dict[str, Any]:
    """One guardrail's result, as the request's record keeps it."""
    return {"name": name, "verdict": verdict, "duration_ms": ms, "error": error}


def verdict_timeout_ms(guardrails: Iterable[Guardrail]) -> int:
    """The C++ backstop for one request's verdict: every priority group's longest timeout,
    one group after the other, plus a second of slack."""
    longest: dict[int, float] = {}
    for g in guardrails:
        longest[g.priority] = max(longest.get(g.priority, 0.0), float(g.timeout))
    return int((sum(longest.values()) + 1.0) * 1000)


def load_guardrail(spec: Any) -> Guardrail:
    """Builds the guardrail a ``kind: python`` config entry names (``hook: "module:attr"``):
    an aigw.Guardrail subclass (built with ``options``), an instance, or a check function. The
    entry's name, and its priority, timeout and on_error when given, override the object's."""
    module_name, _, attr = spec.hook.partition(":")
    where = f"guardrail {spec.name!r} (hook {spec.hook!r})"
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"{where}: cannot load it: {exc}") from exc
    options = dict(spec.options or {})
    if isinstance(obj, type) and issubclass(obj, Guardrail):
        try:
            g = obj(**options)
        except TypeError as exc:
            raise ValueError(f"{where}: bad options: {exc}") from exc
    elif isinstance(obj, Guardrail) or callable(obj):
        if options:
            raise ValueError(f"{where}: options are only for a Guardrail class")
        g = copy.copy(obj) if isinstance(obj, Guardrail) else guardrail(obj)
    else:
        raise ValueError(f"{where}: not a Guardrail, a Guardrail class or a function")
    g.name = spec.name
    for key in ("priority", "timeout", "on_error"):
        if key in spec.model_fields_set and getattr(spec, key) is not None:
            setattr(g, key, getattr(spec, key))
    _check_settings(g)
    return g


class HookRunner:
    """Runs the Python guardrails and the cost hook. ``everywhere`` apply to every request;
    ``by_route`` maps a route name to more that apply to its requests only; ``cost`` prices
    answers (None: no cost hook)."""

    def __init__(
        self,
        server: _core.Server,
        everywhere: Sequence[Guardrail],
        by_route: Mapping[str, Sequence[Guardrail]] | None = None,
        cost: CostHookRunner | None = None,
    ) -> None:
        self._server = server
        self._cost = cost
        by_route = by_route or {}
        guardrails = {id(g): g for g in [*everywhere, *(g for gs in by_route.values() for g in gs)]}
        names = [g.name for g in guardrails.values()]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"guardrail names must be unique: {', '.join(duplicates)}")
        self._groups = _priority_groups(everywhere)
        # Parsing the snapshot to learn its route is only needed when routes differ.
        self._by_route = (
            {route: _priority_groups([*everywhere, *gs]) for route, gs in by_route.items()}
            if by_route
            else None
        )
        guardrails_list = list(guardrails.values())
        self._async = {g.name: inspect.iscoroutinefunction(g.check) for g in guardrails_list}
        self._stats = {g.name: GuardrailStats() for g in guardrails_list}
        self._stats_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="aigw-guardrail")
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._run_loop, name="aigw-hooks", daemon=True)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> HookRunner:
        self._thread.start()
        self._ready.wait()
        return self

    def stop(self) -> None:
        """Fails what is still waiting (its requests are gone by now) and joins the thread."""
        self._server.close_hooks()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def stats(self) -> dict[str, Any]:
        with self._stats_lock:
            return {name: s.as_dict() for name, s in self._stats.items()}

    def cost_stats(self) -> dict[str, Any] | None:
        return None if self._cost is None else self._cost.stats()

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        fd = self._server.hook_fd
        self._loop.add_reader(fd, self._on_jobs)
        self._loop.call_soon(self._ready.set)
        self._loop.run_forever()
        self._loop.remove_reader(fd)
        # Stopped: whatever is still running belongs to requests that are gone.
        for task in asyncio.all_tasks(self._loop):
            task.cancel()
        self._loop.run_until_complete(asyncio.sleep(0))

    def _on_jobs(self) -> None:
        for job_id, kind, payload in self._server.drain_hook_jobs():
            task = self._loop.create_task(self._handle(job_id, kind, payload))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ one request

    async def _handle(self, job_id: int, kind: str, payload: str) -> None:
        try:
            if kind == "cost" and self._cost is not None:
                result = await self._cost.run(payload, self._loop, self._pool, _resume)
            elif kind == "guardrails.input":
                result = await self._run_input(Request(payload))
            else:
                raise ValueError(f"unknown hook job kind {kind!r}")
            self._server.complete_hook(job_id, True, json.dumps(result))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the layer failed: guardrails fail closed, cost takes the table's
            log.exception("hook layer failed on %s job %s", kind, job_id)
            self._server.complete_hook(job_id, False, f"{type(exc).__name__}: {exc}")

    async def _run_input(self, request: Request) -> dict[str, Any]:
        results: list[dict[str, Any]] = []
        changed = False
        groups = self._groups
        if self._by_route is not None:
            groups = self._by_route.get(request.route or "", self._groups)
        for group in groups:
            blocked: tuple[Guardrail, Verdict] | None = None
            if len(group) == 1:  # the common case: no task to spawn
                verdict, record = await self._run_one(group[0], request)
                results.append(record)
                changed = _apply(request, verdict) or changed
                if verdict.action == "block":
                    blocked = (group[0], verdict)
            else:
                tasks = {asyncio.ensure_future(self._run_one(g, request)): g for g in group}
                pending = set(tasks)
                while pending:
                    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    for fut in done:
                        verdict, record = fut.result()
                        results.append(record)
                        if verdict.action == "block":
                            blocked = blocked or (tasks[fut], verdict)
                        else:
                            changed = _apply(request, verdict) or changed
                    if blocked is not None and pending:
                        for fut in pending:
                            fut.cancel()
                            results.append(_record(tasks[fut].name, "cancelled", None, None))
                        await asyncio.gather(*pending, return_exceptions=True)
                        pending = set()
            if blocked is not None:
                g, v = blocked
                return {
                    "action": "block",
                    "guardrail": g.name,
                    "status": v.status,
                    "message": v.message,
                    "type": v.type,
                    "code": v.code,
                    "results": results,
                }
        if changed:
            return {"action": "rewrite", "body": request.body, "results": results}
        return {"action": "allow", "results": results}

    async def _run_one(self, g: Guardrail, request: Request) -> tuple[Verdict, dict[str, Any]]:
        started = time.perf_counter()
        error: str | None = None
        timed_out = False
        try:
            if self._async[g.name]:
                # Most checks finish without waiting for anything: run the coroutine's first
                # step here, and arm the timeout only if it actually waits.
                coro = g.check(request)
                try:
                    first = coro.send(None)  # type: ignore[union-attr]
                except StopIteration as finished:
                    outcome: Any = finished.value
                else:
                    async with asyncio.timeout(g.timeout):
                        outcome = await _resume(coro, first)  # type: ignore[arg-type]
            else:
                async with asyncio.timeout(g.timeout):
                    outcome = await self._loop.run_in_executor(self._pool, g.check, request)
                    if inspect.isawaitable(outcome):
                        outcome = await outcome
            if not isinstance(outcome, Verdict):
                raise TypeError(f"check() returned {type(outcome).__name__}, not an aigw.Verdict")
            verdict = outcome
        except asyncio.CancelledError:
            raise
        except asyncio.TimeoutError:
            timed_out = True
            error = f"timed out after {g.timeout:g} s"
            log.error("guardrail %r %s (on_error=%s)", g.name, error, g.on_error)
            verdict = self._on_error(g, error)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.error("guardrail %r raised (on_error=%s)", g.name, g.on_error, exc_info=True)
            verdict = self._on_error(g, error)
        ms = (time.perf_counter() - started) * 1000.0
        with self._stats_lock:
            s = self._stats[g.name]
            s.runs += 1
            s.total_ms += ms
            s.blocks += verdict.action == "block"
            s.rewrites += verdict.action in ("rewrite", "redact")
            s.errors += error is not None and not timed_out
            s.timeouts += timed_out
        record = {
            "name": g.name,
            "verdict": verdict.action,
            "duration_ms": round(ms, 3),
            "error": error,
        }
        return verdict, record

    @staticmethod
    def _on_error(g: Guardrail, error: str) -> Verdict:
        if g.on_error == "allow":
            return Verdict("allow")
        return Verdict(
            "block",
            message=f"guardrail {g.name!r} failed: {error}",
            status=503,
            type="service_unavailable_error",
            code="guardrail_error",
        )
