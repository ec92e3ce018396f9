"""The HTML report as a user opens it: headless Chromium loads every figure; every link resolves.

Chromium (Debian's ``chromium`` package; .ci/run installs it) loads a copy of
the report beside the original (so relative paths resolve the same) with a
script that, once the page has loaded, writes each image's ``naturalWidth``
into the DOM; ``--dump-dom`` prints that DOM. A screenshot is written too
(``OMSIM_SCREENSHOT=path`` keeps it, for a person to look at).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from click.testing import CliRunner

from omsim.cli import main

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "scenarios" / "small-business.yaml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium not found on PATH "
                                 "(apt-get install chromium; .ci/run installs it)")]

_PROBE = """<script>
window.addEventListener('load', function () {
  var out = [];
  document.querySelectorAll('img').forEach(function (im) {
    out.push(im.getAttribute('src') + '=' + (im.complete ? im.naturalWidth + 'x' + im.naturalHeight : 'pending'));
  });
  var p = document.createElement('pre'); p.id = 'omsim-probe'; p.textContent = out.join('\\n');
  document.body.appendChild(p);
});
</script>"""


def _chromium(*args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--allow-file-access-from-files", *args],
            capture_output=True, text=True, timeout=120)


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if a.get(key):
                self.refs.append(a[key])


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "run"
    r = CliRunner().invoke(main, ["simulate", str(SMALL), "--days", "3", "--out", str(out), "--report", "-q"])
    assert r.exit_code == 0, r.output
    return out / "report.html"


def test_every_figure_loads_in_chromium(report):
    probe = report.with_name("probe.html")
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    try:
        res = _chromium("--virtual-time-budget=10000", "--dump-dom", probe.as_uri())
    finally:
        probe.unlink()
    m = re.search(r"<pre id=\"omsim-probe\">(.*?)</pre>", res.stdout, re.S)
    assert m, f"the page did not finish loading in chromium:\n{res.stderr[-2000:]}"
    loaded = dict(line.split("=", 1) for line in m.group(1).strip().splitlines())
    expected = re.findall(r"<img src='([^']+)'", report.read_text(encoding="utf-8"))
    assert expected and sorted(loaded) == sorted(expected)
    for src, size in loaded.items():
        w, _, h = size.partition("x")
        assert size != "pending" and int(w) > 0 and int(h) > 0, f"{src} did not load ({size})"


def test_no_broken_links_and_a_screenshot(report, tmp_path):
    parser = _Refs()
    text = report.read_text(encoding="utf-8")
    parser.feed(text)
    assert parser.refs
    for ref in parser.refs:
        u = urlparse(ref)
        assert u.scheme in ("", "file"), f"{ref}: the report must not depend on the network"
        if ref.startswith("#"):
            assert ref[1:] in parser.ids, f"{ref}: no such anchor"
            continue
        assert (report.parent / unquote(u.path)).is_file(), f"{ref}: broken link"
    for words in ("small-business", "seed 0", "days 3", "KPI glossary"):
        assert words in text
    shot = Path(os.environ.get("OMSIM_SCREENSHOT", tmp_path / "report.png"))
    res = _chromium("--window-size=1200,2400", "--hide-scrollbars", f"--screenshot={shot}", report.as_uri())
    assert shot.is_file() and shot.read_bytes()[:4] == b"\x89PNG", res.stderr[-2000:]
    assert shot.stat().st_size > 20_000     # a rendered page, not a blank one
