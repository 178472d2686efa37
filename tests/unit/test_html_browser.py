"""The HTML report in a real headless Chromium: it renders, has one bar per unit, and asks for nothing.

Chromium is driven over the DevTools protocol on ``--remote-debugging-pipe`` (file descriptors 3
and 4, NUL-separated JSON), with the standard library only. The page is served by a local HTTP
server; the proof that no request leaves the page is twofold: the browser reports exactly one
request (the page itself) and the server sees exactly one request.

Without /usr/bin/chromium the test is skipped on a developer machine and fails in CI (``CI`` set).
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentroll.reports import render

CHROMIUM = Path("/usr/bin/chromium")
FIXTURE = Path(__file__).parent / "fixtures" / "report_sample.json"
TIMEOUT_SECONDS = 60.0
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--remote-debugging-pipe",
    # The page is on loopback; a proxy from the environment must not carry it (or anything) away.
    "--no-proxy-server",
    # Any host name resolves to nothing: a stray request could not reach the network anyway.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--window-size=1280,900",
)

pytestmark = pytest.mark.browser


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = "headless browser test needs /usr/bin/chromium (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(message + "; CI must have it")
    pytest.skip(message)


class DevTools:
    """A minimal DevTools-protocol client over Chromium's debugging pipe."""

    def __init__(self, process: subprocess.Popen[bytes], to_browser: int, from_browser: int) -> None:
        self.process = process
        self._out, self._in = to_browser, from_browser
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no answer from Chromium over the DevTools pipe")
            ready, _, _ = select.select([self._in], [], [], remaining)
            if ready:
                chunk = os.read(self._in, 1 << 20)
                if not chunk:
                    raise ConnectionError("Chromium closed the DevTools pipe")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        """Send one command and return its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, method: str) -> dict[str, Any]:
        """Wait for an event (or find it among those already received)."""
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while True:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self.events.append(self._read_message(deadline))


@pytest.fixture
def devtools(tmp_path: Path) -> Iterator[DevTools]:
    _require_chromium()
    to_browser_read, to_browser_write = os.pipe()
    from_browser_read, from_browser_write = os.pipe()

    # Chromium expects its end of the debugging pipe on fds 3 (commands in) and 4 (answers out); a
    # tiny Python launcher puts them there and execs the browser (no preexec_fn in this process).
    command = [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "about:blank"]
    launcher = (
        "import os, sys; r, w = int(sys.argv[1]), int(sys.argv[2]); os.dup2(r, 3); os.dup2(w, 4); "
        "[os.close(fd) for fd in (r, w) if fd not in (3, 4)]; os.execv(sys.argv[3], sys.argv[3:])"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", launcher, str(to_browser_read), str(from_browser_write), *command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(to_browser_read, from_browser_write),
    )
    os.close(to_browser_read)
    os.close(from_browser_write)
    client = DevTools(process, to_browser_write, from_browser_read)
    try:
        yield client
    finally:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError, ConnectionError):
            client.call("Browser.close")
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        os.close(to_browser_write)
        os.close(from_browser_read)


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    """Serves one page and counts every request it receives."""

    page: bytes = b""
    requests: list[str] = []  # noqa: RUF012 - replaced per server in _serve

    def do_GET(self) -> None:
        self.requests.append(self.path)
        status, body = (200, self.page) if self.path == "/report.html" else (404, b"")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _served(page: str) -> Iterator[tuple[str, list[str]]]:
    """Serve ``page`` on loopback; yield its address and the list of requests the server saw."""
    handler = type("Handler", (_CountingHandler,), {"page": page.encode("utf-8"), "requests": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/report.html", handler.requests
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def served_report() -> Iterator[tuple[str, list[str], dict[str, Any]]]:
    report = json.loads(FIXTURE.read_text(encoding="utf-8"))
    page = render(report, "html", lang="vi")
    assert isinstance(page, str)
    with _served(page) as (url, requests):
        yield url, requests, report


def _open_page(devtools: DevTools, url: str) -> str:
    """Open a tab with network events on, load ``url``, wait for the load event; return the session."""
    target = devtools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = devtools.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    devtools.call("Network.enable", session=session)
    devtools.call("Page.enable", session=session)
    devtools.call("Page.navigate", {"url": url}, session=session)
    devtools.wait_for("Page.loadEventFired")
    return session


def _evaluate(devtools: DevTools, session: str, expression: str) -> Any:
    params = {"expression": expression, "returnByValue": True}
    result = devtools.call("Runtime.evaluate", params, session=session)
    return result["result"].get("value")


def _screenshot(devtools: DevTools, session: str, path: Path) -> None:
    size = devtools.call("Page.getLayoutMetrics", session=session)["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = devtools.call(
        "Page.captureScreenshot",
        {"format": "png", "clip": clip, "captureBeyondViewport": True},
        session=session,
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def test_report_renders_in_chromium_without_any_outside_request(
    devtools: DevTools, served_report: tuple[str, list[str], dict[str, Any]], tmp_path: Path
) -> None:
    url, server_requests, report = served_report
    session = _open_page(devtools, url)

    title = _evaluate(devtools, session, "document.title")
    assert title == "Báo cáo tình hình cài đặt phần mềm giám sát mã độc"
    all_bars = "[...document.querySelectorAll('rect.bar')]"
    bars = _evaluate(devtools, session, f"{all_bars}.map(bar => bar.dataset.unit)")
    assert bars == [unit["code"] for unit in report["units"]]
    widths = _evaluate(devtools, session, f"{all_bars}.map(bar => bar.getBBox().width)")
    assert all(width > 0 for width in widths)
    assert _evaluate(devtools, session, "document.characterSet") == "UTF-8"
    assert "Đạt chuẩn" in _evaluate(devtools, session, "document.body.innerText")

    screenshot = Path(os.environ.get("AGENTROLL_SCREENSHOT_DIR") or tmp_path) / "report-vi.png"
    _screenshot(devtools, session, screenshot)
    assert screenshot.read_bytes().startswith(b"\x89PNG")

    requested = [
        event["params"]["request"]["url"]
        for event in devtools.events
        if event.get("method") == "Network.requestWillBeSent"
    ]
    assert requested == [url], f"the page asked for more than itself: {requested}"
    assert server_requests == ["/report.html"]


#: Every text of every chart, with its box and the chart's viewBox (SVG user units).
CHART_TEXTS = """
[...document.querySelectorAll('svg.chart')].flatMap(svg => [...svg.querySelectorAll('text')].map(text => {
    const box = text.getBBox();
    return {text: text.textContent, left: box.x, right: box.x + box.width,
            width: svg.viewBox.baseVal.width};
}))
"""


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_chart_labels_stay_inside_their_chart(devtools: DevTools, tmp_path: Path, lang: str) -> None:
    """The longest labels (a long unit name; "100.0 %  10/10" after a full bar) end inside the box."""
    report = json.loads(FIXTURE.read_text(encoding="utf-8"))
    full = dict(report["units"][0], installed=10, licenses=10, coverage_pct=100.0)
    full["name"] = "Trung tâm Văn hóa, Thể thao và Truyền thông huyện Kon Plông"
    report["units"] = [full, *report["units"][1:]]
    page = render(report, "html", lang=lang)
    assert isinstance(page, str)
    with _served(page) as (url, _):
        session = _open_page(devtools, url)
        texts = _evaluate(devtools, session, CHART_TEXTS)
        _screenshot(
            devtools,
            session,
            Path(os.environ.get("AGENTROLL_SCREENSHOT_DIR") or tmp_path) / f"chart-{lang}.png",
        )
    assert any(text["text"].endswith("10/10") for text in texts)
    outside = [text for text in texts if text["left"] < 0 or text["right"] > text["width"]]
    assert outside == []


def test_each_unit_has_its_section_with_every_pc_and_what_to_do_next(devtools: DevTools) -> None:
    report = json.loads(FIXTURE.read_text(encoding="utf-8"))
    page = render(report, "html", lang="vi")
    assert isinstance(page, str)
    with _served(page) as (url, _):
        session = _open_page(devtools, url)
        sections = _evaluate(
            devtools,
            session,
            """[...document.querySelectorAll('section.unit')].map(section => ({
                id: section.id,
                pcs: [...section.querySelectorAll('tbody tr')].map(row => row.cells[0].innerText),
                next: [...section.querySelectorAll('tbody tr')].map(row => row.cells[6].innerText),
            }))""",
        )
    assert [section["id"] for section in sections] == [f"unit-{unit['code']}" for unit in report["units"]]
    for section in sections:
        code = section["id"].removeprefix("unit-")
        assert section["pcs"] == [host["host"] for host in report["hosts"] if host["unit"] == code]
    steps = {
        pc: step for section in sections for pc, step in zip(section["pcs"], section["next"], strict=True)
    }
    assert steps["tckh-05"] == "Bật máy; nếu máy đang bật thì bật WinRM (hướng dẫn: docs/onboarding.vi.md)"
    assert steps["vp-06"].startswith("Chờ bản quyền")
