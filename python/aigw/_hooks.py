"""The hook thread: runs Python guardrails for the C++ data plane.

Two threads per gateway with hooks: the *hook thread* owns an asyncio loop where every check
runs (async checks directly, sync checks through a small thread pool), and a *feeder* that waits
for jobs inside the C++ HookQueue (without the GIL) and hands them to the loop in batches. A
verdict goes back with ``Server.complete_hook``; C++ posts it to the worker that parked the
request. The loop threads of the data plane never take the GIL.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aigw import _core
from aigw.guardrails import (
    Guardrail,
    GuardrailStats,
    Request,
    Verdict,
    apply_redactions,
    apply_rewrite,
)

log = logging.getLogger("aigw.guardrails")

_BATCH = 256
_POLL_S = 0.1


def _record(name: str, verdict: str, ms: float | None, error: str | None) -> dict[str, Any]:
    """One guardrail's result, as the request's record keeps it."""
    return {"name": name, "verdict": verdict, "duration_ms": ms, "error": error}


def verdict_timeout_ms(guardrails: Sequence[Guardrail]) -> int:
    """The C++ backstop for one request's verdict: every priority group's longest timeout,
    one group after the other, plus a second of slack."""
    longest: dict[int, float] = {}
    for g in guardrails:
        longest[g.priority] = max(longest.get(g.priority, 0.0), float(g.timeout))
    return int((sum(longest.values()) + 1.0) * 1000)


class HookRunner:
    def __init__(self, server: _core.Server, guardrails: Sequence[Guardrail]) -> None:
        self._server = server
        names = [g.name for g in guardrails]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"guardrail names must be unique: {', '.join(duplicates)}")
        # Priority groups, lowest first.
        groups: dict[int, list[Guardrail]] = {}
        for g in guardrails:
            groups.setdefault(g.priority, []).append(g)
        self._groups = [groups[p] for p in sorted(groups)]
        self._async = {g.name: inspect.iscoroutinefunction(g.check) for g in guardrails}
        self._stats = {g.name: GuardrailStats() for g in guardrails}
        self._stats_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="aigw-guardrail")
        self._loop = asyncio.new_event_loop()
        self._stopping = threading.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_thread = threading.Thread(target=self._run_loop, name="aigw-hooks", daemon=True)
        self._feeder = threading.Thread(target=self._feed, name="aigw-hooks-feeder", daemon=True)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> HookRunner:
        self._loop_thread.start()
        self._feeder.start()
        return self

    def stop(self) -> None:
        """Fails what is still waiting (its requests are gone by now) and joins both threads."""
        self._stopping.set()
        self._server.close_hooks()
        self._feeder.join()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._loop_thread.join()
        self._loop.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def stats(self) -> dict[str, Any]:
        with self._stats_lock:
            return {name: s.as_dict() for name, s in self._stats.items()}

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()
        # Stopped: whatever is still running belongs to requests that are gone.
        for task in asyncio.all_tasks(self._loop):
            task.cancel()
        self._loop.run_until_complete(asyncio.sleep(0))

    def _feed(self) -> None:
        while not self._stopping.is_set():
            jobs = self._server.take_hook_jobs(_BATCH, _POLL_S)
            if jobs:
                self._loop.call_soon_threadsafe(self._spawn, jobs)

    def _spawn(self, jobs: list[tuple[int, str, str]]) -> None:
        for job_id, kind, payload in jobs:
            task = self._loop.create_task(self._handle(job_id, kind, payload))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ one request

    async def _handle(self, job_id: int, kind: str, payload: str) -> None:
        try:
            if kind != "guardrails.input":
                raise ValueError(f"unknown hook job kind {kind!r}")
            result = await self._run_input(json.loads(payload))
            self._server.complete_hook(job_id, True, json.dumps(result))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the layer itself failed: the request fails closed
            log.exception("guardrail layer failed on job %s", job_id)
            self._server.complete_hook(job_id, False, f"{type(exc).__name__}: {exc}")

    async def _run_input(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        request = Request(snapshot)
        results: list[dict[str, Any]] = []
        changed = False
        for group in self._groups:
            tasks = {asyncio.ensure_future(self._run_one(g, request)): g for g in group}
            blocked: tuple[Guardrail, Verdict] | None = None
            pending = set(tasks)
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for fut in done:
                    g = tasks[fut]
                    verdict, record = fut.result()
                    results.append(record)
                    if verdict.action == "block" and blocked is None:
                        blocked = (g, verdict)
                    elif verdict.action == "rewrite":
                        apply_rewrite(request.body, verdict)
                        changed = True
                    elif verdict.action == "redact":
                        changed = apply_redactions(request.body, verdict.redactions) or changed
                if blocked is not None and pending:
                    for fut in pending:
                        fut.cancel()
                    for fut in pending:
                        g = tasks[fut]
                        results.append(
                            {
                                "name": g.name,
                                "verdict": "cancelled",
                                "duration_ms": None,
                                "error": None,
                            }
                        )
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
                outcome: Any = await asyncio.wait_for(g.check(request), g.timeout)  # type: ignore[arg-type]
            else:
                future = self._loop.run_in_executor(self._pool, g.check, request)
                outcome = await asyncio.wait_for(future, g.timeout)
                if inspect.isawaitable(outcome):
                    outcome = await asyncio.wait_for(outcome, g.timeout)
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
