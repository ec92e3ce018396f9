"""The operations page as a user sees it: rendered by headless Chromium (Debian's ``chromium``)."""
from __future__ import annotations

import shutil
import subprocess

import httpx
import pytest

from service.server import READ, order_body

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_basic_auth_for_browsers(server):
    r = httpx.get(server.url + "/")
    assert r.status_code == 401 and 'Basic realm="omsim"' in r.headers.get_list("www-authenticate")
    assert httpx.get(server.url + "/", auth=("ops", READ)).status_code == 200
    assert httpx.get(server.url + "/", auth=("ops", "wrong-key-0123456789")).status_code == 401


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed here")
def test_ops_page_in_headless_chromium(server, tmp_path):
    with server.client() as c:
        r = c.post("/v1/orders", json=order_body("OPS1", qty=2), headers={"Idempotency-Key": "ops1"})
        assert r.status_code == 201
    url = server.url.replace("http://", f"http://ops:{READ}@") + "/"
    res = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                          "--disable-background-networking", "--disable-component-update", "--disable-sync",
                          f"--user-data-dir={tmp_path / 'chromium'}", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    dom = res.stdout
    assert "omsim live decisions" in dom, res.stderr[-1000:]
    assert "OPS1" in dom and "allocated" in dom                 # the latest decision, with its explanation
    assert "one package from" in dom
    for node in ("RNO", "MEM", "ABE"):
        assert f"<td>{node}</td>" in dom                        # stock per node
    assert "POST /v1/orders" in dom                             # request latency
