"""The page as a reader uses it, in headless Chromium at desktop (1366×900) and phone (390×844) sizes.

Runs Debian's ``chromium`` (scripts/install_browser.sh) through playwright; never downloads a
browser.  The store holds the four seeds plus a few reports posted through the API: a fresh story
with web links, an Arabic report, and a bot-block page that must never become a story.
Set STORYLINES_SCREENSHOTS=docs to also save the main views as PNG files there.  The axe-core
check runs when axe-core is installed (scripts/install_browser.sh puts it in .cache/axe).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import httpx
import pytest

from tests.conftest import API_KEY, XSS_TEXT, XSS_TITLE, copy_store

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(os.environ.get("STORYLINES_AXE", Path(__file__).resolve().parents[1] / ".cache/axe/axe.min.js"))
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SIZES = pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])

FRESH = [  # a story days newer than the seeds: "hot now" must put it first
    {
        "title": "Harbour lighthouse reopens after two-year restoration",
        "text": "The harbour lighthouse in Port Ellery reopened on Friday after a two-year restoration paid "
        "for by the town council. Engineers replaced the lantern and repaired the stone tower, and the "
        "keeper's cottage now holds a small museum about the ships that were wrecked on the reef.",
        "url": "https://www.coastnews.example/2026/11/lighthouse",
        "published": "2026-11-20",
        "lang": "en",
    },
    {
        "title": "Port Ellery lighthouse welcomes first visitors",
        "text": "Hundreds of visitors climbed the restored Port Ellery lighthouse on Saturday, a day after "
        "it reopened. The town council said the two-year restoration of the lantern and the stone tower "
        "came in under budget, and the museum in the keeper's cottage will open every weekend.",
        "url": "https://harbourdaily.example/lighthouse-visitors",
        "published": "2026-11-21",
        "lang": "en",
    },
]
ARABIC = {
    "title": "افتتاح معرض للآثار النبطية في المتحف الوطني",
    "text": "افتتح المتحف الوطني في عمان يوم الثلاثاء معرضا جديدا للآثار النبطية يضم أكثر من مئتي قطعة "
    "أثرية عثر عليها في البتراء خلال السنوات العشر الماضية. وقال مدير المتحف إن المعرض سيستمر ستة أشهر "
    "وإن الدخول مجاني لطلاب المدارس والجامعات طوال فترة المعرض.",
    "url": "https://museum-news.example/nabataean",
    "published": "2026-11-18",
    "lang": "ar",
}
BLOCK_PAGE = {
    "title": "We are sorry",
    "text": "We are sorry, but we recorded a huge amount of connections from the IP address you are "
    "connecting from. We suspect that someone has misused the IP address you are using. If you want to "
    'connect with us, select "I AM NOT A ROBOT". Your IP address: 207.241.233.113',
    "url": "https://blocked.example/story",
}

_get = functools.partial(httpx.get, timeout=300)  # the first search loads the embedding model

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


def _serve(db: Path) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port, in a thread of this process."""
    import uvicorn

    from storylines.serve.app import create_app

    port = _free_loopback_port()
    config = uvicorn.Config(create_app(db, api_key=API_KEY), host="127.0.0.1", port=port, log_level="warning")
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


def _post(server: str, articles: list[dict]) -> dict:
    response = httpx.post(
        f"{server}/api/articles", json={"articles": articles}, headers={"X-API-Key": API_KEY}, timeout=300
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def newsroom(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The seeds plus a fresh story, an Arabic report and a block page, served read-mostly."""
    db = copy_store(sample_db, tmp_path_factory.mktemp("newsroom"))
    for server in _serve(db):
        _post(server, [*FRESH, ARABIC, BLOCK_PAGE])
        yield server


@pytest.fixture
def server(writable_db: Path) -> Iterator[str]:
    yield from _serve(writable_db)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _open(browser, base: str, size: dict, bypass_csp: bool = False):
    """A tab that records dialogs, script errors and any request that leaves the server."""
    context = browser.new_context(viewport=size, bypass_csp=bypass_csp)
    tab = context.new_page()
    tab.dialogs, tab.errors, tab.outside = [], [], []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.on(
        "request", lambda request: None if request.url.startswith(base) else tab.outside.append(request.url)
    )
    return tab


@pytest.fixture
def tab_factory(browser, request) -> Iterator:
    tabs = []

    def make(base: str, size: dict = DESKTOP, bypass_csp: bool = False):
        tabs.append(_open(browser, base, size, bypass_csp))
        return tabs[-1]

    yield make
    for tab in tabs:
        assert tab.outside == [], f"the page loaded something from elsewhere: {tab.outside}"
        assert tab.errors == [], f"script errors: {tab.errors}"
        tab.context.close()


def _seed_id(server: str) -> int:
    items = _get(f"{server}/api/storylines", params={"limit": 100, "sort": "size"}).json()["items"]
    return max(items, key=lambda story: story["article_count"])["id"]


def _until(tab, predicate: str, arg: object = None, timeout: float = 30) -> None:
    """Poll a page expression from here: playwright's in-page polling compiles the predicate with
    eval, which the page's CSP (no 'unsafe-eval') rightly refuses."""
    deadline = time.monotonic() + timeout
    while not tab.evaluate(predicate, arg):
        assert time.monotonic() < deadline, f"timed out waiting for {predicate}"
        time.sleep(0.05)


def _goto(tab, url: str, selector: str = "#view h1") -> None:
    """Open a URL and wait until the page shows it (a new hash re-renders asynchronously)."""
    tab.goto(url)
    _until(tab, "document.getElementById('view').dataset.route === location.hash")
    tab.wait_for_selector(selector)


def _shot(tab, name: str) -> None:
    if folder := os.environ.get("STORYLINES_SCREENSHOTS"):
        tab.screenshot(path=str(Path(folder) / name), full_page=True)


def _fits(tab) -> None:
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= tab.viewport_size["width"], f"page is {width} px wide on a {tab.viewport_size} screen"


# --- 1. search: relevance, an honest empty state, cross-lingual order -----------------------------


@SIZES
def test_search_says_nothing_for_nonsense_and_puts_the_seed_story_first(
    newsroom: str, tab_factory, size
) -> None:
    tab = tab_factory(newsroom, size)
    seed = _seed_id(newsroom)
    _goto(tab, f"{newsroom}/#/search?q=xqzvbnmqq")
    assert tab.inner_text("#view h1").startswith("Nothing found")
    assert tab.locator(".hits li").count() == 0 and "1–" not in tab.inner_text("main")
    assert tab.title().startswith("Nothing found")
    for query in ("普京 叙利亚", "Putin Syria", "Путин Сирия"):
        tab.fill("#search-input", query)
        tab.press("#search-input", "Enter")
        _until(tab, "q => document.title.includes(q)", query)
        first = tab.locator(".hits.storylines li a").first
        assert first.get_attribute("href") == f"#/storyline/{seed}", query
        text = tab.inner_text("main")
        assert "%" in text and "vector" not in text and "keyword" not in text
        assert "lighthouse" not in text.lower()
    assert tab.locator(".hits meter").count() >= 1
    _fits(tab)
    if size is DESKTOP:
        _shot(tab, "search.png")


# --- 2. front page: what matters now, no non-articles ---------------------------------------------


def test_front_page_ranks_recent_volume_and_hides_block_pages(newsroom: str, tab_factory) -> None:
    tab = tab_factory(newsroom)
    _goto(tab, f"{newsroom}/#/", "article.storyline")
    titles = tab.locator("article.storyline h2").all_inner_texts()
    assert "lighthouse" in titles[0].lower(), titles
    assert not any("sorry" in title.lower() for title in titles)
    api_titles = [s["title"] for s in _get(f"{newsroom}/api/storylines").json()["items"]]
    assert "We are sorry" not in api_titles

    tab.select_option("select[name=period]", "day")
    tab.click(".filters button[type=submit]")
    _until(tab, "location.hash.includes('period=day')")
    _until(tab, "document.querySelectorAll('article.storyline').length === 1")
    assert "lighthouse" in tab.inner_text("article.storyline h2").lower()
    tab.reload()
    tab.wait_for_selector("article.storyline")
    assert tab.locator("article.storyline").count() == 1  # the filter lives in the URL
    assert tab.input_value("select[name=period]") == "day"

    _goto(tab, f"{newsroom}/#/?sort=size", "article.storyline")
    assert tab.locator("article.storyline").first.get_attribute("data-id") == str(_seed_id(newsroom))
    _goto(tab, f"{newsroom}/#/", "article.storyline")
    _shot(tab, "front-page.png")


# --- 3. time: readable dates, a time axis -------------------------------------------------------


@SIZES
def test_dates_are_readable_and_the_chart_has_a_time_axis(newsroom: str, tab_factory, size) -> None:
    tab = tab_factory(newsroom, size)
    _goto(tab, f"{newsroom}/#/storyline/{_seed_id(newsroom)}", ".timeline li")
    text = tab.inner_text("main")
    assert not re.search(r"--\d\d-\d\d|\d{4}-\d\d-\d\d", text), "raw ISO dates on the page"
    assert re.search(r"\b20\d\d\b", text), "no year shown anywhere"
    days = tab.locator(".timeline li time").all_inner_texts()
    assert days and all(day for day in days)
    chart = tab.locator("main svg.chart").first
    assert chart.locator("line").count() == 1 and chart.locator("text").count() >= 2
    _fits(tab)
    _shot(tab, "storyline.png" if size is DESKTOP else "storyline-phone.png")


# --- 4. who and where: typed, clickable, any script -----------------------------------------------


def test_entity_chips_are_typed_links_and_filters_take_any_script(newsroom: str, tab_factory) -> None:
    tab = tab_factory(newsroom)
    seed = _seed_id(newsroom)
    _goto(tab, f"{newsroom}/#/storyline/{seed}", ".chips a")
    kinds = {kind.lower() for kind in tab.locator(".chips .kind").all_inner_texts()}
    assert kinds & {"person", "organisation", "place"}
    tab.locator(".chip.person a").first.click()
    _until(tab, "location.hash.includes('entity=')")
    tab.wait_for_selector(f"article.storyline[data-id='{seed}']")
    for query in ("entity=Путин", "entity=普京", "entity=putin", "place=Сирия", "place=Syria", "lang=BG"):
        _goto(tab, f"{newsroom}/#/?{query}", "#view h1")
        tab.wait_for_selector(f"article.storyline[data-id='{seed}']", timeout=5000)


# --- 5, 6, 10. outlets, titles, the article view --------------------------------------------------


def test_article_view_shows_outlet_removed_lines_dates_and_flags(newsroom: str, tab_factory) -> None:
    tab = tab_factory(newsroom)
    seed = _seed_id(newsroom)
    _goto(tab, f"{newsroom}/#/storyline/{seed}", "section.language-group")
    assert ".txt:" not in tab.inner_text("main")
    bulgarian = tab.locator("section.language-group[data-lang=bg] a.article-title").first
    assert bulgarian.get_attribute("lang") == "bg"
    bulgarian.click()
    _until(tab, "location.hash.startsWith('#/article/')")
    tab.wait_for_selector(".text .body del")
    assert tab.evaluate("document.activeElement.tagName") == "H1"
    assert "Путин" in tab.inner_text(".text .body:not(.original)")
    assert tab.locator(".text .body.original del").count() >= 1
    assert "Dates in the text" in tab.inner_text("main")
    permalink = tab.url
    _shot(tab, "article.png")

    fresh = tab_factory(newsroom)
    _goto(fresh, permalink, ".text .body")  # a permalink opens straight on the article
    assert fresh.title().endswith("· storylines") and fresh.title() != "storylines"

    stories = _get(f"{newsroom}/api/storylines", params={"sort": "size"}).json()["items"]
    lighthouse = next(s for s in stories if "lighthouse" in s["title"].lower())
    _goto(tab, f"{newsroom}/#/storyline/{lighthouse['id']}", ".article")
    meta = tab.inner_text("section.language-group")
    assert "coastnews.example" in meta and "harbourdaily.example" in meta
    assert tab.locator("a[href='https://www.coastnews.example/2026/11/lighthouse']").count() == 1

    hits = _get(f"{newsroom}/api/search", params={"q": "sorry recorded connections robot"}).json()
    assert hits["articles"]["total"] == 0  # a block page is never a hit
    blocked = _post(newsroom, [BLOCK_PAGE])["already_stored"][0]
    _goto(tab, f"{newsroom}/#/article/{blocked}", ".warning")
    assert "block page" in tab.inner_text(".warning")


# --- 7. state in the URL, titles, unknown routes, scroll --------------------------------------------


def test_state_lives_in_the_url_and_unknown_routes_say_so(newsroom: str, tab_factory) -> None:
    tab = tab_factory(newsroom)
    _goto(tab, f"{newsroom}/#/nowhere/at/all")
    assert tab.inner_text("#view h1") == "Not found"
    tab.click("#view a[href='#/']")
    tab.wait_for_selector("article.storyline")
    assert tab.title().startswith("Storylines")
    tab.set_viewport_size({"width": 1366, "height": 300})
    tab.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    tab.locator("article.storyline h2 a").last.click()
    tab.wait_for_selector(".timeline")
    assert tab.evaluate("window.scrollY") == 0
    assert tab.title() != "storylines" and tab.title().endswith("· storylines")
    _goto(tab, f"{newsroom}/#/storyline/999999")
    assert tab.inner_text("#view h1") == "Not found" and tab.locator("#view a[href='#/']").count() == 1


# --- 8. phone: nothing wider than the screen --------------------------------------------------------


def _route(server: str, route: str) -> str:
    """A route by name: "storyline" and "article" stand for the seed storyline and its first article."""
    seed = _seed_id(server)
    if route == "storyline":
        return f"#/storyline/{seed}"
    if route == "article":
        first = _get(f"{server}/api/storylines/{seed}/articles").json()["items"][0]["id"]
        return f"#/article/{first}"
    return route


@pytest.mark.parametrize("route", ["#/", "#/search?q=Putin", "storyline", "article"])
def test_phone_layout_fits_the_screen(newsroom: str, tab_factory, route: str) -> None:
    tab = tab_factory(newsroom, PHONE)
    _goto(tab, f"{newsroom}/{_route(newsroom, route)}")
    _fits(tab)
    box = tab.locator("#search-form button").bounding_box()
    assert box and box["x"] + box["width"] <= PHONE["width"], "Search button cut off"
    if route == "#/":
        _shot(tab, "front-page-phone.png")


# --- 9. foreign text, focus, live region, contrast, plurals -----------------------------------------


def _luminance(rgb: str) -> float:
    channels = [int(v) / 255 for v in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_foreign_text_is_marked_up_and_the_page_is_accessible(newsroom: str, tab_factory) -> None:
    tab = tab_factory(newsroom)
    _goto(tab, f"{newsroom}/#/?sort=size", "article.storyline")
    arabic = tab.locator("article.storyline h2 a[lang=ar]")
    assert arabic.count() == 1 and arabic.get_attribute("dir") == "rtl"
    assert tab.get_attribute("main", "aria-live") is None
    assert tab.get_attribute("#live", "role") == "status"
    border = tab.evaluate("getComputedStyle(document.getElementById('search-input')).borderTopColor")
    contrast = (1.05) / (_luminance(border) + 0.05)
    assert contrast >= 3, f"input border contrast {contrast:.2f}:1"
    _until(tab, "document.getElementById('live').textContent.includes('storyline')")
    assert not re.search(r"\b1 (articles|outlets|events|storylines)\b", tab.inner_text("body"))


@pytest.mark.skipif(not AXE.exists(), reason="axe-core not installed (scripts/install_browser.sh)")
@pytest.mark.parametrize("route", ["#/", "#/search?q=Putin%20Syria", "storyline", "article"])
def test_axe_finds_no_serious_violations(newsroom: str, tab_factory, route: str) -> None:
    tab = tab_factory(newsroom, DESKTOP, bypass_csp=True)  # axe is injected as a script
    _goto(tab, f"{newsroom}/{_route(newsroom, route)}")
    tab.add_script_tag(path=str(AXE))
    result = tab.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [
        (v["id"], v["impact"], len(v["nodes"]))
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], serious


# --- follow a story: Atom feeds ---------------------------------------------------------------------


def test_atom_feeds_for_the_front_page_a_storyline_and_a_search(newsroom: str) -> None:
    seed = _seed_id(newsroom)
    front = _get(f"{newsroom}/feeds/storylines.atom")
    assert front.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(front.content)
    assert not feed.bozo and "lighthouse" in feed.entries[0].title.lower()
    assert all("sorry" not in entry.title.lower() for entry in feed.entries)
    story = feedparser.parse(_get(f"{newsroom}/feeds/storylines/{seed}.atom").content)
    assert len(story.entries) == 4 and story.feed.title
    found = feedparser.parse(_get(f"{newsroom}/feeds/search.atom", params={"q": "Putin Syria"}).content)
    assert found.entries and not found.bozo
    nothing = feedparser.parse(_get(f"{newsroom}/feeds/search.atom", params={"q": "xqzvbnmqq"}).content)
    assert nothing.entries == [] and not nothing.bozo
    assert _get(f"{newsroom}/feeds/storylines/999999.atom").status_code == 404


# --- live refresh keeps the reader's place; hostile input stays text --------------------------------


def test_live_refresh_keeps_filters_and_shows_hostile_article_as_text(server: str, tab_factory) -> None:
    tab = tab_factory(server)
    _goto(tab, f"{server}/#/?sort=recent", "article.storyline")
    _until(tab, "document.getElementById('live').textContent.includes('article')")
    _post(
        server,
        [{"title": XSS_TITLE, "text": XSS_TEXT, "source": "hostile.test", "url": "javascript:alert(1)"}],
    )

    card = tab.locator("article.storyline h2 a", has_text="<script>")
    card.wait_for(timeout=20_000)  # the page polls every 5 s and re-renders by itself
    assert tab.evaluate("location.hash") == "#/?sort=recent"
    assert card.inner_text() == XSS_TITLE
    card.click()
    tab.locator("a.article-title", has_text="<script>").click()
    tab.wait_for_selector(".text .body")
    assert XSS_TEXT in tab.inner_text(".text .body:not(.original)")
    assert tab.locator("main a[href^='javascript']").count() == 0

    tab.fill("#search-input", "bakery rye bread grandmother")
    tab.press("#search-input", "Enter")
    tab.locator(".hits.articles li", has_text="<script>").wait_for()
    assert tab.evaluate("window.__pwned") is None
    assert tab.locator("main img, main script").count() == 0
    assert tab.dialogs == []


def test_api_docs_render_from_local_assets(server: str, tab_factory) -> None:
    """/docs once stayed blank: the CSP blocked Swagger UI's CDN script.  Now its assets are bundled
    and the page's own CSP allows its one inline script (the factory fails on outside requests)."""
    tab = tab_factory(server)
    console: list[str] = []
    tab.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    tab.goto(f"{server}/docs")
    tab.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert tab.locator(".swagger-ui .opblock").count() >= 9
    assert not [error for error in console if "Content Security Policy" in error], console
