"""One route, both SDKs: Anthropic first, OpenAI-compatible second, answered in each client's
own API. Runs offline: the "Anthropic" upstream is aigw's mock serving the Messages API (as
`aigw mock` does), and it is told to be overloaded (529) so the route falls back.

    python examples/both_sdks.py
"""

import anthropic
import openai

import aigw

# A stand-in for api.anthropic.com: the mock, speaking the Messages API.
fake_anthropic = aigw.Gateway(
    {
        "server": {"mode": "mock"},
        "providers": {"m": {"kind": "mock"}},
        "routes": [{"name": "*", "provider": "m"}],
    }
)

with fake_anthropic as up:
    config = {
        "providers": {
            "claude": {
                "kind": "anthropic",
                "base_url": up.url,
                "api_key": "sk-ant-example",
                "headers": {"x-mock-status": "529"},
            },  # overloaded: the route falls back
            "backup": {"kind": "mock", "response": "Hello from the backup provider."},
        },
        "routes": [
            {
                "name": "smart",
                "strategy": "fallback",
                "targets": [
                    {"provider": "claude", "model": "claude-sonnet-4-5"},
                    {"provider": "backup"},
                ],
            },
        ],
    }
    with aigw.Gateway(config) as gw:
        claude = anthropic.Anthropic(base_url=gw.url, api_key="any")
        msg = claude.messages.create(
            model="smart", max_tokens=100, messages=[{"role": "user", "content": "Hi"}]
        )
        print(
            "anthropic sdk:",
            msg.content[0].text,
            f"({msg.stop_reason}, {msg.usage.output_tokens} tokens)",
        )

        oai = openai.OpenAI(base_url=gw.url + "/v1", api_key="any")
        out = oai.chat.completions.create(
            model="smart", messages=[{"role": "user", "content": "Hi"}]
        )
        print("openai sdk:", out.choices[0].message.content, f"({out.choices[0].finish_reason})")
