"""The log thread of one Gateway: tails the data plane's journals and feeds every sink.

The data plane (C++ worker threads, which never touch Python) appends one JSON line per
request to its worker's journal before the response's last byte goes out. This thread reads
complete lines from each sink's cursor, hands batches to the sinks, and deletes a journal file
once every sink has all of it. On start it claims the journals of runs that died (their lock is
free) and replays them into every sink from its checkpoint; on stop (after the workers are
joined) it drains what is left. With no ``log:`` section every sink is in memory, so a file
buys nothing: the workers hand their lines over in memory instead (the files only take what
exceeds ``max_pending``). See docs/logging.md.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aigw._config.log_defaults import MemoryOnlyLog
from aigw.request_log.journal import (
    Batch,
    Cursor,
    JournalFile,
    RunLock,
    caught_up,
    read_batch,
    scan,
)
from aigw.request_log.sinks import (
    JsonlSink,
    MemoryRing,
    ObjectSink,
    PythonClassSink,
    Sink,
    SqliteSink,
    query,
)

if TYPE_CHECKING:
    from aigw._config.log import LogConfig, SinkConfig
    from aigw._core import Server
    from aigw.reports import LogThreadStats
    from aigw.request_log.records import RequestRecord

_log = logging.getLogger("aigw.request_log")

_MAX_BACKOFF = 30.0


@dataclass
class _SinkState:
    sink: Sink
    cursor: Cursor = field(default_factory=dict)
    opened: bool = False
    records: int = 0
    errors: int = 0
    failures: int = 0  # consecutive
    next_try: float = 0.0
    last_error: str | None = None


def build_sink(cfg: SinkConfig) -> Sink:
    if cfg.kind == "sqlite":
        return SqliteSink(cfg.path)
    if cfg.kind == "jsonl":
        return JsonlSink(cfg.path)
    if cfg.kind == "postgres":
        from aigw.request_log.postgres import PostgresSink

        return PostgresSink(
            cfg.dsn.get_secret_value(), cfg.table, cfg.batch_size, cfg.connect_timeout
        )
    return PythonClassSink(cfg.class_, dict(cfg.options))


class RequestLog:
    """Owns the journal directory of one Gateway run, its sinks and the log thread."""

    def __init__(self, config: LogConfig | None, objects: Sequence[Any] = ()) -> None:
        # No `log:` section: the defaults, no sinks but memory, in a private directory (and
        # no validator to import for them).
        self._cfg: LogConfig | MemoryOnlyLog = config if config is not None else MemoryOnlyLog()
        self._objects = list(objects)
        self._private = config is None
        # Memory hand-off: nothing durable to feed, and no sink that could refuse a batch (a
        # refused batch would have to wait in a file for its retry).
        self._memory = self._private and all(getattr(o, "infallible", False) for o in self._objects)
        self._memory_consumed = 0
        self.dir = ""
        self.run = ""
        self._lock: RunLock | None = None
        self._claimed: dict[str, RunLock] = {}
        self._states: list[_SinkState] = []
        self._ring = MemoryRing(self._cfg.memory_records)
        # Weak: a Gateway dropped without stop() must still free its server (see gateway.py).
        self._server: weakref.ref[Server] | None = None
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._pump_lock = threading.Lock()
        self._final = False  # the workers are joined: no more appends to this run's files
        self._deleted_own_bytes = 0
        self.torn_lines = 0
        self.bad_lines = 0
        self.replayed_runs = 0

    # ------------------------------------------------------------------ lifecycle

    def prepare(self) -> dict[str, Any]:
        """Create the journal directory, take this run's lock, open the sinks and claim the
        journals of dead runs. Returns the core config's ``log`` section."""
        cfg = self._cfg
        if self._private:
            self.dir = tempfile.mkdtemp(prefix="aigw-log-")
        else:
            self.dir = os.path.abspath(cfg.dir)
            os.makedirs(self.dir, exist_ok=True)
        # os.urandom as secrets.token_hex does it, without importing hashlib (~2.6 MB resident).
        self.run = f"r{int(time.time() * 1000)}-{os.getpid()}-{os.urandom(3).hex()}"
        self._lock = RunLock(self.dir, self.run)
        if not self._lock.acquire():  # pragma: no cover - the name is unique
            raise OSError(f"cannot lock the request log run {self.run} in {self.dir}")
        try:
            sinks: list[Sink] = [build_sink(s) for s in cfg.sinks]
            sinks.extend(o if isinstance(o, Sink) else ObjectSink(o) for o in self._objects)
        except BaseException:
            self._release_all()
            raise
        # Last: it keeps the records another sink parsed, or the raw lines if none did.
        sinks.append(self._ring)
        self._states = [_SinkState(s) for s in sinks]
        for st in self._states:
            self._try_open(st)
        self._claim_dead_runs()
        core = cfg.to_core_dict()
        core.update(
            enabled=True,
            dir=self.dir,
            run=self.run,
            handoff="memory" if self._memory else "journal",
        )
        return core

    def start(self, server: Server) -> None:
        self._server = weakref.ref(server)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="aigw-request-log", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Drain every record into every sink (the workers must be joined already), close the
        sinks and release the journal directory. A sink still failing after ``stop_timeout``
        keeps its records in the journal; the next start replays them. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._final = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        timeout = self._cfg.stop_timeout
        deadline = time.monotonic() + timeout
        while True:
            done = self._pump(final=True)
            if done or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        if not done:
            behind = [st.sink.name for st in self._states if not self._st_caught_up(st)]
            _log.warning(
                "request log: %s did not take every record before stop; the rest stays in "
                "the journal %s and is replayed on the next start",
                ", ".join(behind),
                self.dir,
            )
        for st in self._states:
            try:
                st.sink.close()
            except Exception as err:  # noqa: BLE001 - a sink's close must not break stop()
                _log.warning("request log: closing %s failed: %s", st.sink.name, err)
        self._release_all()
        self._server = None

    def abandon(self) -> None:
        """Start failed: release the directory without draining."""
        for st in self._states:
            try:
                st.sink.close()
            except Exception:  # noqa: BLE001
                pass
        self._release_all()

    def _release_all(self) -> None:
        files, _ = scan(self.dir)
        own_left = any(f.run == self.run for f in files)
        if self._lock is not None:
            self._lock.release(remove=not own_left)
            self._lock = None
        for run, lock in list(self._claimed.items()):
            lock.release(remove=not any(f.run == run for f in files))
        self._claimed.clear()
        if self._private and not files:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------------ the thread

    def _loop(self) -> None:
        interval = self._cfg.flush_interval
        while not self._stop.is_set():
            try:
                self._pump(final=False)
            except Exception:  # pragma: no cover - keep the thread alive, say why
                _log.exception("request log: unexpected error in the log thread")
            self._stop.wait(interval)

    def _try_open(self, st: _SinkState) -> None:
        try:
            st.cursor = st.sink.open(self.dir)
            st.opened = True
            st.failures = 0
        except Exception as err:  # noqa: BLE001 - any sink failure is retried
            self._failed(st, err, "open")

    def _failed(self, st: _SinkState, err: BaseException, what: str) -> None:
        st.errors += 1
        st.failures += 1
        st.last_error = f"{type(err).__name__}: {err}"
        delay = min(_MAX_BACKOFF, 0.25 * (2 ** min(st.failures - 1, 8)))
        st.next_try = time.monotonic() + delay
        if st.failures <= 3 or st.failures % 20 == 0:
            _log.warning(
                "request log: %s %s failed (%s); records wait in the journal, retry in %.1fs",
                st.sink.name,
                what,
                st.last_error,
                delay,
            )

    def _claim_dead_runs(self) -> None:
        files, locks = scan(self.dir)
        runs = {f.run for f in files} | locks
        for run in sorted(runs - {self.run}):
            lock = RunLock(self.dir, run)
            if lock.acquire():
                self._claimed[run] = lock
                if any(f.run == run for f in files):
                    self.replayed_runs += 1

    def _files(self, final: bool) -> list[JournalFile]:
        files, _ = scan(self.dir)
        mine = [f for f in files if f.run == self.run or f.run in self._claimed]
        last_seq: dict[tuple[str, int], int] = {}
        for f in mine:
            key = (f.run, f.worker)
            last_seq[key] = max(last_seq.get(key, -1), f.seq)
        for f in mine:
            f.finished = f.run != self.run or final or f.seq < last_seq[(f.run, f.worker)]
        return mine

    def _st_caught_up(self, st: _SinkState) -> bool:
        return st.opened and caught_up(self._files(self._final), st.cursor)

    def _pump(self, *, final: bool) -> bool:
        """Deliver everything readable now; returns True when every sink has every record."""
        with self._pump_lock:
            batch_size = self._cfg.batch_size
            files = self._files(final)
            now = time.monotonic()
            for st in self._states:
                if not st.opened and (final or now >= st.next_try):
                    self._try_open(st)
            ready = [st for st in self._states if st.opened and (final or now >= st.next_try)]
            groups: dict[tuple[tuple[str, int], ...], list[_SinkState]] = {}
            for st in ready:
                key = tuple(sorted((f.name, st.cursor.get(f.name, 0)) for f in files))
                groups.setdefault(key, []).append(st)
            self._deliver_memory()
            for group in groups.values():
                self._deliver(files, group, batch_size)
            self._delete_consumed(files)
            self._report_consumed(files)
            return all(st.opened and caught_up(files, st.cursor) for st in self._states)

    def _deliver(self, files: list[JournalFile], group: list[_SinkState], batch_size: int) -> None:
        cursor = dict(group[0].cursor)
        while group:
            batch: Batch = read_batch(self.dir, files, cursor, batch_size)
            if batch.cursor == cursor:
                return
            for st in list(group):
                try:
                    st.sink.write(batch)
                except Exception as err:  # noqa: BLE001 - any sink failure is retried
                    self._failed(st, err, "write")
                    group.remove(st)
                    continue
                st.cursor = dict(batch.cursor)
                st.records += len(batch.records) if batch.parsed else len(batch.raw)
                st.failures = 0
            # After the sinks: a line is known to be malformed once some sink parsed it.
            self.torn_lines += batch.torn
            self.bad_lines += batch.bad
            if batch.torn or batch.bad:
                _log.warning(
                    "request log: skipped %d torn and %d malformed journal line(s)",
                    batch.torn,
                    batch.bad,
                )
            cursor = batch.cursor

    def _deliver_memory(self) -> None:
        """Hands every sink the lines the workers handed off in memory (the sinks are all
        infallible: nothing needs a cursor or a retry)."""
        server = self._server() if self._memory and self._server is not None else None
        if server is None:
            return
        data = server.take_log_lines()
        if not data:
            return
        batch = Batch()
        for raw in data.split(b"\n"):
            if raw:
                batch.add(raw)
        for st in self._states:
            try:
                st.sink.write(batch)
            except Exception:  # noqa: BLE001 - infallible by contract; say so if not
                st.errors += 1
                _log.exception("request log: %s failed on in-memory records", st.sink.name)
                continue
            st.records += len(batch.records) if batch.parsed else len(batch.raw)
        self.bad_lines += batch.bad
        self._memory_consumed += len(data)

    def _delete_consumed(self, files: list[JournalFile]) -> None:
        removed: list[str] = []
        for f in files:
            if not f.finished:
                continue
            if all(st.opened and st.cursor.get(f.name, 0) >= f.size for st in self._states):
                try:
                    os.unlink(os.path.join(self.dir, f.name))
                except FileNotFoundError:
                    pass
                removed.append(f.name)
                if f.run == self.run:
                    self._deleted_own_bytes += f.size
        if not removed:
            return
        for st in self._states:
            for name in removed:
                st.cursor.pop(name, None)
        left = {f.run for f in files if f.name not in removed}
        for run in [r for r in self._claimed if r not in left]:
            self._claimed.pop(run).release(remove=True)

    def _report_consumed(self, files: list[JournalFile]) -> None:
        server = self._server() if self._server is not None else None
        if server is None:
            return
        consumed = self._deleted_own_bytes + self._memory_consumed
        for f in files:
            if f.run == self.run and os.path.exists(os.path.join(self.dir, f.name)):
                consumed += min(st.cursor.get(f.name, 0) for st in self._states)
        server.set_log_consumed(consumed)

    # ------------------------------------------------------------------ inspection

    def flush(self, timeout: float = 5.0) -> bool:
        """Deliver what the journals hold now; True once every sink has it."""
        deadline = time.monotonic() + timeout
        while True:
            if self._pump(final=self._final):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def logs(
        self,
        *,
        limit: int,
        status: int | str | None,
        model: str | None,
        since: float | None,
        request_id: str | None,
    ) -> list[RequestRecord]:
        return query(
            self._ring.snapshot(),
            limit=limit,
            status=status,
            model=model,
            since=since,
            request_id=request_id,
        )

    def stats(self) -> LogThreadStats:
        return {
            "dir": self.dir,
            "run": self.run,
            "handoff": "memory" if self._memory else "journal",
            "replayed_runs": self.replayed_runs,
            "torn_lines": self.torn_lines,
            "bad_lines": self.bad_lines,
            "sinks": [
                {
                    "name": st.sink.name,
                    "open": st.opened,
                    "records": st.records,
                    "errors": st.errors,
                    "last_error": st.last_error,
                }
                for st in self._states
            ],
        }
