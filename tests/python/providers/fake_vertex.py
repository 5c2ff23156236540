"""A fake Vertex AI and a fake Google OAuth2 token endpoint for the provider tests, on one
RecordingUpstream. The token endpoint takes the JWT bearer grant only with a JWT whose RS256
signature the ``openssl`` CLI verifies with the test key's public half and whose claims are
the ones Google requires; it hands out numbered tokens. Vertex checks the URL of each
publisher and method, the bearer token (one the endpoint issued), and the body: Gemini's
generateContent body for publisher google (answered by fake_gemini), Anthropic's Messages body
without ``model`` and with ``anthropic_version`` for publisher anthropic (answered by
fake_anthropic). The first user text "ECHO" makes Vertex echo the bearer token in an error."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import fake_anthropic
import fake_gemini
from upstreams import Recorded, Reply

PROJECT = "proj-1"
REGION = "us-east5"
CLIENT_EMAIL = "gw@proj-1.iam.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
PATH = re.compile(
    r"^/v1/projects/([^/]+)/locations/([^/]+)/publishers/(google|anthropic)/models/([^/:]+)"
    r":(generateContent|streamGenerateContent|rawPredict|streamRawPredict)$"
)
METHODS = {
    "google": ("generateContent", "streamGenerateContent"),
    "anthropic": ("rawPredict", "streamRawPredict"),
}


def make_key(folder: Path) -> tuple[str, Path]:
    """A fresh RSA key: (its private PEM, the path of its public PEM)."""
    key, pub = folder / "key.pem", folder / "pub.pem"
    subprocess.run(
        [
            "openssl",
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            str(key),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["openssl", "pkey", "-in", str(key), "-pubout", "-out", str(pub)],
        check=True,
        capture_output=True,
    )
    return key.read_text(), pub


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def rs256_verifies(public_pem: Path, signing_input: bytes, signature: bytes) -> bool:
    with tempfile.TemporaryDirectory() as d:
        data, sig = Path(d) / "data", Path(d) / "sig"
        data.write_bytes(signing_input)
        sig.write_bytes(signature)
        done = subprocess.run(
            [
                "openssl",
                "dgst",
                "-sha256",
                "-verify",
                str(public_pem),
                "-signature",
                str(sig),
                str(data),
            ],
            capture_output=True,
        )
    return done.returncode == 0


class FakeGoogle:
    """The token endpoint's and Vertex's state: the public key, issued tokens, grants seen."""

    def __init__(self, public_pem: Path, lifetime: int = 3600) -> None:
        self.public_pem = public_pem
        self.lifetime = lifetime
        self.origin = ""  # set once the upstream listens: the token_uri is origin + "/token"
        self.issued: list[str] = []
        self.claims: list[dict[str, Any]] = []

    @property
    def token_uri(self) -> str:
        return self.origin + "/token"

    def grant_problem(self, req: Recorded) -> str | None:
        form = parse_qs(req.body.decode())
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return f"grant_type {form.get('grant_type')}"
        parts = form["assertion"][0].split(".")
        if len(parts) != 3:
            return "the assertion is no JWT"
        header, claims = json.loads(_unb64(parts[0])), json.loads(_unb64(parts[1]))
        if header.get("alg") != "RS256" or header.get("typ") != "JWT":
            return f"header {header}"
        if not rs256_verifies(self.public_pem, f"{parts[0]}.{parts[1]}".encode(), _unb64(parts[2])):
            return "the RS256 signature does not verify"
        want = {"iss": CLIENT_EMAIL, "scope": SCOPE, "aud": self.token_uri}
        if {k: claims.get(k) for k in want} != want:
            return f"claims {claims}"
        if claims["exp"] - claims["iat"] != 3600 or abs(claims["iat"] - time.time()) > 60:
            return f"times {claims}"
        self.claims.append(claims)
        return None

    async def handler(self, req: Recorded, reply: Reply) -> None:
        if req.path == "/token":
            problem = self.grant_problem(req)
            if problem is not None:
                await reply.json({"error": "invalid_grant", "error_description": problem}, 400)
                return
            token = f"ya29.fake-token-{len(self.issued) + 1:04d}-abcdefghijklmnop"
            self.issued.append(token)
            await reply.json(
                {"access_token": token, "expires_in": self.lifetime, "token_type": "Bearer"}
            )
            return
        await self.vertex(req, reply)

    async def vertex(self, req: Recorded, reply: Reply) -> None:
        auth = req.header("authorization") or ""
        if not auth.startswith("Bearer ") or auth[len("Bearer ") :] not in self.issued:
            err = {"code": 401, "message": "invalid credentials", "status": "UNAUTHENTICATED"}
            await reply.json({"error": err}, 401)
            return
        match = PATH.match(req.path)
        if match is None or match.group(1) != PROJECT or match.group(2) != REGION:
            err = {"code": 404, "message": f"no such path {req.path}", "status": "NOT_FOUND"}
            await reply.json({"error": err}, 404)
            return
        _, _, publisher, model, method = match.groups()
        if method not in METHODS[publisher]:
            await reply.json({"error": {"code": 400, "message": "wrong method"}}, 400)
            return
        body = req.json()
        if publisher == "google":
            if body["contents"][0]["parts"][0].get("text") == "ECHO":
                err = {"code": 401, "message": f"bad token {auth}", "status": "UNAUTHENTICATED"}
                await reply.json({"error": err}, 401)
                return
            # fake_gemini answers what Google AI Studio answers: Vertex's bodies are the same.
            query = "?" + req.query if req.query else ""
            as_gemini = replace(
                req,
                target=f"/v1beta/models/{model}:{method}{query}",
                headers=[*req.headers, ("x-goog-api-key", "vertex")],
            )
            await fake_gemini.handler(as_gemini, reply)
            return
        if "model" in body or body.get("anthropic_version") != "vertex-2023-10-16":
            message = "model must not be in the body; anthropic_version must be vertex-2023-10-16"
            await reply.json(fake_anthropic.error("invalid_request_error", message), 400)
            return
        if body.get("stream", False) != (method == "streamRawPredict"):
            await reply.json(fake_anthropic.error("invalid_request_error", "stream vs method"), 400)
            return
        as_anthropic = replace(
            req,
            target="/v1/messages",
            body=json.dumps({**body, "model": model}).encode(),
            headers=[
                *((n, v) for n, v in req.headers if n != "anthropic-version"),  # a client's
                ("x-api-key", "vertex"),
                ("anthropic-version", "vertex"),
            ],
        )
        await fake_anthropic.handler(as_anthropic, reply)


def service_account(token_uri: str, private_pem: str) -> dict[str, Any]:
    return {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "k1",
        "private_key": private_pem,
        "client_email": CLIENT_EMAIL,
        "token_uri": token_uri,
    }
