"""The journal directory as the log thread sees it: the data plane's per-worker append-only
files (``<run>-w<NNN>-<seq>.jsonl``), which run owns which file (a lock file per run, held with
``flock`` while its gateway lives), and reading complete lines from a cursor.

A cursor maps a journal file name to the byte offset up to which a sink has its records.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

JOURNAL_RE = re.compile(r"^(?P<run>[A-Za-z0-9_.-]+)-w(?P<worker>\d{3})-(?P<seq>\d{6})\.jsonl$")
LOCK_SUFFIX = ".lock"

Cursor = dict[str, int]
_READ_CHUNK = 8 << 20


@dataclass
class JournalFile:
    name: str
    run: str
    worker: int
    seq: int
    size: int
    finished: bool = False  # no writer will append to it again


@dataclass
class Batch:
    records: list[dict[str, Any]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    cursor: Cursor = field(default_factory=dict)  # the cursor after this batch
    torn: int = 0  # unterminated tails of finished files (a write cut by a crash), skipped
    bad: int = 0  # lines that were not JSON objects, skipped


class RunLock:
    """An exclusive ``flock`` on ``<dir>/<run>.lock``: held by the gateway that writes the run,
    or by the one that replays it after a crash."""

    def __init__(self, directory: str, run: str) -> None:
        self.path = os.path.join(directory, run + LOCK_SUFFIX)
        self._fd: int | None = None

    def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self, *, remove: bool) -> None:
        if self._fd is None:
            return
        if remove:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def scan(directory: str) -> tuple[list[JournalFile], set[str]]:
    """Journal files (oldest first within a run) and the runs that have a lock file."""
    files: list[JournalFile] = []
    locks: set[str] = set()
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return [], set()
    for entry in entries:
        if entry.name.endswith(LOCK_SUFFIX):
            locks.add(entry.name[: -len(LOCK_SUFFIX)])
            continue
        m = JOURNAL_RE.match(entry.name)
        if not m:
            continue
        try:
            size = entry.stat().st_size
        except FileNotFoundError:
            continue
        files.append(JournalFile(entry.name, m["run"], int(m["worker"]), int(m["seq"]), size))
    files.sort(key=lambda f: (f.run, f.worker, f.seq))
    return files, locks


def read_batch(directory: str, files: list[JournalFile], cursor: Cursor, max_records: int) -> Batch:
    """Up to ``max_records`` complete records past ``cursor``.

    A line is complete once its newline is written (the data plane writes each record with one
    write(2)). The unterminated tail of a finished file was cut by a crash before the client got
    its answer: it is skipped and counted as ``torn``.
    """
    batch = Batch(cursor=dict(cursor))
    for f in files:
        if len(batch.records) >= max_records:
            break
        start = cursor.get(f.name, 0)
        if start >= f.size:
            continue
        remaining = f.size - start
        with open(os.path.join(directory, f.name), "rb") as fh:
            fh.seek(start)
            data = fh.read(min(remaining, _READ_CHUNK))
            if b"\n" not in data and len(data) < remaining:
                data += fh.read(remaining - len(data))  # one record longer than a chunk
        complete = len(data) == remaining
        pos = 0
        while len(batch.records) < max_records:
            nl = data.find(b"\n", pos)
            if nl < 0:
                break
            raw = data[pos:nl]
            pos = nl + 1
            try:
                record = json.loads(raw)
            except ValueError:
                batch.bad += 1
                continue
            if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                batch.bad += 1
                continue
            batch.records.append(record)
            batch.lines.append(raw.decode("utf-8", "replace"))
        if complete and pos < len(data) and f.finished and data.find(b"\n", pos) < 0:
            batch.torn += 1
            pos = len(data)
        batch.cursor[f.name] = start + pos
    return batch


def caught_up(files: list[JournalFile], cursor: Cursor) -> bool:
    """Every complete record of ``files`` is behind ``cursor``."""
    return all(cursor.get(f.name, 0) >= f.size for f in files)
