"""The hook thread: runs Python guardrail checks and the custom cost hook for the C++ data plane.

Each Python guardrail is a guardrail of the C++ GuardrailSet (kind "python"): the worker's
stage run orders it among the built-ins by priority and, when its turn comes, submits one job
per (guardrail, stage) to the HookQueue. One thread per gateway with Python guardrails owns an
asyncio loop whose selector waits in C++ (``Server.serve_hooks``) for jobs and the loop's own
events at once, and takes every waiting job when it wakes (jobs submitted in one worker loop
turn arrive together). A check whose coroutine finishes on its first step is answered at once,
without a task (its verdict leaves just before the thread sleeps again); the others run as a
task, which a cancelled job (a sibling blocked first, the client left, the backstop fired)
cancels: the check gets ``asyncio.CancelledError``. Sync checks run in a small thread pool
(aigw._sync_hooks: deadlines, a share per hook, timed-out threads written off). A
``cost`` job prices one answer with the cost hook (aigw._cost_hook). Tasks answer with
``Server.complete_hook``; C++ posts each verdict to the worker that parked the request. The
data plane's loop threads never take the GIL.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import inspect
import json
import logging
import math
import selectors
import threading
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from aigw import _core
from aigw._config.guardrail_defaults import default_block, timeout_ms
from aigw._guardrail_views import Request, Response, StreamWindow, _Snapshot
from aigw._import_path import load_object
from aigw._sync_hooks import SyncHookPool, SyncHookRejected
from aigw._verdicts import Verdict, apply_rewrite
from aigw.guardrails import _METHODS, Guardrail, _check_settings, _FunctionGuardrail, guardrail

if TYPE_CHECKING:
    from aigw._cost_hook import CostHookRunner
    from aigw.reports import CostHookThreadStats, HookStats

log = logging.getLogger("aigw.guardrails")

_ALLOW = '{"verdict":"allow"}'


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


def is_async(fn: Callable[..., Any]) -> bool:
    """Whether calling ``fn`` gives a coroutine: an ``async def`` function or method, or an
    object (not a class: calling one builds an instance) whose ``__call__`` is one."""
    if inspect.iscoroutinefunction(fn):
        return True
    if inspect.isfunction(fn) or inspect.ismethod(fn) or isinstance(fn, type):
        return False
    return inspect.iscoroutinefunction(getattr(fn, "__call__", None))  # noqa: B004


async def finish_hook(
    fn: Callable[[Any], Any],
    arg: Any,
    coro: Coroutine[Any, Any, Any] | None,
    first: Any,
    *,
    timeout: float,
    pool: SyncHookPool,
    hook: str,
) -> Any:
    """The rest of a hook call, within ``timeout`` seconds (else TimeoutError): ``coro``, which
    already ran its first step (that yielded ``first``), to its end; or, ``coro`` None, the sync
    ``fn(arg)`` in ``pool`` as ``hook`` (and the awaitable it may return, in what is left of
    the time). SyncHookRejected: ``hook`` has too many calls running past their timeout."""
    if coro is not None:
        async with asyncio.timeout(timeout):
            return await _resume(coro, first)
    # The pool answers TimeoutError at the deadline itself, queue time included, even if the
    # thread is still busy; the same deadline bounds an awaitable the function may return.
    deadline = asyncio.get_running_loop().time() + timeout
    outcome = await pool.call(hook, fn, arg, timeout)
    if inspect.isawaitable(outcome):
        async with asyncio.timeout_at(deadline):
            outcome = await outcome
    return outcome


async def call_hook(
    fn: Callable[[Any], Any],
    arg: Any,
    *,
    is_async: bool,
    timeout: float,
    pool: SyncHookPool,
    hook: str,
) -> Any:
    """What ``fn(arg)`` returns. An async hook runs its first step at once and gets its timeout
    only if it waits (most finish without waiting); a sync one runs in ``pool`` as ``hook``."""
    coro: Any = None
    first: Any = None
    if is_async:
        coro = fn(arg)
        try:
            first = coro.send(None)
        except StopIteration as finished:
            return finished.value
    return await finish_hook(fn, arg, coro, first, timeout=timeout, pool=pool, hook=hook)


def core_entry(g: Guardrail, spec: Any = None) -> dict[str, Any]:
    """The core config entry (kind "python") of a loaded guardrail: its own settings, the
    config entry's selection fields (``spec``), or, without one (passed to
    ``aigw.Gateway(guardrails=...)``), every route and every JSON request."""
    everywhere = spec is None
    return {
        "name": g.name,
        "kind": "python",
        "stages": list(g.stages),
        "priority": g.priority,
        "action": "block",  # a Python guardrail decides by its verdict
        "on_error": g.on_error,
        "default": everywhere or spec.default,
        "request_selectable": False if everywhere else spec.request_selectable,
        "passthrough": everywhere or spec.passthrough,
        "everywhere": everywhere,
        # What a block answers where the verdict says nothing (the verdict's own wins).
        "block": default_block() if everywhere else spec.block.model_dump(),
        "timeout_ms": timeout_ms(g.timeout),
        "window": g.window,
    }


def load_guardrail(spec: Any) -> Guardrail:
    """Builds the guardrail a ``kind: python`` config entry names (``hook: "module:attr"``):
    an aigw.Guardrail subclass (built with ``options``), an instance, or a check function. The
    entry's name, and its stage, priority, timeout and on_error when given, override the
    object's."""
    obj = load_object(spec.hook, what=f"guardrail {spec.name!r}: hook")
    where = f"guardrail {spec.name!r} (hook {spec.hook!r})"
    options = dict(spec.options or {})
    try:
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
        if "stage" in spec.model_fields_set:
            g.stages = tuple(spec.stages)
        for key in ("priority", "timeout", "on_error", "window"):
            if key in spec.model_fields_set and getattr(spec, key) is not None:
                setattr(g, key, getattr(spec, key))
        _check_settings(g)
    except (TypeError, ValueError) as exc:
        if str(exc).startswith(where):
            raise
        raise ValueError(f"{where}: {exc}") from exc
    return g


class _Check:
    """One guardrail at one stage: the function to call and how."""

    __slots__ = ("fn", "guardrail", "hook", "is_async", "stage")

    def __init__(self, g: Guardrail, stage: str) -> None:
        self.guardrail = g
        self.stage = stage
        self.hook = f"guardrail:{g.name}"  # its bulkhead in the sync pool: one for all stages
        self.fn: Callable[[Any], Any] = getattr(g, _METHODS[stage])
        if isinstance(g, _FunctionGuardrail):
            self.fn = g.function  # so an async function is seen as one (fast path, no thread)
        self.is_async = is_async(self.fn)

    def view(self, body: str) -> Any:
        """What the check gets, from the job's JSON (python_guardrail.h)."""
        if self.stage == "output":
            return Response._of_job(_Snapshot(body))
        if self.stage == "stream":
            window, _, request = body.partition("\n")
            return StreamWindow._of_job(window, request)
        return Request._of_job(_Snapshot(body), texts=True)


class HookRunner:
    """Runs the checks of the Python guardrails the C++ core asks for, by name and stage."""

    def __init__(
        self,
        server: _core.Server,
        guardrails: Iterable[Guardrail],
        cost: CostHookRunner | None = None,
    ) -> None:
        self._server = server
        self._cost = cost  # None: no cost hook
        self._checks: dict[str, _Check] = {}
        for g in guardrails:
            for stage in g.stages:
                self._checks[f"{stage}:{g.name}"] = _Check(g, stage)
        self._running: dict[int, asyncio.Task[None]] = {}
        self._loop = asyncio.SelectorEventLoop(_HookSelector(server, self._start, self._cancel))
        self._pool = SyncHookPool(self._loop)
        for check in self._checks.values():
            if not check.is_async:
                self._pool.add_hook(check.hook)
        if cost is not None and not cost.is_async:
            self._pool.add_hook("cost")
        self._ready = threading.Event()
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
        self._pool.shutdown()

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._ready.set)
        self._loop.run_forever()
        # Stopped: whatever is still running belongs to requests that are gone.
        for task in asyncio.all_tasks(self._loop):
            task.cancel()
        self._loop.run_until_complete(asyncio.sleep(0))

    def _cancel(self, job_id: int) -> bool:
        """Cancels the task of a job the core no longer waits for (False: it had none)."""
        task = self._running.pop(job_id, None)
        if task is None:
            return False
        task.cancel()
        return True

    # ------------------------------------------------------------------ one check

    def cost_stats(self) -> CostHookThreadStats | None:
        return None if self._cost is None else self._cost.stats()

    def stats(self) -> HookStats:
        """The hook thread's counters (``gw.stats()["hooks"]``): the sync hook pool's."""
        return {"sync": self._pool.stats()}

    def _start(self, job_id: int, kind: str, payload: str) -> str | None:
        """Runs a check as far as it goes without waiting: its verdict (JSON) when it is done,
        else None (a task finishes it)."""
        if kind == "cost" and self._cost is not None:
            task = self._loop.create_task(self._price(job_id, self._cost, payload))
            self._running[job_id] = task
            task.add_done_callback(
                functools.partial(self._done, job_id=job_id, coro=None, first=None)
            )
            return None
        head, _, body = payload.partition("\n")
        check = self._checks.get(head) if kind == "guardrail" else None
        if check is None:
            log.error("unknown hook job %r %r", kind, head)
            return json.dumps({"verdict": "error", "message": f"unknown hook job {kind} {head}"})
        view = check.view(body)
        coro: Any = None
        if check.is_async:
            # Most checks finish without waiting for anything: run the coroutine's first step
            # here, and make a task (and arm the timeout) only if it actually waits.
            try:
                coro = check.fn(view)
                first = coro.send(None)
            except StopIteration as finished:
                return self._verdict(check, view, finished.value)
            except Exception as exc:
                return self._failed(check, exc)
            task = self._loop.create_task(self._finish(job_id, check, view, coro, first))
        else:
            first = None
            task = self._loop.create_task(self._finish(job_id, check, view, None, None))
        self._running[job_id] = task
        task.add_done_callback(functools.partial(self._done, job_id=job_id, coro=coro, first=first))
        return None

    def _done(self, task: asyncio.Task[None], *, job_id: int, coro: Any, first: Any) -> None:
        self._running.pop(job_id, None)
        if task.cancelled() and coro is not None and coro.cr_frame is not None:
            # Cancelled before the task's first step: the check still waits where its first
            # step left it. It gets the CancelledError a task would have given it.
            if isinstance(first, asyncio.Future):
                first.cancel()
            try:
                coro.throw(asyncio.CancelledError())
            except (asyncio.CancelledError, StopIteration):
                pass
            except Exception:
                log.exception("guardrail check failed while being cancelled")
            finally:
                coro.close()

    async def _finish(self, job_id: int, check: _Check, view: Any, coro: Any, first: Any) -> None:
        g = check.guardrail
        try:
            outcome = await finish_hook(
                check.fn, view, coro, first, timeout=g.timeout, pool=self._pool, hook=check.hook
            )
        except TimeoutError:
            log.error(
                "guardrail %r timed out after %g s (on_error=%s)", g.name, g.timeout, g.on_error
            )
            result = json.dumps(
                {"verdict": "error", "message": f"timed out after {g.timeout:g} s", "timeout": True}
            )
        except SyncHookRejected as exc:
            log.error("guardrail %r not run (on_error=%s): %s", g.name, g.on_error, exc)
            result = json.dumps({"verdict": "error", "message": f"rejected: {exc}"})
        except asyncio.CancelledError:
            raise  # the request no longer waits for it
        except Exception as exc:
            result = self._failed(check, exc)
        else:
            result = self._verdict(check, view, outcome)
        self._server.complete_hook(job_id, True, result)

    async def _price(self, job_id: int, cost: CostHookRunner, payload: str) -> None:
        try:
            result = await cost.run(payload, self._pool)
        except asyncio.CancelledError:
            raise  # the client left: the core books the table's cost
        except Exception as exc:  # the layer failed: the core takes the table's cost
            logging.getLogger("aigw.cost").exception("cost hook layer failed on job %s", job_id)
            self._server.complete_hook(job_id, False, f"{type(exc).__name__}: {exc}")
            return
        self._server.complete_hook(job_id, True, json.dumps(result))

    def _verdict(self, check: _Check, view: Any, outcome: Any) -> str:
        """The verdict as the C++ core reads it (python_guardrail.h)."""
        try:
            if not isinstance(outcome, Verdict):
                raise TypeError(f"returned {type(outcome).__name__}, not an aigw.Verdict")
            return _encode(check.stage, view, outcome)
        except Exception as exc:
            return self._failed(check, exc)

    @staticmethod
    def _failed(check: _Check, exc: BaseException) -> str:
        g = check.guardrail
        log.error(
            "guardrail %r failed at the %s stage (on_error=%s)",
            g.name,
            check.stage,
            g.on_error,
            exc_info=exc,
        )
        return json.dumps({"verdict": "error", "message": f"{type(exc).__name__}: {exc}"})


def _encode(stage: str, view: Any, v: Verdict) -> str:
    if v.action == "allow" and v.hold is None:
        return _ALLOW
    out = _verdict_doc(stage, view, v)
    if v.hold is not None and v.action != "block":
        if stage != "stream":
            raise ValueError(f"a hold is for the stream stage, not the {stage} stage")
        out["hold"] = v.hold
    return json.dumps(out)


def _verdict_doc(stage: str, view: Any, v: Verdict) -> dict[str, Any]:
    """The verdict as the C++ core reads it (python_guardrail.h), less its hold."""
    if v.action == "allow":
        return {"verdict": "allow"}
    if v.action == "block":
        # Fields left out are the guardrail's configured block (the core fills them in).
        doc: dict[str, Any] = {"verdict": "block", "message": v.message}
        for field in ("status", "type", "code"):
            value = getattr(v, field)
            if value is not None:
                doc[field] = value
        return doc
    if stage == "during":
        # The request is already upstream: there is nothing left to change.
        raise ValueError(f"at the during stage a check can only allow or block, not {v.action}")
    if v.action == "redact":
        return {"verdict": "redact", "redactions": [list(p) for p in v.redactions]}
    if v.texts is not None:
        return {"verdict": "rewrite", "texts": list(v.texts)}
    if stage == "stream":
        raise ValueError("at the stream stage, rewrite() takes text (the window's new text)")
    if stage == "input":
        body = view.body
        apply_rewrite(body, v)
        return {"verdict": "rewrite", "body": body}
    if not v.replace or v.body is None:
        raise ValueError("at the output stage, rewrite() takes texts, text or body")
    return {"verdict": "rewrite", "body": v.body}


class _HookSelector(selectors.EpollSelector):
    """The hook thread's selector: each wait of its asyncio loop is one call into C++
    (``Server.serve_hooks``) that sleeps, GIL released, in one poll() on both the HookQueue's
    eventfd and this selector's epoll fd, and runs jobs as soon as they come, without a reader
    callback or a trip through the loop's handles. It returns to the loop only when the loop has
    work: its own events (its self-pipe; sockets and timers of checks that await), read from
    the epoll fd only when it is readable, or a task made or cancelled."""

    def __init__(
        self,
        server: _core.Server,
        start: Callable[[int, str, str], str | None],
        cancel: Callable[[int], bool],
    ) -> None:
        super().__init__()
        self._serve = functools.partial(server.serve_hooks, start, cancel, self.fileno())

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ms = -1 if timeout is None else math.ceil(max(timeout, 0.0) * 1e3)
        return super().select(0) if self._serve(ms) else []


def python_entries(
    config_guardrails: Iterable[Any], loaded: Mapping[str, Guardrail], extra: Iterable[Guardrail]
) -> list[dict[str, Any]]:
    """The core "guardrails" list: the config's entries in order (``kind: python`` ones built
    from the loaded objects), then the guardrails passed to the Gateway (every route)."""
    out = [
        core_entry(loaded[g.name], g) if g.kind == "python" else g.to_core_dict()
        for g in config_guardrails
    ]
    out.extend(core_entry(g) for g in extra)
    return out
