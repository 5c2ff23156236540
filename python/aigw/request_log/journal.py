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
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from aigw.request_log.records import RequestRecord

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


# The data plane writes every record as one line that starts with the request id. Lines that
# do not look like that are counted as malformed without parsing them.
_RECORD_START = b'{"id":"'


class Batch:
    """Complete journal lines past a cursor. The lines are parsed only when a sink asks for
    ``records`` or ``lines``: the default in-memory log keeps them raw, so a gateway whose
    records nobody reads spends no interpreter time on them."""

    __slots__ = ("raw", "cursor", "torn", "_bad", "_records", "_lines")

    def __init__(self, cursor: Cursor | None = None) -> None:
        self.raw: list[bytes] = []
        self.cursor: Cursor = {} if cursor is None else cursor  # the cursor after this batch
        # Unterminated tails of finished files (a write cut by a crash), skipped.
        self.torn = 0
        self._bad = 0  # lines that are not JSON objects with a string id, skipped
        self._records: list[RequestRecord] | None = None
        self._lines: list[str] = []

    def add(self, raw: bytes) -> None:
        """One complete line (without its newline); one that cannot be a record is counted."""
        if raw.startswith(_RECORD_START) and raw.endswith(b"}"):
            self.raw.append(raw)
        else:
            self._bad += 1

    @property
    def parsed(self) -> bool:
        return self._records is not None

    @property
    def records(self) -> list[RequestRecord]:
        if self._records is None:
            self._parse()
        assert self._records is not None
        return self._records

    @property
    def lines(self) -> list[str]:
        """The text of each record in ``records``, in the same order."""
        if self._records is None:
            self._parse()
        return self._lines

    @property
    def bad(self) -> int:
        """Malformed lines skipped: those seen so far (all of them once parsed)."""
        return self._bad

    def _parse(self) -> None:
        records: list[RequestRecord] = []
        lines: list[str] = []
        for raw in self.raw:
            record = parse_record(raw)
            if record is None:
                self._bad += 1
                continue
            records.append(record)
            lines.append(raw.decode("utf-8", "replace"))
        self._records = records
        self._lines = lines


def parse_record(raw: bytes) -> RequestRecord | None:
    """One journal line as a record, or None when it is not a JSON object with a string id."""
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        return None
    return cast("RequestRecord", record)


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
    batch = Batch(dict(cursor))
    for f in files:
        if len(batch.raw) >= max_records:
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
        while len(batch.raw) < max_records:
            nl = data.find(b"\n", pos)
            if nl < 0:
                break
            raw = data[pos:nl]
            pos = nl + 1
            batch.add(raw)
        if complete and pos < len(data) and f.finished and data.find(b"\n", pos) < 0:
            batch.torn += 1
            pos = len(data)
        batch.cursor[f.name] = start + pos
    return batch


def caught_up(files: list[JournalFile], cursor: Cursor) -> bool:
    """Every complete record of ``files`` is behind ``cursor``."""
    return all(cursor.get(f.name, 0) >= f.size for f in files)
