"""End to end in headless Chromium: list, Bulgarian search, storyline page, live refresh, escaping.

Runs Debian's ``chromium`` (scripts/install_browser.sh) through playwright; never downloads a
browser.  Set STORYLINES_SCREENSHOT=docs/storyline.png to also save the seed storyline's page.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import API_KEY, XSS_TEXT, XSS_TITLE

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="chromium not installed (scripts/install_browser.sh)"
    ),
]


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(writable_db: Path) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port, in a thread of this process."""
    import uvicorn

    from storylines.serve.app import create_app

    port = _free_loopback_port()
    config = uvicorn.Config(
        create_app(writable_db, api_key=API_KEY), host="127.0.0.1", port=port, log_level="warning"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert instance.started, "server did not start"
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(server: str) -> Iterator:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1200, "height": 900})
        tab.dialogs = []
        tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
        outside = []
        tab.on(
            "request", lambda request: None if request.url.startswith(server) else outside.append(request.url)
        )
        yield tab
        browser.close()
        assert outside == [], f"the page loaded something from elsewhere: {outside}"


def test_browse_search_and_open_the_seed_story(server: str, page) -> None:
    page.goto(server)
    page.wait_for_selector("article.storyline")
    assert "Putin" in page.inner_text("main")

    page.fill("#search-input", "Путин Обама Сирия")
    page.press("#search-input", "Enter")
    page.wait_for_selector(".hits.articles li")
    assert page.locator(".hits.articles li", has_text=" en ").count() >= 1, (
        "no English report for a Bulgarian query"
    )
    page.locator(".hits.storylines li a").first.click()

    page.wait_for_selector("section.language-group")
    languages = page.eval_on_selector_all("section.language-group", "nodes => nodes.map(n => n.dataset.lang)")
    assert {"en", "bg"} <= set(languages)
    assert page.locator(".timeline li").count() >= 1
    page.locator("section.language-group[data-lang=bg] details.article summary").first.click()
    page.wait_for_selector("section.language-group[data-lang=bg] .text pre")
    assert "Путин" in page.inner_text("section.language-group[data-lang=bg] .article-body")
    if target := os.environ.get("STORYLINES_SCREENSHOT"):
        page.locator("section.language-group[data-lang=bg] details.article summary").first.click()
        page.screenshot(path=target, full_page=True)


def test_live_refresh_shows_hostile_article_as_text(server: str, page) -> None:
    page.goto(server)
    page.wait_for_selector("article.storyline")
    page.wait_for_function("document.getElementById('live').textContent.includes('articles')")

    batch = {
        "articles": [
            {"title": XSS_TITLE, "text": XSS_TEXT, "source": "hostile.test", "url": "javascript:alert(1)"}
        ]
    }
    response = httpx.post(f"{server}/api/articles", json=batch, headers={"X-API-Key": API_KEY}, timeout=120)
    assert response.status_code == 200, response.text

    card = page.locator("article.storyline h2 a", has_text="<script>")
    card.wait_for(timeout=20_000)  # the page polls every 5 s and re-renders by itself
    assert card.inner_text() == XSS_TITLE
    card.click()
    hostile = page.locator("details.article", has_text="<script>")
    hostile.locator("summary").click()
    hostile.locator(".article-body pre").first.wait_for()
    assert XSS_TEXT in hostile.locator(".article-body").inner_text()
    assert page.locator("details.article a[href^='javascript']").count() == 0

    page.fill("#search-input", "bakery pwned")
    page.press("#search-input", "Enter")
    page.locator(".hits.articles li", has_text="<script>").wait_for()
    assert page.evaluate("window.__pwned") is None
    assert page.locator("main img, main script").count() == 0
    assert page.dialogs == []


def test_api_docs_render_from_local_assets(server: str, page) -> None:
    """/docs once stayed blank: the CSP blocked Swagger UI's CDN script.  Now its assets are bundled
    and the page's own CSP allows its one inline script (the fixture fails on outside requests)."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{server}/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert page.locator(".swagger-ui .opblock").count() >= 9
    assert not [error for error in errors if "Content Security Policy" in error], errors
