// The storylines web page: plain DOM, no framework, nothing loaded from elsewhere.
// Every piece of article data is untrusted: it only ever reaches the page through text nodes
// (el() below) or setAttribute on non-script attributes, never through an HTML parser.
// All state a reader can share lives in the URL hash: #/?period=week&page=2, #/storyline/7,
// #/article/<id>, #/search?q=…
"use strict";

const PAGE_SIZE = 20;
const POLL_MS = 5000;
const SVG_NS = "http://www.w3.org/2000/svg";
const READER_LANG = (navigator.language || "en").slice(0, 2).toLowerCase();
const PAGE_LANG = document.documentElement.lang || "en";
const RTL = new Set(["ar", "fa", "he", "ur", "yi", "ps", "sd", "ug", "dv"]);
const ENTITY_KIND = { person: "person", org: "organisation", place: "place" };
const FILTERS = ["lang", "entity", "place", "since", "until", "period", "sort"];
let shownVersion = null;
let shownStory = null; // {id, article_count} of the storyline on screen, to refresh only on its change

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function foreign(tag, lang, attrs, ...children) {
  // Text in an article's language: marked up so that screen readers, fonts and hyphenation follow
  // it, and isolated so that an Arabic title never pulls the counts next to it into its run.
  const code = lang && lang !== "und" ? lang : null;
  return el(tag, { ...attrs, lang: code, dir: code && RTL.has(code) ? "rtl" : "auto" }, ...children);
}

function safeUrl(url) {
  // Only web links are clickable: a javascript: or data: URL from a feed must never run.
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

function plural(count, one, many) {
  return `${count.toLocaleString(PAGE_LANG)} ${count === 1 ? one : many || `${one}s`}`;
}

async function api(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== "" && value !== null && value !== undefined) query.set(key, value);
  }
  const qs = query.toString();
  const response = await fetch(qs ? `${path}?${qs}` : path, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    const error = new Error(typeof body.detail === "string" ? body.detail : `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

// --- dates: ISO days ("2022-04-15") and year-less ones ("--04-15"), written as people read them ---

const fullDay = new Intl.DateTimeFormat(PAGE_LANG, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
const monthDay = new Intl.DateTimeFormat(PAGE_LANG, { day: "numeric", month: "short", timeZone: "UTC" });

function parseDay(value) {
  const match = /^(\d{4}|-)-(\d{2})-(\d{2})/.exec(value || "");
  if (!match) return null;
  const year = match[1] === "-" ? null : Number(match[1]);
  return { year, date: new Date(Date.UTC(year ?? 2000, Number(match[2]) - 1, Number(match[3]))) };
}

function readableDay(value) {
  const day = parseDay(value);
  if (!day) return "date unknown";
  return day.year === null ? `${monthDay.format(day.date)} (year unknown)` : fullDay.format(day.date);
}

function dateSpan(start, end) {
  if (!start) return el("span", { class: "undated" }, "date unknown");
  const first = el("time", { datetime: start.startsWith("--") ? null : start }, readableDay(start));
  if (!end || end === start) return first;
  return el("span", {}, first, " – ", el("time", { datetime: end.startsWith("--") ? null : end }, readableDay(end)));
}

// --- volume chart: bars placed by date on a time axis, with the first and last day labelled ---

function volumeChart(points, width = 320, height = 64) {
  const dated = points.map((p) => ({ ...p, at: parseDay(p.day) })).filter((p) => p.at && p.at.year !== null);
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("aria-label", dated.length
    ? `Articles per day: ${dated.map((p) => `${readableDay(p.day)} ${p.count}`).join(", ")}`
    : "No dated articles");
  if (!dated.length) return svg;
  const axis = 14;
  const first = dated[0].at.date.getTime();
  const last = dated[dated.length - 1].at.date.getTime();
  const days = Math.max(1, Math.round((last - first) / 864e5) + 1);
  const slot = width / days;
  const barWidth = Math.max(2, Math.min(24, slot - 1));
  const peak = Math.max(...dated.map((p) => p.count));
  for (const point of dated) {
    const index = Math.round((point.at.date.getTime() - first) / 864e5);
    const barHeight = Math.max(2, (point.count / peak) * (height - axis - 10));
    const bar = document.createElementNS(SVG_NS, "rect");
    bar.setAttribute("x", Math.min(width - barWidth, index * slot + (slot - barWidth) / 2).toFixed(1));
    bar.setAttribute("y", (height - axis - barHeight).toFixed(1));
    bar.setAttribute("width", barWidth.toFixed(1));
    bar.setAttribute("height", barHeight.toFixed(1));
    svg.append(bar);
  }
  const line = document.createElementNS(SVG_NS, "line");
  for (const [name, value] of [["x1", 0], ["x2", width], ["y1", height - axis], ["y2", height - axis]]) {
    line.setAttribute(name, value);
  }
  svg.append(line);
  const labels = [[0, "start", dated[0].day], [width, "end", dated[dated.length - 1].day]];
  if (dated.length === 1) labels.pop();
  for (const [x, anchor, day] of labels) {
    const text = document.createElementNS(SVG_NS, "text");
    text.setAttribute("x", x);
    text.setAttribute("y", height - 2);
    text.setAttribute("text-anchor", anchor);
    text.textContent = readableDay(day);
    svg.append(text);
  }
  const peakLabel = document.createElementNS(SVG_NS, "text");
  peakLabel.setAttribute("x", 0);
  peakLabel.setAttribute("y", 9);
  peakLabel.textContent = `max ${peak}/day`;
  svg.append(peakLabel);
  return svg;
}

// --- links and chips ---

function listHash(params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const qs = query.toString();
  return qs ? `#/?${qs}` : "#/";
}

function chips(entities, label) {
  // Each chip filters the front page by the entity's id, so any script or inflection finds it.
  return el("ul", { class: "chips", "aria-label": label }, entities.map((entity) => {
    const kind = ENTITY_KIND[entity.type] || entity.type;
    const filter = entity.type === "place" ? { place: entity.id } : { entity: entity.id };
    return el("li", { class: `chip ${entity.type}` },
      el("a", { href: listHash(filter), title: `Storylines about ${entity.name} (${kind})` },
        el("span", { class: "kind" }, kind), " ", el("bdi", {}, entity.name),
        entity.count > 1 ? el("small", {}, ` ${entity.count}`) : null));
  }));
}

function langBadges(languages) {
  return el("span", { class: "langs" }, languages.map((lang) =>
    el("abbr", { class: "lang", title: languageName(lang) }, lang)));
}

function languageName(code) {
  try {
    return new Intl.DisplayNames([PAGE_LANG], { type: "language" }).of(code) || code;
  } catch {
    return code;
  }
}

function storylineLink(story) {
  return foreign("a", story.title_lang, { href: `#/storyline/${encodeURIComponent(story.id)}` },
    story.title || "(untitled)");
}

function pager(page, hrefFor) {
  const last = Math.min(page.offset + page.limit, page.total);
  const nav = el("nav", { class: "pager", "aria-label": "Pages" },
    el("span", {}, page.total ? `${page.offset + 1}–${last} of ${page.total}` : ""));
  const current = Math.floor(page.offset / page.limit) + 1;
  if (page.offset > 0) nav.prepend(el("a", { href: hrefFor(current - 1), rel: "prev" }, "← previous"));
  if (last < page.total) nav.append(el("a", { href: hrefFor(current + 1), rel: "next" }, "next →"));
  return nav;
}

function pageParam(params) {
  return Math.max(1, Number.parseInt(params.get("page") || "1", 10) || 1);
}

function feedLink(href, text) {
  return el("a", { class: "feed", href, type: "application/atom+xml" }, text);
}

// --- front page ---

function storylineCard(story) {
  return el("article", { class: "card storyline", "data-id": story.id },
    el("h2", {}, storylineLink(story)),
    el("p", { class: "meta" }, langBadges(story.languages), " ",
      el("span", {}, `${plural(story.article_count, "article")} · ${plural(story.source_count, "outlet")} · `
        + `${plural(story.event_count, "event")} · `), dateSpan(story.start, story.end)),
    volumeChart(story.volume),
    chips([...story.top_entities.slice(0, 5), ...story.places.slice(0, 3)], "Who and where"));
}

function filterForm(params) {
  const form = el("form", { class: "filters", "aria-label": "Filter storylines" });
  const periods = [["", "any time"], ["day", "latest day"], ["week", "last 7 days"], ["month", "last 30 days"]];
  const sorts = [["hot", "hot now"], ["size", "most articles"], ["recent", "newest"]];
  const select = (name, label, options) => el("label", {}, `${label} `,
    el("select", { name }, options.map(([value, text]) =>
      el("option", { value, selected: (params.get(name) || options[0][0]) === value ? "" : null }, text))));
  form.append(select("period", "when", periods), select("sort", "order", sorts));
  for (const [name, label, type] of [["entity", "who", "text"], ["place", "where", "text"],
    ["lang", "language", "text"], ["since", "from", "date"], ["until", "to", "date"]]) {
    form.append(el("label", {}, `${label} `, el("input", { name, type, value: params.get(name) || "" })));
  }
  form.append(el("button", { type: "submit" }, "Filter"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = {};
    for (const name of FILTERS) next[name] = form.elements[name].value.trim();
    if (next.sort === "hot") delete next.sort;
    location.hash = listHash(next);
  });
  return form;
}

async function showList(params) {
  const filters = Object.fromEntries(FILTERS.map((name) => [name, params.get(name) || ""]));
  const number = pageParam(params);
  const page = await api("/api/storylines",
    { ...filters, hl: READER_LANG, limit: PAGE_SIZE, offset: (number - 1) * PAGE_SIZE });
  const active = FILTERS.filter((name) => filters[name]);
  const heading = active.length ? "Storylines, filtered" : "Storylines: what matters now";
  render(heading,
    el("h1", { tabindex: "-1" }, heading),
    el("p", { class: "meta" }, "Ranked by articles, recent days counting most. ",
      feedLink(`/feeds/storylines.atom${location.hash.includes("?") ? `?${location.hash.split("?")[1]}` : ""}`,
        "Follow these storylines (Atom feed)")),
    filterForm(params),
    page.items.length ? page.items.map(storylineCard)
      : el("p", { class: "empty" }, "No storyline matches these filters. ", el("a", { href: "#/" }, "Show all")),
    pager(page, (n) => listHash({ ...filters, page: n > 1 ? n : "" })));
}

// --- one storyline ---

function eventTimeline(events) {
  return el("ol", { class: "timeline" }, events.map((event) =>
    el("li", { "data-event": event.id },
      dateSpan(event.start, event.end),
      foreign("strong", null, {}, event.title || "(untitled event)"),
      el("span", { class: "meta" }, " ", langBadges(event.languages), ` ${plural(event.article_count, "article")}`))));
}

function articleLine(article) {
  const link = safeUrl(article.url);
  return el("li", { class: "article", "data-id": article.id },
    foreign("a", article.lang, { class: "article-title", href: `#/article/${encodeURIComponent(article.id)}` },
      article.title || "(untitled)"),
    el("span", { class: "meta" }, " ", article.page_languages.length > 1 ? langBadges(article.page_languages) : null,
      el("bdi", {}, article.outlet || article.source), " · ",
      readableDay(article.published || article.day),
      article.duplicate_of ? " · near-duplicate" : "",
      link ? [" · ", el("a", { href: link, rel: "noopener noreferrer nofollow", target: "_blank" }, "original")] : null));
}

function articlesByLanguage(articles) {
  // A page in two languages (an original and its translation) is listed under each of them.
  const groups = new Map();
  for (const article of articles) {
    for (const lang of article.page_languages.length ? article.page_languages : ["unknown"]) {
      if (!groups.has(lang)) groups.set(lang, []);
      groups.get(lang).push(article);
    }
  }
  return [...groups.entries()].map(([lang, items]) =>
    el("section", { class: "language-group", "data-lang": lang },
      el("h3", {}, `${languageName(lang)} (${items.length})`), el("ul", { class: "articles" }, items.map(articleLine))));
}

async function showStoryline(id, params) {
  const number = pageParam(params);
  const [story, page] = await Promise.all([
    api(`/api/storylines/${encodeURIComponent(id)}`, { hl: READER_LANG }),
    api(`/api/storylines/${encodeURIComponent(id)}/articles`, { limit: 100, offset: (number - 1) * 100 }),
  ]);
  shownStory = { id: story.id, article_count: story.article_count };
  render(story.title || "(untitled)",
    el("p", {}, el("a", { href: "#/" }, "← all storylines")),
    foreign("h1", story.title_lang, { class: "storyline-title", tabindex: "-1" }, story.title || "(untitled)"),
    el("p", { class: "meta" }, langBadges(story.languages), " ",
      `${plural(story.article_count, "article")} · ${plural(story.source_count, "outlet")} · `,
      dateSpan(story.start, story.end), " · ",
      feedLink(`/feeds/storylines/${encodeURIComponent(story.id)}.atom`, "Follow this story (Atom feed)")),
    volumeChart(story.volume, 640, 80),
    el("div", { class: "columns" },
      el("section", {}, el("h2", {}, "Timeline"), eventTimeline(story.events)),
      el("section", {}, el("h2", {}, "Who"), chips(story.entities, "Who"),
        el("h2", {}, "Where"), chips(story.places, "Where"))),
    el("h2", {}, "Articles by language"),
    articlesByLanguage(page.items),
    pager({ ...page, limit: 100 }, (n) => `#/storyline/${encodeURIComponent(id)}${n > 1 ? `?page=${n}` : ""}`));
}

// --- one article: what cleaning kept and removed, languages, dates and their evidence ---

function languageRuns(text, spans) {
  // The clean text with each detected language run marked up in its language.
  if (!spans.length) return [text];
  const parts = [];
  let at = 0;
  for (const span of spans) {
    if (span.start > at) parts.push(text.slice(at, span.start));
    parts.push(foreign("span", span.lang, { class: "run", title: languageName(span.lang) },
      text.slice(Math.max(at, span.start), span.end)));
    at = Math.max(at, span.end);
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}

function originalWithRemovals(raw, removed) {
  // The original, line by line, with what cleaning dropped struck through: a reader sees exactly
  // which menus, widgets and headline lists went.
  const dropped = new Set(removed.map((line) => line.trim()));
  return raw.split("\n").map((line) => dropped.has(line.trim()) && line.trim()
    ? el("del", { title: "removed by cleaning" }, line, "\n")
    : document.createTextNode(`${line}\n`));
}

async function showArticle(id) {
  const article = await api(`/api/articles/${encodeURIComponent(id)}`);
  const link = safeUrl(article.url);
  render(article.title || "(untitled article)",
    el("p", {}, article.storyline_id !== null
      ? el("a", { href: `#/storyline/${encodeURIComponent(article.storyline_id)}` }, "← its storyline")
      : el("a", { href: "#/" }, "← all storylines")),
    foreign("h1", article.lang, { tabindex: "-1" }, article.title || "(untitled article)"),
    article.not_article ? el("p", { class: "warning", role: "note" }, `Not a news report: ${article.not_article}`) : null,
    el("p", { class: "meta" }, langBadges(article.languages.length
      ? [...new Set(article.languages.map((s) => s.lang))] : [article.lang || "und"]), " ",
      el("bdi", {}, article.outlet), " · published ", readableDay(article.published),
      article.published_source ? ` (from ${article.published_source})` : "",
      link ? [" · ", el("a", { href: link, rel: "noopener noreferrer nofollow", target: "_blank" }, "original page")] : null),
    el("h2", {}, "Who and where"), chips(article.entities, "Who and where"),
    el("h2", {}, "Dates in the text"),
    article.event_dates.length
      ? el("ul", { class: "dates" }, article.event_dates.map((d) =>
        el("li", {}, el("strong", {}, readableDay(d.date)), " ← ", foreign("q", article.lang, {}, d.text),
          el("span", { class: "meta" }, ` (${d.source})`))))
      : el("p", { class: "meta" }, "No dates found in the text."),
    el("div", { class: "columns texts" },
      el("section", { class: "text" }, el("h2", {}, "Clean text"),
        foreign("div", article.lang, { class: "body", tabindex: "0" }, languageRuns(article.text, article.languages))),
      el("section", { class: "text" },
        el("h2", {}, `Original, ${plural(article.removed.length, "line")} removed by cleaning`),
        el("p", { class: "meta" }, "Struck-through lines are menus, headline lists and widgets: "
          + "short lines that end no sentence, and everything after the last sentence of the body."),
        foreign("div", article.lang, { class: "body original", tabindex: "0" }, originalWithRemovals(article.raw_text, article.removed)))));
}

// --- search ---

const MATCHED_BY = { keyword: "words match", vector: "similar meaning" };

function searchResult(hit) {
  const target = hit.kind === "storyline"
    ? storylineLink({ id: hit.storyline_id, title: hit.title, title_lang: null })
    : foreign("a", hit.lang, { href: `#/article/${encodeURIComponent(hit.id)}` }, hit.title || "(untitled)");
  return el("li", { class: `hit ${hit.kind}` },
    el("meter", { min: 0, max: 1, value: hit.relevance, "aria-label": `relevance ${Math.round(hit.relevance * 100)} %` }),
    " ", target,
    el("span", { class: "meta" }, hit.lang ? [" ", langBadges([hit.lang])] : null,
      ` ${Math.round(hit.relevance * 100)} % · ${hit.matched_by.map((m) => MATCHED_BY[m]).join(" and ")}`),
    hit.snippet ? foreign("p", hit.kind === "article" ? hit.lang : null, { class: "snippet" }, hit.snippet) : null);
}

async function showSearch(params) {
  const query = params.get("q") || "";
  const number = pageParam(params);
  document.getElementById("search-input").value = query;
  const result = await api("/api/search", { q: query, limit: PAGE_SIZE, offset: (number - 1) * PAGE_SIZE });
  const follow = feedLink(`/feeds/search.atom?${new URLSearchParams({ q: query })}`, "Follow this search (Atom feed)");
  if (!result.articles.total) {
    render(`Nothing found: ${query}`,
      el("h1", { tabindex: "-1" }, "Nothing found for ", el("q", {}, el("bdi", {}, query))),
      el("p", { class: "empty" }, "No article is close enough to these words in any language. "
        + "Try other words, a name, or fewer words."), el("p", {}, follow));
    return;
  }
  render(`Search: ${query}`,
    el("h1", { tabindex: "-1" }, "Search: ", el("q", {}, el("bdi", {}, query))),
    el("p", { class: "meta" }, follow),
    el("h2", {}, "Storylines"),
    el("ul", { class: "hits storylines" }, result.storylines.map(searchResult)),
    el("h2", {}, `Articles (${result.articles.total})`),
    el("ul", { class: "hits articles" }, result.articles.items.map(searchResult)),
    pager(result.articles, (n) => `#/search?${new URLSearchParams({ q: query, ...(n > 1 ? { page: n } : {}) })}`));
}

// --- routing, rendering, live refresh ---

function render(title, ...nodes) {
  document.title = `${title} · storylines`;
  const view = document.getElementById("view");
  view.replaceChildren(...nodes.flat().filter(Boolean));
  view.dataset.route = location.hash; // which URL is on screen (tests wait for it)
}

function notFound(message) {
  render("Not found",
    el("h1", { tabindex: "-1" }, "Not found"),
    el("p", { class: "error" }, message),
    el("p", {}, el("a", { href: "#/" }, "← all storylines")));
}

async function route(byReader = true) {
  shownStory = null;
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, queryString] = hash.split("?");
  const params = new URLSearchParams(queryString || "");
  try {
    const storyMatch = path.match(/^\/storyline\/(\d+)$/);
    const articleMatch = path.match(/^\/article\/([0-9a-f]{1,64})$/);
    if (storyMatch) await showStoryline(decodeURIComponent(storyMatch[1]), params);
    else if (articleMatch) await showArticle(articleMatch[1]);
    else if (path === "/search") await showSearch(params);
    else if (path === "/") await showList(params);
    else notFound(`There is no page at ${hash}.`);
  } catch (error) {
    if (error.status === 404) notFound(error.message);
    else render("Error", el("h1", { tabindex: "-1" }, "Could not load this page"),
      el("p", { class: "error" }, error.message), el("p", {}, el("a", { href: "#/" }, "← all storylines")));
  }
  if (byReader) {
    window.scrollTo(0, 0);
    document.querySelector("#view h1")?.focus({ preventScroll: true });
  }
}

async function viewChanged() {
  // Re-rendering a storyline would lose the reader's place: only do it when it grew.
  if (!shownStory) return true;
  const story = await api(`/api/storylines/${encodeURIComponent(shownStory.id)}`).catch(() => null);
  return !story || story.article_count !== shownStory.article_count;
}

async function poll() {
  try {
    const state = await api("/api/updated");
    const live = document.getElementById("live");
    live.textContent = `${plural(state.articles, "article")} · ${plural(state.storylines, "storyline")}`;
    const onArticle = location.hash.startsWith("#/article/");
    if (shownVersion !== null && state.version !== shownVersion && !onArticle && (await viewChanged())) {
      live.textContent += " · updated";
      const scroll = window.scrollY;
      await route(false); // the same URL: same filters and page, the reader stays where they were
      window.scrollTo(0, scroll);
    }
    shownVersion = state.version;
  } catch {
    document.getElementById("live").textContent = "offline";
  }
}

document.getElementById("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const query = document.getElementById("search-input").value.trim();
  if (query) location.hash = `#/search?${new URLSearchParams({ q: query })}`;
});
window.addEventListener("hashchange", () => route());
route(false);
poll();
setInterval(poll, POLL_MS);
