"""A gateway with one Python guardrail, for figure 6: `python hooked_gateway.py CONFIG PORT KIND`.

KIND is `noop` (an async check that allows everything) or `realistic` (an async check that
searches every text of the request for secret-looking keys and a phrase list). Runs until
SIGTERM/SIGINT.
"""

from __future__ import annotations

import re
import signal
import sys
import threading

import aigw

SECRET = re.compile(r"sk-[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|ghp_[A-Za-z0-9]{36}")
PHRASES = ("ignore previous instructions", "disregard all prior", "jailbreak")


@aigw.guardrail(name="noop")
async def noop(request: aigw.Request) -> aigw.Verdict:
    return aigw.allow()


@aigw.guardrail(name="realistic")
async def realistic(request: aigw.Request) -> aigw.Verdict:
    text = request.text
    if SECRET.search(text):
        return aigw.block("the request carries a secret-looking key")
    lowered = text.lower()
    if any(p in lowered for p in PHRASES):
        return aigw.block("prompt injection phrase")
    return aigw.allow()


def main() -> None:
    config, port, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    guard = {"noop": noop, "realistic": realistic}[kind]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with aigw.Gateway(config, port=port, guardrails=[guard]):
        stop.wait()


if __name__ == "__main__":
    main()
