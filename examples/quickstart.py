"""Start a gateway in process (embedded default: the mock provider) and talk to it with the
official OpenAI SDK, streaming and not. Run: .venv/bin/python examples/quickstart.py"""

import openai

import aigw

with aigw.Gateway() as gw:
    print(gw)
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key="unused")

    reply = client.chat.completions.create(
        model="mock-gpt", messages=[{"role": "user", "content": "hello"}]
    )
    print("answer:", reply.choices[0].message.content)

    stream = client.chat.completions.create(
        model="mock-gpt",
        messages=[{"role": "user", "content": "hello"}],
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={"x-mock-chunk-delay-ms": "50"},  # the mock's knobs, per request
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            print(chunk.choices[0].delta.content, end="", flush=True)
        elif chunk.usage:
            print(f"\nusage: {chunk.usage.total_tokens} tokens")

    print("stats:", gw.stats()["requests"], "requests")
