"""Fixtures of the guardrail tests: gateways with Python guardrails, and SDK clients for them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
from _util import mock_config

import aigw


@pytest.fixture
def guarded(make_gateway: Callable[..., aigw.Gateway]) -> Callable[..., aigw.Gateway]:
    """Factory: ``guarded(*guardrails, config=None, **kwargs)`` starts a gateway with these
    Python guardrails (config: one mock provider for every model); stopped at teardown."""

    def start(
        *guardrails: aigw.Guardrail, config: dict[str, Any] | None = None, **kwargs: Any
    ) -> aigw.Gateway:
        return make_gateway(config or mock_config(), guardrails=list(guardrails), **kwargs)

    return start


@pytest.fixture
def sdk() -> Iterator[Callable[[aigw.Gateway], openai.OpenAI]]:
    """Factory: ``sdk(gw)`` is an openai client of the gateway (no retries); closed at teardown."""
    clients: list[openai.OpenAI] = []

    def client(gw: aigw.Gateway) -> openai.OpenAI:
        clients.append(openai.OpenAI(base_url=gw.url + "/v1", api_key="k", max_retries=0))
        return clients[-1]

    yield client
    for c in clients:
        c.close()
