"""The threads that run synchronous hooks (plain ``def`` guardrail checks and cost hooks).

A sync hook cannot be interrupted, so the hook thread's asyncio loop hands each call to this
pool and waits for a future. The rules (docs/guardrails-python.md, "Sync checks"):

- Every call has a deadline: its timeout, counted from when the hook thread took the job.
  At the deadline the future fails with ``TimeoutError`` on the loop, whatever the thread
  does, so a timeout is answered on time.
- A call that waited in the queue past its deadline is dropped, never run late; one whose
  waiter went away (the request ended, a sibling blocked) is dropped too.
- Bulkhead: one hook runs at most ``share`` calls at once (default: half the threads), and a
  free thread takes the next call round-robin across hooks, so a slow hook cannot keep
  another hook's calls waiting behind its own.
- A call still running at its deadline is written off: its thread no longer counts toward
  the pool's ``threads`` (a replacement may start) nor toward its hook's share, and leaves
  when the call returns. At most ``max_abandoned`` threads are written off in all, at most
  ``max_abandoned_per_hook`` per hook. A hook at its own cap is rejected: its new calls fail
  at once with :class:`SyncHookRejected` (its ``on_error`` decides) until one of its
  written-off calls returns, rather than queueing everyone. At the pool's cap, a timed-out
  call still gets its answer on time but keeps its thread counted until it returns, and a
  hook that already has written-off threads is rejected; hooks without any still run.

Counters are in :meth:`SyncHookPool.stats` (``gw.stats()["hooks"]["sync"]``).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from aigw.reports import SyncHookCounters, SyncPoolStats

__all__ = ["SyncHookPool", "SyncHookRejected"]

# A call's life. QUEUED → RUNNING → DONE, or QUEUED → EXPIRED (deadline passed in the queue)
# or DROPPED (nobody waits any more); RUNNING calls past their deadline are written off.
_QUEUED, _RUNNING, _DONE, _EXPIRED, _DROPPED = range(5)


class SyncHookRejected(RuntimeError):
    """A sync hook with too many calls still running past their timeout: not started."""


class _Hook:
    """One hook's place in the pool: its queue, its share in use and its counters."""

    __slots__ = (
        "abandoned",
        "abandoned_total",
        "calls",
        "expired",
        "name",
        "queue",
        "rejected",
        "running",
        "timeouts",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.queue: deque[_Call] = deque()
        self.running = 0  # calls on threads that count toward the pool (not written off)
        self.abandoned = 0  # calls written off and still running
        self.calls = 0
        self.timeouts = 0  # answered with TimeoutError at their deadline (queued or running)
        self.expired = 0  # of those, the ones that never started
        self.abandoned_total = 0
        self.rejected = 0

    def prune(self) -> None:
        """Forgets expired and dropped calls at the head of the queue."""
        while self.queue and self.queue[0].state != _QUEUED:
            self.queue.popleft()

    def counters(self) -> SyncHookCounters:
        return {
            "running": self.running,
            "queued": sum(1 for c in self.queue if c.state == _QUEUED),
            "abandoned": self.abandoned,
            "calls": self.calls,
            "timeouts": self.timeouts,
            "expired_in_queue": self.expired,
            "abandoned_total": self.abandoned_total,
            "rejected": self.rejected,
        }


class _Call:
    __slots__ = ("abandoned", "arg", "deadline", "fn", "future", "hook", "state", "timer")

    def __init__(
        self,
        hook: _Hook,
        fn: Callable[[Any], Any],
        arg: Any,
        deadline: float,
        future: asyncio.Future[Any],
    ) -> None:
        self.hook = hook
        self.fn = fn
        self.arg = arg
        self.deadline = deadline  # the loop's clock, which is time.monotonic()
        self.future = future
        self.state = _QUEUED
        self.abandoned = False
        self.timer: asyncio.TimerHandle | None = None


class SyncHookPool:
    """Runs sync hook calls on threads for one asyncio loop; see the module's rules.

    ``call`` and the timers run on the loop's thread; the threads only take the lock, run
    calls and post their outcome back with ``call_soon_threadsafe``."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        threads: int = 4,
        share: int | None = None,
        max_abandoned: int = 16,
        max_abandoned_per_hook: int | None = None,
        thread_name_prefix: str = "aigw-guardrail",
    ) -> None:
        if threads < 1:
            raise ValueError("a sync hook pool needs at least one thread")
        self._loop = loop
        self._threads = threads
        self._share = max(1, min(share or threads // 2, threads))
        self._max_abandoned = max_abandoned
        self._max_abandoned_per_hook = min(max_abandoned_per_hook or threads, max_abandoned)
        self._prefix = thread_name_prefix
        self._names = itertools.count()
        self._cond = threading.Condition(threading.Lock())
        self._hooks: dict[str, _Hook] = {}
        self._order: list[_Hook] = []  # round-robin order of hooks
        self._turn = 0  # where the next free thread starts looking
        self._live = 0  # threads that count toward `threads`: idle or on calls not written off
        self._idle = 0  # of those, waiting for a call and not yet woken
        self._abandoned = 0  # threads on written-off calls
        self._closed = False

    # ------------------------------------------------------------------ the loop's side

    def add_hook(self, hook: str) -> None:
        """Makes ``hook`` known before its first call (its counters show from the start)."""
        with self._cond:
            self._hook_locked(hook)

    def call(
        self, hook: str, fn: Callable[[Any], Any], arg: Any, timeout: float
    ) -> asyncio.Future[Any]:
        """A future for ``fn(arg)`` run on a thread: its result, its exception,
        ``TimeoutError`` once ``timeout`` seconds have passed, or :class:`SyncHookRejected`
        at once. Cancelling the future drops a call that has not started."""
        loop = self._loop
        future: asyncio.Future[Any] = loop.create_future()
        deadline = loop.time() + timeout
        spawn = False
        with self._cond:
            h = self._hook_locked(hook)
            why = self._refusal_locked(h)
            if why:
                h.rejected += 1
                future.set_exception(SyncHookRejected(why))
                return future
            c = _Call(h, fn, arg, deadline, future)
            h.queue.append(c)
            h.calls += 1
            if h.running < self._share:  # else it waits for its own hook's calls to end
                spawn = self._wake_locked()
        c.timer = loop.call_at(deadline, self._expire, c)
        future.add_done_callback(lambda f: self._dropped(c) if f.cancelled() else None)
        if spawn:
            self._spawn()
        return future

    def _refusal_locked(self, h: _Hook) -> str:
        if self._closed:
            return "the sync hook pool is stopped"
        if h.abandoned >= self._max_abandoned_per_hook:
            return (
                f"{h.abandoned} calls of {h.name} are still running past their timeout "
                f"(at most {self._max_abandoned_per_hook}); no more start until one returns"
            )
        if h.abandoned and self._abandoned >= self._max_abandoned:
            return (
                f"{self._abandoned} sync hook calls are still running past their timeout "
                f"(at most {self._max_abandoned}), {h.abandoned} of them of {h.name}; "
                "no more start until one returns"
            )
        return ""

    def _expire(self, c: _Call) -> None:
        """The deadline of ``c`` passed (a loop timer): answer it, and write off its thread."""
        spawn = False
        with self._cond:
            h = c.hook
            if c.state == _QUEUED:
                c.state = _EXPIRED
                h.expired += 1
                h.prune()
            elif c.state == _RUNNING and not c.abandoned:
                spawn = self._write_off_locked(c)
            elif c.state != _EXPIRED:
                return  # done (its outcome is on its way) or dropped (nobody waits)
            if not c.future.done():
                h.timeouts += 1
        if spawn:
            self._spawn()
        if not c.future.done():
            c.future.set_exception(TimeoutError())

    def _write_off_locked(self, c: _Call) -> bool:
        """Stops counting the thread of a call past its deadline, within the caps (at a cap it
        keeps counting); True when a replacement thread should start."""
        h = c.hook
        if h.abandoned >= self._max_abandoned_per_hook or self._abandoned >= self._max_abandoned:
            return False
        c.abandoned = True
        h.running -= 1
        h.abandoned += 1
        h.abandoned_total += 1
        self._abandoned += 1
        self._live -= 1
        # A replacement only for calls that can start now; otherwise one starts with the next.
        if any(q.queue and q.running < self._share for q in self._order):
            return self._wake_locked()
        return False

    def _dropped(self, c: _Call) -> None:
        """The waiter went away: a call that has not started never will."""
        with self._cond:
            if c.state == _QUEUED:
                c.state = _DROPPED
                c.hook.prune()
        if c.state == _DROPPED and c.timer is not None:
            c.timer.cancel()

    def _settle(self, c: _Call, result: Any, error: BaseException | None) -> None:
        """A call returned on time (posted by its thread)."""
        if c.timer is not None:
            c.timer.cancel()
        if c.future.done():
            return  # cancelled meanwhile, or answered at its deadline
        if error is not None:
            c.future.set_exception(error)
        else:
            c.future.set_result(result)

    # ------------------------------------------------------------------ the threads

    def _hook_locked(self, name: str) -> _Hook:
        h = self._hooks.get(name)
        if h is None:
            h = self._hooks[name] = _Hook(name)
            self._order.append(h)
        return h

    def _wake_locked(self) -> bool:
        """Gets a thread to look at the queues: an idle one, else True (start one) when the
        pool is below its size."""
        if self._idle:
            self._idle -= 1  # taken off here, so the next wake-up goes to another thread
            self._cond.notify()
            return False
        if self._live < self._threads and not self._closed:
            self._live += 1
            return True
        return False

    def _spawn(self) -> None:
        name = f"{self._prefix}-{next(self._names)}"
        threading.Thread(target=self._work, name=name, daemon=True).start()

    def _next_locked(self) -> _Call | None:
        """The next call a free thread may start: round-robin over the hooks with queued
        calls and room in their share. Calls past their deadline are set aside, not run."""
        n = len(self._order)
        now = time.monotonic()
        for i in range(n):
            h = self._order[(self._turn + i) % n]
            if h.running >= self._share:
                continue
            h.prune()
            while h.queue:
                c = h.queue.popleft()
                if c.state != _QUEUED:
                    continue
                if c.future.done():  # cancelled: its done callback (_dropped) may not have run
                    c.state = _DROPPED
                    continue
                if c.deadline <= now:
                    c.state = _EXPIRED  # its timer answers it
                    h.expired += 1
                    continue
                self._turn = (self._turn + i + 1) % n
                c.state = _RUNNING
                h.running += 1
                return c
        return None

    def _work(self) -> None:
        while True:
            with self._cond:
                c = self._next_locked()
                while c is None:
                    if self._closed:
                        self._live -= 1
                        return
                    self._idle += 1
                    self._cond.wait()
                    c = self._next_locked()
            result: Any = None
            error: BaseException | None = None
            try:
                result = c.fn(c.arg)
            except Exception as exc:
                error = exc
            except BaseException as exc:  # SystemExit and the like must not end this thread
                error = RuntimeError(f"{type(exc).__name__}: {exc}")
            with self._cond:
                c.state = _DONE
                if c.abandoned:
                    c.hook.abandoned -= 1
                    self._abandoned -= 1
                    if self._closed or self._live >= self._threads:
                        return  # its replacement took its place
                    self._live += 1
                else:
                    c.hook.running -= 1
            c.arg = None
            if not c.abandoned:
                try:
                    self._loop.call_soon_threadsafe(self._settle, c, result, error)
                except RuntimeError:
                    pass  # the loop is closed: nobody waits
            del c, result, error

    # ------------------------------------------------------------------ lifecycle, counters

    def shutdown(self) -> None:
        """Idle threads leave now, busy ones when their call returns; queued calls never run."""
        with self._cond:
            self._closed = True
            for h in self._order:
                for c in h.queue:
                    if c.state == _QUEUED:
                        c.state = _DROPPED
                h.queue.clear()
            self._idle = 0
            self._cond.notify_all()

    def stats(self) -> SyncPoolStats:
        """The pool's settings, its threads now, and its counters, in total and by hook."""
        with self._cond:
            by_hook = {h.name: h.counters() for h in self._order}
            live, idle, abandoned = self._live, self._idle, self._abandoned
        totals = {
            key: sum(c[key] for c in by_hook.values())
            for key in (
                "running",
                "queued",
                "calls",
                "timeouts",
                "expired_in_queue",
                "abandoned_total",
                "rejected",
            )
        }
        # The totals are summed by key name, which type checkers cannot follow.
        doc = {
            "threads": self._threads,
            "share": self._share,
            "max_abandoned": self._max_abandoned,
            "max_abandoned_per_hook": self._max_abandoned_per_hook,
            "live_threads": live,
            "idle_threads": idle,
            "abandoned": abandoned,
            **totals,
            "by_hook": by_hook,
        }
        return cast("SyncPoolStats", doc)
