"""A fake Anthropic Messages API for the provider tests: answers like api.anthropic.com does
(message JSON, the SSE event sequence, errors as {"type":"error",...}), written from Anthropic's
API reference independently of aigw's translators, so a translation bug cannot hide behind a
matching bug here. Every request is recorded by the RecordingUpstream it runs in.
"""

from __future__ import annotations

import json
from typing import Any

from upstreams import Recorded, Reply

USAGE = {
    "input_tokens": 12,
    "output_tokens": 5,
    "cache_read_input_tokens": 3,
    "cache_creation_input_tokens": 2,
}


def message(
    model: str, text: str = "Hello from Anthropic", stop: str = "end_turn"
) -> dict[str, Any]:
    return {
        "id": "msg_fake01",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": USAGE,
    }


def tool_message(model: str) -> dict[str, Any]:
    return {
        **message(model, stop="tool_use"),
        "content": [
            {"type": "text", "text": "Let me look."},
            {
                "type": "tool_use",
                "id": "toolu_01",
                "name": "get_weather",
                "input": {"city": "Paris"},
            },
        ],
    }


async def sse(reply: Reply, name: str, data: dict[str, Any]) -> None:
    payload = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
    await reply.raw(b"%x\r\n%s\r\n" % (len(payload), payload))


async def stream(reply: Reply, model: str, tools: bool) -> None:
    await reply.start_sse()
    start = {
        **message(model),
        "content": [],
        "stop_reason": None,
        "usage": {**USAGE, "output_tokens": 1},
    }
    await sse(reply, "message_start", {"type": "message_start", "message": start})
    await sse(reply, "ping", {"type": "ping"})
    await sse(
        reply,
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    )
    for piece in ("Hello", " from", " Anthropic"):
        await sse(
            reply,
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": piece},
            },
        )
    await sse(reply, "content_block_stop", {"type": "content_block_stop", "index": 0})
    stop = "end_turn"
    if tools:
        stop = "tool_use"
        block = {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {}}
        await sse(
            reply,
            "content_block_start",
            {"type": "content_block_start", "index": 1, "content_block": block},
        )
        for part in ('{"city"', ': "Paris"}'):
            await sse(
                reply,
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 1,
                    "delta": {"type": "input_json_delta", "partial_json": part},
                },
            )
        await sse(reply, "content_block_stop", {"type": "content_block_stop", "index": 1})
    await sse(
        reply,
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": 5},
        },
    )
    await sse(reply, "message_stop", {"type": "message_stop"})
    await reply.end_sse()


def error(kind: str, text: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": text}}


async def handler(req: Recorded, reply: Reply) -> None:
    """Messages and count_tokens. The request's first user text steers it: "FAIL <status>"
    answers that error status; "TOOL" answers with a tool_use block."""
    if req.header("x-api-key") is None or req.header("anthropic-version") is None:
        await reply.json(error("authentication_error", "x-api-key header is required"), 401)
        return
    body = req.json()
    if req.path == "/v1/messages/count_tokens":
        await reply.json({"input_tokens": 42})
        return
    if req.path != "/v1/messages":
        await reply.json(error("not_found_error", f"Not found: {req.path}"), 404)
        return
    if "max_tokens" not in body:
        await reply.json(error("invalid_request_error", "max_tokens: Field required"), 400)
        return
    first = body["messages"][0]["content"]
    text = first if isinstance(first, str) else first[0].get("text", "")
    model = body["model"]
    if text.startswith("FAIL "):
        status = int(text.split()[1])
        kinds = {
            400: "invalid_request_error",
            429: "rate_limit_error",
            529: "overloaded_error",
            500: "api_error",
        }
        await reply.json(error(kinds.get(status, "api_error"), f"fake failure {status}"), status)
        return
    tools = text.startswith("TOOL")
    if body.get("stream"):
        await stream(reply, model, tools)
    else:
        await reply.json(tool_message(model) if tools else message(model))
