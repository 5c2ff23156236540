"""Request events: Python callbacks when a request completed or failed.

Callbacks never run on the data path. They get the request's log record (a dict, the same as
``gw.logs()`` returns) after it reached the request log, on an events thread of their own:
``async def`` callbacks run as tasks on its asyncio loop, plain functions run on that thread
one after another. A callback that raises is logged on the ``aigw.events`` logger and changes
nothing else.

A request *completed* when its status is below 400, nothing went wrong on the way and the
client got the whole answer; every other request *failed* (4xx, 5xx, a client that left, an
interrupted stream).
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from aigw.request_log.journal import Batch
from aigw.request_log.sinks import Sink

if TYPE_CHECKING:
    import asyncio

    from aigw.request_log.records import RequestRecord

__all__ = ["EVENTS", "EventDispatcher", "Event", "completed"]

log = logging.getLogger("aigw.events")

Event = Literal["completed", "failed"]
EVENTS: tuple[Event, ...] = ("completed", "failed")
Callback = Callable[["RequestRecord"], Any]


def completed(record: RequestRecord) -> bool:
    """True when the record is of a request that completed (see the module docstring)."""
    status = record.get("status")
    return (
        isinstance(status, int)
        and status < 400
        and not record.get("error")
        and not record.get("client_aborted")
        and not record.get("partial")
    )


class EventDispatcher(Sink):
    """The log sink that turns records into events. A batch is parsed for it only when some
    callback is registered."""

    name = "events"
    infallible = True  # callbacks run on the events thread; their errors are logged there

    def __init__(self) -> None:
        self._callbacks: dict[Event, list[Callback]] = {e: [] for e in EVENTS}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pending: set[asyncio.Task[Any]] = set()

    def on(self, event: Event, callback: Callback) -> Callback:
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r} (known: {', '.join(EVENTS)})")
        if not callable(callback):
            raise TypeError("an event callback must be callable")
        with self._lock:
            self._callbacks[event].append(callback)
        return callback

    # ------------------------------------------------------------------ sink interface

    def write(self, batch: Batch) -> None:
        """Called by the log thread with each batch: hands its records to the events thread."""
        with self._lock:
            if not any(self._callbacks.values()):
                return
            if self._loop is None:
                self._start()
            loop = self._loop
        assert loop is not None
        if batch.records:
            loop.call_soon_threadsafe(self._dispatch, batch.records)

    def close(self) -> None:
        """Runs what is queued, waits for running async callbacks, joins the thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(lambda: loop.create_task(self._finish(loop)))
        thread.join()
        loop.close()

    # ------------------------------------------------------------------ events thread

    def _start(self) -> None:
        # asyncio (~6 MB resident with the ssl it imports) only once a callback is registered.
        import asyncio

        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="aigw-events", daemon=True)
        self._thread.start()

    async def _finish(self, loop: asyncio.AbstractEventLoop) -> None:
        import asyncio

        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        loop.stop()

    def _dispatch(self, records: list[RequestRecord]) -> None:
        with self._lock:
            callbacks = {e: list(cbs) for e, cbs in self._callbacks.items()}
        for record in records:
            for callback in callbacks["completed" if completed(record) else "failed"]:
                try:
                    result = callback(record)
                    if inspect.isawaitable(result):
                        import asyncio

                        task = asyncio.ensure_future(result)
                        self._pending.add(task)
                        task.add_done_callback(self._done)
                except Exception:
                    log.exception("event callback %r raised", callback)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("event callback raised", exc_info=task.exception())
