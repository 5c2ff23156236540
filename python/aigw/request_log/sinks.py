"""Where request records go: SQLite (default), JSON lines, a Python class, an in-process object,
and the in-memory ring behind ``gw.logs()``. PostgreSQL lives in postgres.py (optional psycopg).

Every sink gets ``write(batch)`` with the records and the cursor after them, and stores the
cursor with the rows as atomically as it can, so that a restart replays exactly what it lacks:
- SQLite and PostgreSQL: rows and cursor in one transaction; rows keyed by request id (a replay
  that overlaps inserts nothing twice).
- JSON lines: the file's size is stored with the cursor; on open the file is cut back to it, so
  lines written after the last checkpoint are written again once, never twice.
- Python classes: the cursor is saved after ``write`` returns: a crash between the two delivers
  that batch again (at least once; the request id tells duplicates apart).
"""

from __future__ import annotations

import collections
import json
import os
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from aigw._import_path import load_object
from aigw.request_log.journal import Batch, Cursor, parse_record

if TYPE_CHECKING:
    import sqlite3

    from aigw.request_log.records import LogSink, RequestRecord

__all__ = [
    "JsonlSink",
    "MemoryRing",
    "ObjectSink",
    "PythonClassSink",
    "Sink",
    "SqliteSink",
    "load_class",
]


class Sink:
    """Base of the built-in sinks (internal interface of the log thread)."""

    name: str = "sink"
    # Never fails to take a batch (and keeps nothing across restarts): a log whose sinks are
    # all like this gets its records through memory instead of journal files.
    infallible: bool = False

    def open(self, log_dir: str) -> Cursor:
        """Prepare; return the stored cursor (empty: from the beginning)."""
        return {}

    def write(self, batch: Batch) -> None:
        """Store ``batch.records`` (possibly none) and ``batch.cursor``."""
        raise NotImplementedError

    def close(self) -> None:
        pass


def _write_json_atomic(path: str, doc: Any) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, separators=(",", ":"))
    os.replace(tmp, path)


def _read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return None
    except ValueError:
        return None


def _cursor_from(doc: Any) -> Cursor:
    if not isinstance(doc, dict):
        return {}
    return {str(k): int(v) for k, v in doc.items() if isinstance(v, int)}


# Columns of the SQL sinks besides the whole record (kept as JSON text in `record`).
COLUMNS = (
    ("ts_start", "INTEGER"),
    ("ts_end", "INTEGER"),
    ("method", "TEXT"),
    ("path", "TEXT"),
    ("endpoint", "TEXT"),
    ("model", "TEXT"),
    ("route", "TEXT"),
    ("provider", "TEXT"),
    ("upstream_model", "TEXT"),
    ("status", "INTEGER"),
    ("latency_ms", "REAL"),
    ("ttft_ms", "REAL"),
    ("stream", "BOOLEAN"),
    ("prompt_tokens", "INTEGER"),
    ("completion_tokens", "INTEGER"),
    ("cost_usd", "REAL"),
    ("error_type", "TEXT"),
    ("client_aborted", "BOOLEAN"),
    ("partial", "BOOLEAN"),
)


def row_values(record: Mapping[str, Any], line: str) -> tuple[Any, ...]:
    error = record.get("error")
    values: list[Any] = [record["id"]]
    for name, _type in COLUMNS:
        if name == "error_type":
            values.append(error.get("type") if isinstance(error, dict) else None)
        else:
            values.append(record.get(name))
    values.append(line)
    return tuple(values)


class SqliteSink(Sink):
    """Table ``aigw_requests`` (primary key: request id) in WAL mode, and the cursor in
    ``aigw_log_checkpoint`` in the same transaction."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.name = f"sqlite:{path}"
        self._db: sqlite3.Connection | None = None
        self._dir = ""

    def open(self, log_dir: str) -> Cursor:
        self._dir = os.path.abspath(log_dir)
        parent = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(parent, exist_ok=True)
        import sqlite3  # only with this sink configured: ~1 MB resident once imported

        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=10000")
        cols = ", ".join(f"{n} {t}" for n, t in COLUMNS)
        db.execute(
            f"CREATE TABLE IF NOT EXISTS aigw_requests (id TEXT PRIMARY KEY, {cols}, "
            "record TEXT NOT NULL)"
        )
        db.execute("CREATE INDEX IF NOT EXISTS aigw_requests_ts_end ON aigw_requests (ts_end)")
        db.execute(
            "CREATE TABLE IF NOT EXISTS aigw_log_checkpoint (dir TEXT NOT NULL, "
            "journal TEXT NOT NULL, pos INTEGER NOT NULL, PRIMARY KEY (dir, journal))"
        )
        self._db = db
        rows = db.execute(
            "SELECT journal, pos FROM aigw_log_checkpoint WHERE dir = ?", (self._dir,)
        ).fetchall()
        return {str(j): int(o) for j, o in rows}

    def write(self, batch: Batch) -> None:
        db = self._db
        assert db is not None
        marks = ", ".join("?" for _ in range(len(COLUMNS) + 2))
        names = ", ".join(n for n, _ in COLUMNS)
        db.execute("BEGIN IMMEDIATE")
        try:
            if batch.records:
                db.executemany(
                    f"INSERT OR IGNORE INTO aigw_requests (id, {names}, record) VALUES ({marks})",
                    [
                        row_values(r, line)
                        for r, line in zip(batch.records, batch.lines, strict=True)
                    ],
                )
            db.execute("DELETE FROM aigw_log_checkpoint WHERE dir = ?", (self._dir,))
            db.executemany(
                "INSERT INTO aigw_log_checkpoint (dir, journal, pos) VALUES (?, ?, ?)",
                [(self._dir, j, o) for j, o in batch.cursor.items()],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class JsonlSink(Sink):
    """One JSON object per line; the cursor and the file's size in ``<path>.checkpoint``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.name = f"jsonl:{path}"
        self._ckpt = path + ".checkpoint"
        self._size = 0
        self._fh: Any = None

    def open(self, log_dir: str) -> Cursor:
        parent = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(parent, exist_ok=True)
        doc = _read_json(self._ckpt)
        cursor: Cursor = {}
        size = 0
        if isinstance(doc, dict):
            cursor = _cursor_from(doc.get("cursor"))
            size = int(doc.get("size", 0))
        self._fh = open(self.path, "ab")  # noqa: SIM115 - held open while the gateway runs
        actual = self._fh.tell()
        if actual > size:
            # Lines written after the last checkpoint: they are replayed from the journal.
            self._fh.truncate(size)
        else:
            size = actual  # the file was cut or replaced by someone else: keep what is there
        self._size = size
        return cursor

    def write(self, batch: Batch) -> None:
        if batch.lines:
            data = ("\n".join(batch.lines) + "\n").encode("utf-8")
            self._fh.write(data)
            self._fh.flush()
            self._size += len(data)
        _write_json_atomic(self._ckpt, {"size": self._size, "cursor": batch.cursor})

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def load_class(spec: str) -> type:
    """``"package.module:Class"`` → the class."""
    obj = load_object(spec, what="log sink class")
    if not isinstance(obj, type):
        raise TypeError(f"{spec} is not a class")
    return obj


def _deliver(obj: LogSink, records: list[RequestRecord]) -> None:
    if records:
        obj.write(records)


class PythonClassSink(Sink):
    """A configured class (``{kind: python, class: "mod:Class", options: {...}}``): built once
    with ``options``; gets ``write(records)`` per batch; cursor saved after each batch."""

    def __init__(self, spec: str, options: dict[str, Any]) -> None:
        self.spec = spec
        self.name = f"python:{spec}"
        self._obj: LogSink = load_class(spec)(**options)
        self._ckpt = ""

    def open(self, log_dir: str) -> Cursor:
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in self.spec)
        self._ckpt = os.path.join(log_dir, f"checkpoint-python-{safe}.json")
        return _cursor_from(_read_json(self._ckpt))

    def write(self, batch: Batch) -> None:
        _deliver(self._obj, batch.records)
        _write_json_atomic(self._ckpt, batch.cursor)

    def close(self) -> None:
        close = getattr(self._obj, "close", None)
        if callable(close):
            close()


class ObjectSink(Sink):
    """An object given to ``Gateway(log_sinks=[...])``: ``write(records)`` and optional
    ``close()``. It lives as long as the process, so its cursor does too."""

    def __init__(self, obj: LogSink) -> None:
        self._obj = obj  # aigw.Gateway checked it has write()
        self.name = f"object:{type(obj).__qualname__}"

    def write(self, batch: Batch) -> None:
        _deliver(self._obj, batch.records)

    def close(self) -> None:
        close = getattr(self._obj, "close", None)
        if callable(close):
            close()


class MemoryRing(Sink):
    """The most recent records, for ``gw.logs()``. Kept as journal lines and parsed when
    something reads them (each at most once), so a gateway nobody asks costs no parsing."""

    name = "memory"
    infallible = True

    def __init__(self, size: int) -> None:
        # One cell per record: its raw line until parsed, then the record (None: malformed).
        self._ring: collections.deque[list[Any]] = collections.deque(maxlen=max(size, 0))
        self._lock = threading.Lock()

    def write(self, batch: Batch) -> None:
        if not self._ring.maxlen:
            return
        cells = [[r] for r in batch.records] if batch.parsed else [[raw] for raw in batch.raw]
        with self._lock:
            self._ring.extend(cells)

    def snapshot(self) -> list[RequestRecord]:
        with self._lock:
            cells = list(self._ring)
        out: list[RequestRecord] = []
        for cell in cells:
            value = cell[0]
            if isinstance(value, bytes):
                value = cell[0] = parse_record(value)
            if value is not None:
                out.append(value)
        return out


def query(
    records: Iterable[RequestRecord],
    *,
    limit: int,
    status: int | str | None,
    model: str | None,
    since: float | None,
    request_id: str | None,
) -> list[RequestRecord]:
    """Filter and order (newest first) records for ``gw.logs()``."""
    out: list[RequestRecord] = []
    since_ms = None if since is None else since * 1000.0
    for r in sorted(records, key=lambda r: r.get("ts_end") or 0, reverse=True):
        if request_id is not None and r.get("id") != request_id:
            continue
        if model is not None and model not in (r.get("model"), r.get("upstream_model")):
            continue
        if since_ms is not None and (r.get("ts_end") or 0) < since_ms:
            continue
        if status is not None:
            code = r.get("status")
            if status == "error":
                if not (code is None or code >= 400 or r.get("error") is not None):
                    continue
            elif status == "ok":
                if code is None or code >= 400 or r.get("error") is not None:
                    continue
            elif code != status:
                continue
        out.append(r.copy())
        if len(out) >= limit:
            break
    return out
