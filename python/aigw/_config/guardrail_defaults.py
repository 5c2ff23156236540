"""Defaults of the guardrails schema that the core document of a Python guardrail also needs
when it is built without the validator (``aigw.Gateway(guardrails=...)``: aigw._hooks), so
both take them from here. Free of pydantic."""

from __future__ import annotations

from typing import Any

# What a block answers unless the guardrail says otherwise; message None: "the request was
# blocked by guardrail '<name>'" (plus the rule, for built-ins).
BLOCK_STATUS = 400
BLOCK_TYPE = "invalid_request_error"
BLOCK_CODE = "content_blocked"
# What replaces a match of a phrase or a user pattern (presets write their own).
REPLACEMENT = "[REDACTED]"
# Bytes of a stream a window holds back, so a match split across chunks is seen whole.
WINDOW = 64
# Seconds for a moderation call or a Python check.
TIMEOUT = 5.0
MODERATION_MODEL = "omni-moderation-latest"


def default_block() -> dict[str, Any]:
    """The core document's ``block`` of a guardrail that sets none."""
    return {"status": BLOCK_STATUS, "message": None, "type": BLOCK_TYPE, "code": BLOCK_CODE}


def timeout_ms(seconds: float) -> int:
    """A check's timeout as the core reads it: whole milliseconds, never 0."""
    return max(1, round(seconds * 1000))
