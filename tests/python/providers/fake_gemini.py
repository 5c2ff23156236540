"""A fake Gemini API (Google AI Studio) for the provider tests, written from Google's API
reference independently of aigw's translators: generateContent, streamGenerateContent?alt=sse,
batchEmbedContents, and Google's error shape. The request's first user text steers it:
"FAIL <status>" answers that error, "TOOL" a functionCall."""

from __future__ import annotations

import json
import re
from typing import Any

from upstreams import Recorded, Reply

USAGE = {
    "promptTokenCount": 11,
    "candidatesTokenCount": 4,
    "totalTokenCount": 15,
    "cachedContentTokenCount": 2,
}
STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
PATH = re.compile(
    r"^/v1beta/models/([^:/]+):(generateContent|streamGenerateContent|batchEmbedContents)$"
)


def candidate(parts: list[dict[str, Any]], finish: str | None = "STOP") -> dict[str, Any]:
    c: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        c["finishReason"] = finish
    return c


def answer(parts: list[dict[str, Any]], model: str, finish: str | None = "STOP") -> dict[str, Any]:
    return {
        "candidates": [candidate(parts, finish)],
        "usageMetadata": USAGE,
        "modelVersion": model,
        "responseId": "r1",
    }


async def event(reply: Reply, data: dict[str, Any]) -> None:
    payload = f"data: {json.dumps(data)}\r\n\r\n".encode()
    await reply.raw(b"%x\r\n%s\r\n" % (len(payload), payload))


async def handler(req: Recorded, reply: Reply) -> None:
    if req.header("x-goog-api-key") is None:
        err = {
            "error": {
                "code": 403,
                "message": "Method doesn't allow unregistered callers",
                "status": "PERMISSION_DENIED",
            }
        }
        await reply.json(err, 403)
        return
    match = PATH.match(req.path)
    if match is None:
        await reply.json(
            {"error": {"code": 404, "message": f"no such path {req.path}", "status": "NOT_FOUND"}},
            404,
        )
        return
    model, method = match.groups()
    body = req.json()
    if method == "batchEmbedContents":
        values = [
            {"values": [0.5, -0.25, float(len(r["content"]["parts"][0]["text"]))]}
            for r in body["requests"]
        ]
        await reply.json({"embeddings": values})
        return
    text = body["contents"][0]["parts"][0].get("text", "")
    if text.startswith("FAIL "):
        status = int(text.split()[1])
        err = {
            "error": {
                "code": status,
                "message": f"fake failure {status}",
                "status": STATUS.get(status, "UNKNOWN"),
            }
        }
        await reply.json(err, status)
        return
    tool = text.startswith("TOOL")
    parts = [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}] if tool else None
    if method == "generateContent":
        await reply.json(answer(parts or [{"text": "Hello from Gemini"}], model))
        return
    assert req.query == "alt=sse", req.query
    await reply.start_sse()
    if tool:
        await event(reply, answer(parts or [], model))
    else:
        await event(reply, answer([{"text": "Hello"}], model, finish=None))
        await event(reply, answer([{"text": " from Gemini"}], model))
    await reply.end_sse()
