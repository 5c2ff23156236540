"""A fake Amazon Bedrock runtime (Converse and ConverseStream) for the provider tests, written
from AWS's API reference independently of aigw's translators. It checks every request's SigV4
signature with botocore's own signer and answers with AWS's event-stream framing (encoded here
with zlib's CRC32). The first user text steers it: "FAIL <status>" answers that error,
"TOOL" a toolUse block, "THROTTLE" a throttlingException inside the stream."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from upstreams import Recorded, Reply

REGION = "us-east-1"
KEY_ID = "AKIDEXAMPLE0123456789"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789"
USAGE = {"inputTokens": 9, "outputTokens": 3, "totalTokens": 12, "cacheReadInputTokens": 1}
ERRORS = {
    400: "ValidationException",
    403: "AccessDeniedException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}


def signature_problem(
    req: Recorded, token: str | None, key_id: str = KEY_ID, secret: str = SECRET
) -> str | None:
    """None when the request's SigV4 signature is the one botocore computes for it."""
    auth = req.header("authorization") or ""
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return f"no SigV4 authorization: {auth!r}"
    fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 ") :].split(","))
    signed = fields["SignedHeaders"].split(";")
    if not {"host", "x-amz-date", "content-type"} <= set(signed):
        return f"signed headers {signed}"
    if token is not None and "x-amz-security-token" not in signed:
        return "the session token is not signed"
    headers = {name: req.header(name) or "" for name in signed}
    request = AWSRequest(
        method=req.method,
        url=f"https://{headers['host']}{req.target}",
        data=req.body,
        headers=headers,
    )
    request.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(Credentials(key_id, secret, token), "bedrock", REGION)
    expected = signer.signature(
        signer.string_to_sign(request, signer.canonical_request(request)), request
    )
    if fields["Signature"] != expected:
        return f"signature {fields['Signature']} != botocore's {expected}"
    if not fields["Credential"].startswith(
        f"{key_id}/{headers['x-amz-date'][:8]}/{REGION}/bedrock/aws4_request"
    ):
        return f"credential scope {fields['Credential']}"
    return None


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    encoded = b""
    for name, value in headers.items():
        raw = value.encode()
        encoded += bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(raw)) + raw
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


async def send(reply: Reply, data: bytes) -> None:
    await reply.raw(b"%x\r\n%s\r\n" % (len(data), data))


async def event(reply: Reply, name: str, body: dict[str, Any]) -> None:
    headers = {":event-type": name, ":content-type": "application/json", ":message-type": "event"}
    await send(reply, frame(headers, json.dumps(body).encode()))


async def stream(reply: Reply, tool: bool, throttle: bool) -> None:
    head = "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.amazon.eventstream\r\n"
    await reply.raw(
        (head + "x-amzn-requestid: rid-1\r\ntransfer-encoding: chunked\r\n\r\n").encode()
    )
    await event(reply, "messageStart", {"role": "assistant"})
    if throttle:
        headers = {
            ":exception-type": "throttlingException",
            ":content-type": "application/json",
            ":message-type": "exception",
        }
        await send(reply, frame(headers, b'{"message":"slow down"}'))
        await reply.raw(b"0\r\n\r\n")
        return
    if tool:
        start = {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather"}}
        await event(reply, "contentBlockStart", {"contentBlockIndex": 0, "start": start})
        for part in ('{"city"', ': "Paris"}'):
            await event(
                reply,
                "contentBlockDelta",
                {"contentBlockIndex": 0, "delta": {"toolUse": {"input": part}}},
            )
    else:
        for piece in ("Hello", " from", " Bedrock"):
            await event(
                reply, "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}}
            )
    await event(reply, "contentBlockStop", {"contentBlockIndex": 0})
    await event(reply, "messageStop", {"stopReason": "tool_use" if tool else "end_turn"})
    await event(reply, "metadata", {"usage": USAGE, "metrics": {"latencyMs": 1}})
    await reply.raw(b"0\r\n\r\n")


def make_handler(
    token: str | None = None, keys: Callable[[], tuple[str, str, str | None]] | None = None
) -> Any:
    """``keys``: the (key id, secret, token) accepted now, for rotation tests."""

    async def handler(req: Recorded, reply: Reply) -> None:
        key_id, secret, session = (KEY_ID, SECRET, token) if keys is None else keys()
        problem = signature_problem(req, session, key_id, secret)
        if problem is not None:
            await reply.json(
                {"message": problem}, 403, [("x-amzn-errortype", "InvalidSignatureException")]
            )
            return
        parts = req.path.split("/")
        if (
            len(parts) != 4
            or parts[1] != "model"
            or parts[3] not in ("converse", "converse-stream")
        ):
            await reply.json(
                {"message": f"no route {req.path}"},
                404,
                [("x-amzn-errortype", "UnknownOperationException")],
            )
            return
        body = req.json()
        text = body["messages"][0]["content"][0].get("text", "")
        if text.startswith("FAIL "):
            status = int(text.split()[1])
            kind = ERRORS.get(status, "InternalServerException")
            await reply.json(
                {"message": f"fake failure {status}"},
                status,
                [("x-amzn-errortype", f"{kind}:http://internal")],
            )
            return
        tool = text.startswith("TOOL")
        if parts[3] == "converse-stream":
            await stream(reply, tool, text.startswith("THROTTLE"))
            return
        content = (
            [
                {
                    "toolUse": {
                        "toolUseId": "tooluse_1",
                        "name": "get_weather",
                        "input": {"city": "Paris"},
                    }
                }
            ]
            if tool
            else [{"text": "Hello from Bedrock " + unquote(parts[2])}]
        )
        await reply.json(
            {
                "output": {"message": {"role": "assistant", "content": content}},
                "stopReason": "tool_use" if tool else "end_turn",
                "usage": USAGE,
                "metrics": {"latencyMs": 5},
            }
        )

    return handler
