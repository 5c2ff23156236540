"""The objects of ``aigw.guardrails`` without a gateway: a guardrail's settings and stages are
checked when it is built, verdicts are checked when they are made, and the views a check gets
(Response, StreamWindow) can be built by hand for a guardrail's own tests."""

from __future__ import annotations

import re

import pytest
from guardrail_hooks import NoForbidden

import aigw

SECRET = "sk-abcdefghijklmnopqrstuvwxyzABCD0123456789"
KEY = re.compile(r"sk-[A-Za-z0-9]{8,}")


def test_guardrail_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="timeout"):
        aigw.guardrail(timeout=0)(lambda r: aigw.allow())
    with pytest.raises(ValueError, match="on_error"):
        aigw.guardrail(on_error="maybe")(lambda r: aigw.allow())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="aigw.Guardrail"):
        aigw.Gateway(guardrails=[lambda r: aigw.allow()])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="4xx or 5xx"):
        aigw.block(status=200)
    g = NoForbidden(priority=3, timeout=1.5)
    assert (g.name, g.priority, g.timeout, g.on_error) == ("NoForbidden", 3, 1.5, "block")


def test_guardrail_stage_declarations_are_checked() -> None:
    class InputOnly(aigw.Guardrail):
        def check(self, request: aigw.Request) -> aigw.Verdict:
            return aigw.allow()

    with pytest.raises(TypeError, match="check_output"):
        InputOnly(stages=("input", "output"))
    with pytest.raises(TypeError, match="check_stream"):
        InputOnly(stages=("stream",))
    with pytest.raises(ValueError, match="stages"):
        InputOnly(stages=("later",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="window"):
        InputOnly(window=-1)
    assert InputOnly().stages == ("input",)
    with pytest.raises(ValueError, match="texts or text"):
        aigw.rewrite(texts=["a"], text="b")
    view = aigw.Response(
        {"model": "m", "choices": [{"message": {"content": "x"}}, {"text": "y"}]},
        {"model": "m", "body": {"messages": [{"role": "user", "content": "q"}]}},
    )
    assert view.texts() == ["x", "y"] and view.request.text == "q" and view.usage is None


def test_stream_window_redact_holds_a_match_that_may_still_grow() -> None:
    w = aigw.StreamWindow(f"a {SECRET} b sk-1234567890")
    v = w.redact(KEY)
    assert v.action == "redact" and v.redactions == ((SECRET, "[REDACTED]"),)
    assert v.hold == len("sk-1234567890")  # it reaches the end: maybe not whole yet
    assert aigw.StreamWindow("x sk-1234567890").redact(KEY) == aigw.hold(13)
    final = aigw.StreamWindow("x sk-1234567890", final=True).redact(KEY, "#")
    assert final.redactions == (("sk-1234567890", "#"),) and final.hold is None
    assert aigw.StreamWindow("nothing here").redact(KEY) == aigw.allow()
    with pytest.raises(ValueError):
        aigw.hold(-1)
    with pytest.raises(ValueError):
        aigw.StreamWindow("x").request  # noqa: B018 - built without one
