"""Using aigw as a scriptable mock LLM in your own pytest suite: a fixture starts a gateway
whose mock provider fails on demand, so the code under test meets a 429 and a 500 for real.
Run: .venv/bin/python -m pytest examples/test_with_mock_llm.py"""

from collections.abc import Iterator

import openai
import pytest

import aigw


@pytest.fixture(scope="module")
def llm() -> Iterator[openai.OpenAI]:
    with (
        aigw.Gateway(workers=1) as gw,
        openai.OpenAI(base_url=gw.url + "/v1", api_key="unused", max_retries=0) as client,
    ):
        yield client


def summarize(client: openai.OpenAI, text: str, **extra: object) -> str:
    reply = client.chat.completions.create(
        model="mock-gpt", messages=[{"role": "user", "content": text}], **extra
    )
    return reply.choices[0].message.content or ""


def test_answer(llm: openai.OpenAI) -> None:
    assert summarize(llm, "x", extra_headers={"x-mock-response": "short"}) == "short"


def test_rate_limited(llm: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError):
        summarize(llm, "x", extra_headers={"x-mock-status": "429", "x-mock-retry-after": "1"})


def test_provider_down(llm: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError):
        summarize(llm, "x", extra_headers={"x-mock-status": "500"})
