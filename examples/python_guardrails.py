"""Python guardrails on every stage, against the embedded mock provider: one blocks prompts
before the provider is called, one redacts keys in streamed answers even when a key arrives
split across chunks. Run: .venv/bin/python examples/python_guardrails.py"""

import openai

import aigw

KEY = "sk-abcdefghijklmnopqrstuvwxyz012345"


@aigw.guardrail(priority=0)
async def no_private_keys(request: aigw.Request) -> aigw.Verdict:
    if "PRIVATE KEY" in request.text:
        return aigw.block("private keys are not allowed", code="private_key")
    return aigw.allow()


class NoKeysOut(aigw.Guardrail):
    stages = ("output", "stream")  # whole answers and streamed ones
    window = 64  # stream windows hold back 64 bytes: a key up to that long is seen whole

    async def check_output(self, response: aigw.Response) -> aigw.Verdict:
        return aigw.redact([w for w in response.text.split() if w.startswith("sk-")], "[KEY]")

    async def check_stream(self, window: aigw.StreamWindow) -> aigw.Verdict:
        return window.redact(r"sk-[A-Za-z0-9]{16,}", "[KEY]")


with aigw.Gateway(guardrails=[no_private_keys, NoKeysOut()]) as gw:
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key="unused", max_retries=0)
    try:
        client.chat.completions.create(
            model="mock-gpt",
            messages=[{"role": "user", "content": "-----BEGIN PRIVATE KEY----- ..."}],
        )
    except openai.BadRequestError as err:
        print("blocked:", err.code)

    # The mock answers with this text in 12 chunks: the key arrives in pieces.
    stream = client.chat.completions.create(
        model="mock-gpt",
        messages=[{"role": "user", "content": "what is my key?"}],
        stream=True,
        extra_headers={
            "x-mock-response": f"Your key is {KEY}, keep it safe.",
            "x-mock-chunks": "12",
        },
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    print("streamed:", text)
    print("guardrails:", {name: s["runs"] for name, s in gw.stats()["guardrails"].items()})
