"""HTTPS for clients (``server.tls``): the official SDKs over TLS, plain HTTP and old protocol
versions refused, ALPN, certificate reload (explicit, automatic, broken files, SIGHUP), client
certificates, config errors, and the gateway as an HTTPS upstream of another gateway.

The PKI is made at test time with the ``openssl`` command line: a CA, server certificates with
known serials, and a client certificate.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml
from _util import AigwProcess, mock_config, wait_until

import aigw

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")


# --------------------------------------------------------------------------- PKI


def _openssl(*args: str | Path, cwd: Path) -> None:
    subprocess.run(["openssl", *map(str, args)], cwd=cwd, check=True, capture_output=True)


@dataclass(frozen=True)
class Pki:
    dir: Path
    ca: Path

    def issue(self, name: str, serial: int, *, client: bool = False) -> tuple[Path, Path]:
        """A P-256 certificate signed by the CA: (cert, key). Servers get localhost names."""
        key, csr, cert = (self.dir / f"{name}.{ext}" for ext in ("key", "csr", "pem"))
        ext = self.dir / f"{name}.ext"
        usage = "clientAuth" if client else "serverAuth"
        lines = [
            "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature",
            f"extendedKeyUsage={usage}",
            "subjectKeyIdentifier=hash",
            "authorityKeyIdentifier=keyid",
        ]
        if not client:
            lines.append("subjectAltName=DNS:localhost,IP:127.0.0.1")
        ext.write_text("\n".join(lines) + "\n")
        _openssl(
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", csr, "-subj", f"/CN={name}", cwd=self.dir,
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.dir / "ca.key",
            "-set_serial", str(serial), "-days", "2", "-extfile", ext, "-out", cert, cwd=self.dir,
        )  # fmt: skip
        return cert, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=aigw test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d,
    )  # fmt: skip
    p = Pki(d, d / "ca.pem")
    for name, serial in (("first", 0x1001), ("second", 0x2002)):
        p.issue(name, serial)
    p.issue("client", 0x3003, client=True)
    return p


@pytest.fixture
def files(pki: Pki, tmp_path: Path) -> dict[str, Path]:
    """The gateway's own cert.pem/key.pem (a copy of "first"), replaceable by the test."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    shutil.copy(pki.dir / "first.pem", cert)
    shutil.copy(pki.dir / "first.key", key)
    return {"cert": cert, "key": key}


def install(pki: Pki, files: dict[str, Path], name: str) -> None:
    """Replace the served files with certificate `name`, each renamed over the old one."""
    for part, ext in (("key", "key"), ("cert", "pem")):
        tmp = files[part].with_suffix(".tmp")
        shutil.copy(pki.dir / f"{name}.{ext}", tmp)
        os.replace(tmp, files[part])


def tls_config(files: dict[str, Path], **tls: Any) -> dict[str, Any]:
    return mock_config(
        server={"tls": {"cert": str(files["cert"]), "key": str(files["key"]), **tls}}
    )


def client_context(pki: Pki, **kwargs: Any) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki.ca))
    for name, value in kwargs.items():
        setattr(ctx, name, value)
    return ctx


def der(path: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(path.read_text())


def handshake(gw: aigw.Gateway, ctx: ssl.SSLContext) -> tuple[str | None, str | None, bytes]:
    """One TLS connection: (version, ALPN protocol, server certificate DER)."""
    assert gw.port is not None
    with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            peer = tls.getpeercert(binary_form=True)
            assert peer is not None
            return tls.version(), tls.selected_alpn_protocol(), peer


def https_connection(gw: aigw.Gateway, pki: Pki) -> http.client.HTTPSConnection:
    assert gw.port is not None
    return http.client.HTTPSConnection("localhost", gw.port, context=client_context(pki), timeout=5)


def get_health(conn: http.client.HTTPSConnection) -> int:
    conn.request("GET", "/health")
    response = conn.getresponse()
    response.read()
    return response.status


@pytest.fixture
def tls_gateway(
    make_gateway: Callable[..., aigw.Gateway], files: dict[str, Path]
) -> Callable[..., aigw.Gateway]:
    def make(**tls: Any) -> aigw.Gateway:
        return make_gateway(tls_config(files, **tls))

    return make


# --------------------------------------------------------------------------- SDKs over HTTPS


def test_openai_sdk_over_https_plain_and_streaming(
    tls_gateway: Callable[..., aigw.Gateway], pki: Pki
) -> None:
    gw = tls_gateway()
    assert gw.url.startswith("https://127.0.0.1:")
    with httpx.Client(verify=client_context(pki)) as http_client:
        client = openai.OpenAI(base_url=gw.url + "/v1", api_key="unused", http_client=http_client)
        answer = client.chat.completions.create(
            model="mock-gpt", messages=[{"role": "user", "content": "hi"}]
        )
        assert answer.choices[0].message.content
        stream = client.chat.completions.create(
            model="mock-gpt", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        assert text == answer.choices[0].message.content
        embedding = client.embeddings.create(model="mock-embedding", input="hello")
        assert embedding.data[0].embedding
    tls = gw.stats()["tls"]
    assert tls["handshakes"] >= 1
    assert tls["handshake_failures"] == 0


async def test_async_openai_sdk_streams_over_https(
    tls_gateway: Callable[..., aigw.Gateway], pki: Pki
) -> None:
    gw = tls_gateway()
    async with httpx.AsyncClient(verify=client_context(pki)) as http_client:
        client = openai.AsyncOpenAI(
            base_url=gw.url + "/v1", api_key="unused", http_client=http_client
        )
        stream = await client.chat.completions.create(
            model="mock-gpt", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        chunks = [chunk async for chunk in stream]
    assert any(c.choices and c.choices[0].finish_reason == "stop" for c in chunks)


def test_many_new_connections_across_workers_while_the_certificate_reloads(
    make_gateway: Callable[..., aigw.Gateway], pki: Pki, files: dict[str, Path]
) -> None:
    """Every worker shares one context and swaps it on reload; handshakes in flight keep the
    context they started with."""
    gw = make_gateway(tls_config(files, reload_interval=0), workers=2)
    ctx = client_context(pki)

    def one_request(i: int) -> int:
        if i == 32:
            install(pki, files, "second")
            gw.reload_tls()
        with httpx.Client(verify=ctx) as client:  # a new connection each time
            return client.get(gw.url + "/health").status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(one_request, range(64)))
    assert statuses == [200] * 64
    tls = gw.stats()["tls"]
    assert tls["handshakes"] == 64
    assert tls["handshake_failures"] == 0
    assert tls["certificate"]["serial"] == "2002"


def test_client_that_does_not_trust_the_ca_fails(tls_gateway: Callable[..., aigw.Gateway]) -> None:
    gw = tls_gateway()
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(gw.url + "/health")


# --------------------------------------------------------------------------- refusals


def test_plain_http_to_the_https_port_gets_a_400_that_says_so(
    tls_gateway: Callable[..., aigw.Gateway],
) -> None:
    gw = tls_gateway()
    plain_url = gw.url.replace("https://", "http://")
    r = httpx.get(plain_url + "/health")
    assert r.status_code == 400
    assert "https://" in r.json()["error"]["message"]
    client = openai.OpenAI(base_url=plain_url + "/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.BadRequestError, match="speaks HTTPS"):
        client.models.list()
    assert gw.stats()["tls"]["handshake_failures"] == 2
    assert gw.stats()["requests"] == 0


def test_tls_1_1_is_refused_and_1_2_is_served(
    tls_gateway: Callable[..., aigw.Gateway], pki: Pki
) -> None:
    gw = tls_gateway()
    old = client_context(pki)
    with warnings.catch_warnings():  # ssl deprecates the very versions this test offers
        warnings.simplefilter("ignore", DeprecationWarning)
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("DEFAULT:@SECLEVEL=0")  # so the refusal is the server's, not our own
    with pytest.raises(ssl.SSLError, match="(?i)protocol version|unsupported protocol"):
        handshake(gw, old)
    assert wait_until(lambda: gw.stats()["tls"]["handshake_failures"] == 1)
    version, _, _ = handshake(gw, client_context(pki, maximum_version=ssl.TLSVersion.TLSv1_2))
    assert version == "TLSv1.2"
    version, _, _ = handshake(gw, client_context(pki))
    assert version == "TLSv1.3"


def test_min_version_1_3_refuses_a_tls_1_2_client(
    tls_gateway: Callable[..., aigw.Gateway], pki: Pki
) -> None:
    gw = tls_gateway(min_version=1.3)  # as YAML would read it
    with pytest.raises(ssl.SSLError):
        handshake(gw, client_context(pki, maximum_version=ssl.TLSVersion.TLSv1_2))
    assert handshake(gw, client_context(pki))[0] == "TLSv1.3"


def test_alpn_gives_http_1_1_and_refuses_a_client_that_only_speaks_h2(
    tls_gateway: Callable[..., aigw.Gateway], pki: Pki
) -> None:
    gw = tls_gateway()
    both = client_context(pki)
    both.set_alpn_protocols(["h2", "http/1.1"])
    assert handshake(gw, both)[1] == "http/1.1"
    h2_only = client_context(pki)
    h2_only.set_alpn_protocols(["h2"])
    with pytest.raises(ssl.SSLError, match="(?i)no.application.protocol"):
        handshake(gw, h2_only)
    assert handshake(gw, client_context(pki))[1] is None  # no ALPN offered: served anyway


# --------------------------------------------------------------------------- reload


def test_reload_serves_the_new_certificate_to_new_connections_and_keeps_open_ones(
    tls_gateway: Callable[..., aigw.Gateway], pki: Pki, files: dict[str, Path]
) -> None:
    gw = tls_gateway(reload_interval=0)
    assert gw.stats()["tls"]["certificate"]["serial"] == "1001"
    kept = https_connection(gw, pki)
    assert get_health(kept) == 200
    assert kept.sock.getpeercert(binary_form=True) == der(pki.dir / "first.pem")

    install(pki, files, "second")
    cert = gw.reload_tls()
    assert cert["serial"] == "2002"
    assert cert["subject"] == "CN=second"
    assert handshake(gw, client_context(pki))[2] == der(pki.dir / "second.pem")
    sock_before = kept.sock
    assert get_health(kept) == 200  # the open keep-alive connection carries on
    assert kept.sock is sock_before
    assert kept.sock.getpeercert(binary_form=True) == der(pki.dir / "first.pem")
    kept.close()
    assert gw.stats()["tls"]["reloads"] == 1


def test_changed_files_are_picked_up_without_being_asked(
    tls_gateway: Callable[..., aigw.Gateway], pki: Pki, files: dict[str, Path]
) -> None:
    gw = tls_gateway(reload_interval=0.05)
    install(pki, files, "second")
    wait_until(lambda: gw.stats()["tls"]["reloads"] == 1, what="the automatic reload")
    assert handshake(gw, client_context(pki))[2] == der(pki.dir / "second.pem")
    assert gw.stats()["tls"]["reload_failures"] == 0


def test_reload_of_a_broken_pair_keeps_the_current_certificate(
    tls_gateway: Callable[..., aigw.Gateway], pki: Pki, files: dict[str, Path]
) -> None:
    gw = tls_gateway(reload_interval=0)
    shutil.copy(pki.dir / "second.key", files["key"])  # the key of another certificate
    with pytest.raises(aigw.ConfigError, match=r"server\.tls\.key: .*does not match"):
        gw.reload_tls()
    files["cert"].write_text("garbage\n")
    with pytest.raises(aigw.ConfigError, match=r"server\.tls\.cert: no PEM certificate"):
        gw.reload_tls()
    tls = gw.stats()["tls"]
    assert tls["reload_failures"] == 2
    assert tls["last_reload_error"].startswith("cert: ")
    assert tls["certificate"]["serial"] == "1001"
    assert handshake(gw, client_context(pki))[2] == der(pki.dir / "first.pem")


def test_reload_without_tls_says_so(make_gateway: Callable[..., aigw.Gateway]) -> None:
    gw = make_gateway(mock_config())
    with pytest.raises(RuntimeError, match="plain HTTP"):
        gw.reload_tls()
    assert "tls" not in gw.stats()


def test_aigw_serve_reloads_on_sighup(pki: Pki, files: dict[str, Path], tmp_path: Path) -> None:
    config = tmp_path / "tls.yaml"
    doc = tls_config(files, reload_interval=0)
    doc["server"]["port"] = 0
    config.write_text(yaml.safe_dump(doc))
    proc = AigwProcess(["serve", "--config", str(config)])
    try:
        url = proc.wait_for_line(r"serving on (https://\S+) ").group(1)
        install(pki, files, "second")
        proc.send_signal(signal.SIGHUP)
        proc.wait_for_line(r"TLS certificate reloaded: CN=second \(serial 2002")
        files["key"].write_text("nope\n")
        proc.send_signal(signal.SIGHUP)
        proc.wait_for_line(r"TLS reload failed, still serving .*server\.tls\.key")
        r = httpx.get(url + "/health", verify=client_context(pki))
        assert r.status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        proc.close()


# --------------------------------------------------------------------------- client certificates


def test_client_certificates_required(tls_gateway: Callable[..., aigw.Gateway], pki: Pki) -> None:
    gw = tls_gateway(ca=str(pki.ca))  # client_auth defaults to require with a ca
    with httpx.Client(verify=client_context(pki)) as anonymous:
        with pytest.raises(httpx.TransportError):
            anonymous.get(gw.url + "/health")
    with_cert = client_context(pki)
    with_cert.load_cert_chain(pki.dir / "client.pem", pki.dir / "client.key")
    with httpx.Client(verify=with_cert) as known:
        assert known.get(gw.url + "/health").status_code == 200
    assert gw.stats()["tls"]["handshake_failures"] >= 1


def test_client_certificates_optional(tls_gateway: Callable[..., aigw.Gateway], pki: Pki) -> None:
    gw = tls_gateway(ca=str(pki.ca), client_auth="optional")
    with httpx.Client(verify=client_context(pki)) as anonymous:
        assert anonymous.get(gw.url + "/health").status_code == 200
    with_cert = client_context(pki)
    with_cert.load_cert_chain(pki.dir / "client.pem", pki.dir / "client.key")
    with httpx.Client(verify=with_cert) as known:
        assert known.get(gw.url + "/health").status_code == 200


# --------------------------------------------------------------------------- config errors


def problems_of(doc: dict[str, Any]) -> str:
    with pytest.raises(aigw.ConfigError) as err:
        aigw.load_config(doc)
    return str(err.value)


def test_config_errors_name_the_key_and_the_file(
    pki: Pki, files: dict[str, Path], tmp_path: Path
) -> None:
    missing = tls_config({"cert": tmp_path / "nope.pem", "key": files["key"]})
    assert f"server.tls.cert: file not found: {tmp_path / 'nope.pem'}" in problems_of(missing)

    mismatched = tls_config({"cert": files["cert"], "key": pki.dir / "second.key"})
    assert "server.tls.key: the private key in" in problems_of(mismatched)
    assert "does not match the certificate" in problems_of(mismatched)

    text = problems_of(tls_config(files, alpn=["h2"], min_version="1.1", certs="x"))
    assert "server.tls.alpn: h2 is not supported" in text
    assert "server.tls.min_version: input should be '1.2' or '1.3'" in text
    assert "server.tls.certs: unknown key; did you mean 'cert'?" in text

    assert "server.tls.ciphers: unknown cipher 'ECDHE-RSA-AES128-GCM-SHA265'" in problems_of(
        tls_config(files, ciphers="ECDHE-RSA-AES128-GCM-SHA265")
    )
    assert "server.tls.client_auth: require needs `ca`" in problems_of(
        tls_config(files, client_auth="require")
    )
    assert "server.tls.ca: has no effect with client_auth: none" in problems_of(
        tls_config(files, ca=str(pki.ca), client_auth="none")
    )


def test_check_config_reports_a_key_that_does_not_match(
    pki: Pki, files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aigw.cli import main

    config = tmp_path / "bad.yaml"
    config.write_text(
        yaml.safe_dump(tls_config({"cert": files["cert"], "key": pki.dir / "second.key"}))
    )
    assert main(["check-config", str(config)]) == 2
    assert "server.tls.key: the private key in" in capsys.readouterr().err
    config.write_text(yaml.safe_dump(tls_config(files)))
    assert main(["check-config", str(config)]) == 0


def test_files_that_break_between_check_and_start_fail_the_start(
    files: dict[str, Path],
) -> None:
    gw = aigw.Gateway(tls_config(files))
    files["key"].write_text("gone\n")
    with pytest.raises(ValueError, match=r"server\.tls\.key: no PEM private key"):
        gw.start()
    assert not gw.running


# --------------------------------------------------------------------------- gateway to gateway


@pytest.fixture
def https_mock_upstream(files: dict[str, Path]) -> Iterator[aigw.Gateway]:
    config = tls_config(files)
    config["server"]["mode"] = "mock"  # what `aigw mock` runs: a standalone upstream
    with aigw.Gateway(config) as upstream:
        yield upstream


def test_gateway_proxies_to_an_https_gateway(
    make_gateway: Callable[..., aigw.Gateway], https_mock_upstream: aigw.Gateway, pki: Pki
) -> None:
    """Both TLS roles of the data plane in one request: the front gateway's client side
    verifies the upstream gateway's server side against the test CA."""
    front = make_gateway(
        {
            "providers": {
                "up": {
                    "kind": "openai",
                    "base_url": f"https://localhost:{https_mock_upstream.port}/v1",
                    "ca_file": str(pki.ca),
                }
            },
            "routes": [{"name": "*", "provider": "up"}],
        }
    )
    client = openai.OpenAI(base_url=front.url + "/v1", api_key="unused", max_retries=0)
    answer = client.chat.completions.with_raw_response.create(
        model="mock-gpt", messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.headers["x-aigw-provider"] == "up"
    assert answer.parse().choices[0].message.content
    assert https_mock_upstream.stats()["tls"]["handshakes"] == 1
