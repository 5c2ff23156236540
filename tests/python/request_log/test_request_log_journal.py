"""The log thread's reading side without a gateway: complete lines past a cursor, torn tails,
malformed lines, and parsing only when a sink asks for records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aigw.events import EventDispatcher
from aigw.request_log.journal import JournalFile, read_batch
from aigw.request_log.sinks import MemoryRing


def record(i: int) -> bytes:
    doc = {"id": f"req-{i}", "status": 200, "ts_end": i}
    return json.dumps(doc, separators=(",", ":")).encode()


def journal(tmp_path: Path, lines: list[bytes], tail: bytes = b"") -> list[JournalFile]:
    data = b"".join(line + b"\n" for line in lines) + tail
    (tmp_path / "r1-w000-000000.jsonl").write_bytes(data)
    return [JournalFile("r1-w000-000000.jsonl", "r1", 0, 0, len(data), finished=True)]


def test_lines_are_kept_raw_until_a_sink_asks_for_records(tmp_path: Path) -> None:
    files = journal(tmp_path, [record(1), record(2)])
    batch = read_batch(str(tmp_path), files, {}, 100)
    assert len(batch.raw) == 2
    assert not batch.parsed
    assert batch.cursor == {files[0].name: files[0].size}
    assert [r["id"] for r in batch.records] == ["req-1", "req-2"]
    assert batch.parsed
    assert batch.lines == [record(1).decode(), record(2).decode()]


def test_malformed_and_torn_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    not_a_record = b"garbage"
    looks_like_one = b'{"id":"req-x", oops}'
    lines = [record(1), not_a_record, looks_like_one, record(2)]
    files = journal(tmp_path, lines, tail=b'{"id":"cut')
    batch = read_batch(str(tmp_path), files, {}, 100)
    assert batch.torn == 1
    assert batch.bad == 1, "seen without parsing"
    assert [r["id"] for r in batch.records] == ["req-1", "req-2"]
    assert batch.bad == 2, "found when parsed"
    assert len(batch.lines) == len(batch.records)
    assert batch.cursor[files[0].name] == files[0].size, "the torn tail is passed over"


def test_a_batch_stops_at_max_records_and_resumes_from_its_cursor(tmp_path: Path) -> None:
    files = journal(tmp_path, [record(i) for i in range(5)])
    first = read_batch(str(tmp_path), files, {}, 3)
    second = read_batch(str(tmp_path), files, first.cursor, 3)
    assert [r["id"] for r in first.records + second.records] == [f"req-{i}" for i in range(5)]
    assert second.cursor[files[0].name] == files[0].size


def test_the_memory_ring_parses_on_read_once_and_keeps_the_newest(tmp_path: Path) -> None:
    ring = MemoryRing(3)
    files = journal(tmp_path, [record(i) for i in range(4)] + [b'{"id":"bad", no}'])
    batch = read_batch(str(tmp_path), files, {}, 100)
    ring.write(batch)
    assert not batch.parsed, "storing raw lines parses nothing"
    first = ring.snapshot()
    assert [r["id"] for r in first] == ["req-2", "req-3"], "the malformed last line is dropped"
    again = ring.snapshot()
    assert all(a is b for a, b in zip(first, again, strict=True)), "parsed once, then reused"


def test_the_memory_ring_takes_records_another_sink_already_parsed(tmp_path: Path) -> None:
    ring = MemoryRing(10)
    batch = read_batch(str(tmp_path), journal(tmp_path, [record(1)]), {}, 100)
    parsed = batch.records
    ring.write(batch)
    assert ring.snapshot()[0] is parsed[0]


def test_the_event_dispatcher_without_callbacks_leaves_the_batch_unparsed(tmp_path: Path) -> None:
    events = EventDispatcher()
    batch = read_batch(str(tmp_path), journal(tmp_path, [record(1)]), {}, 100)
    events.write(batch)
    assert not batch.parsed
    seen: list[dict[str, Any]] = []
    events.on("completed", seen.append)
    events.write(batch)
    assert batch.parsed
    events.close()
    assert [r["id"] for r in seen] == ["req-1"]
