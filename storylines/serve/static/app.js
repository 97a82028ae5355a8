// The storylines web page: plain DOM, no framework, nothing loaded from elsewhere.
// Every piece of article data is untrusted: it only ever reaches the page through text nodes
// (el() below) or setAttribute on non-script attributes, never through an HTML parser.
"use strict";

const PAGE_SIZE = 20;
const POLL_MS = 5000;
const SVG_NS = "http://www.w3.org/2000/svg";
let shownVersion = null;
let shownStory = null; // {id, article_count} of the storyline on screen, to refresh only on its change

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
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

async function api(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== "" && value !== null && value !== undefined) query.set(key, value);
  }
  const qs = query.toString();
  const response = await fetch(qs ? `${path}?${qs}` : path, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(typeof body.detail === "string" ? body.detail : `HTTP ${response.status}`);
  }
  return response.json();
}

function span(start, end) {
  if (!start) return "date unknown";
  return start === end || !end ? start : `${start} – ${end}`;
}

function volumeChart(points, width = 220, height = 40) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  const title = document.createElementNS(SVG_NS, "title");
  title.textContent = points.map((p) => `${p.day}: ${p.count}`).join(", ") || "no dated articles";
  svg.append(title);
  if (!points.length) return svg;
  const peak = Math.max(...points.map((p) => p.count));
  const barWidth = Math.max(2, Math.min(24, width / points.length - 2));
  const step = points.length > 1 ? (width - barWidth) / (points.length - 1) : 0;
  points.forEach((point, i) => {
    const barHeight = Math.max(2, (point.count / peak) * (height - 2));
    const bar = document.createElementNS(SVG_NS, "rect");
    bar.setAttribute("x", (i * step).toFixed(1));
    bar.setAttribute("y", (height - barHeight).toFixed(1));
    bar.setAttribute("width", barWidth.toFixed(1));
    bar.setAttribute("height", barHeight.toFixed(1));
    svg.append(bar);
  });
  return svg;
}

function chips(entities, cls) {
  return el("ul", { class: `chips ${cls || ""}` }, entities.map((e) =>
    el("li", { title: `${e.type} · ${e.id}` }, e.name, e.count > 1 ? el("small", {}, ` ${e.count}`) : null)));
}

function langBadges(languages) {
  return el("span", { class: "langs" }, languages.map((lang) => el("span", { class: "lang" }, lang)));
}

function storylineLink(id, text) {
  return el("a", { href: `#/storyline/${encodeURIComponent(id)}` }, text || "(untitled)");
}

function pager(page, onPage) {
  const last = Math.min(page.offset + page.limit, page.total);
  const nav = el("nav", { class: "pager" },
    el("span", {}, page.total ? `${page.offset + 1}–${last} of ${page.total}` : "nothing found"));
  if (page.offset > 0) {
    const prev = el("button", { type: "button" }, "← previous");
    prev.addEventListener("click", () => onPage(Math.max(0, page.offset - page.limit)));
    nav.prepend(prev);
  }
  if (last < page.total) {
    const next = el("button", { type: "button" }, "next →");
    next.addEventListener("click", () => onPage(page.offset + page.limit));
    nav.append(next);
  }
  return nav;
}

function storylineCard(story) {
  return el("article", { class: "card storyline", "data-id": story.id },
    el("h2", {}, storylineLink(story.id, story.title)),
    el("p", { class: "meta" }, langBadges(story.languages),
      ` ${story.article_count} articles · ${story.source_count} sources · ${story.event_count} events · `,
      span(story.start, story.end)),
    volumeChart(story.volume),
    chips(story.top_entities));
}

const filters = { lang: "", entity: "", place: "", since: "", until: "" };

function filterForm(onChange) {
  const form = el("form", { class: "filters" });
  for (const [name, label, type] of [["lang", "language", "text"], ["entity", "entity", "text"],
    ["place", "place", "text"], ["since", "from", "date"], ["until", "to", "date"]]) {
    const input = el("input", { name, type, value: filters[name], placeholder: label, "aria-label": label });
    form.append(el("label", {}, `${label} `, input));
  }
  form.append(el("button", { type: "submit" }, "Filter"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    for (const name of Object.keys(filters)) filters[name] = form.elements[name].value.trim();
    onChange();
  });
  return form;
}

async function showList(offset = 0) {
  const page = await api("/api/storylines", { ...filters, limit: PAGE_SIZE, offset });
  render(el("h1", {}, "Storylines"),
    filterForm(() => showList(0)),
    page.items.map(storylineCard),
    pager(page, showList));
}

function eventTimeline(events) {
  return el("ol", { class: "timeline" }, events.map((event) =>
    el("li", { "data-event": event.id },
      el("time", {}, span(event.start, event.end)),
      el("strong", {}, event.title || "(untitled event)"),
      el("span", { class: "meta" }, " ", langBadges(event.languages), ` ${event.article_count} articles`))));
}

function textBlock(label, text) {
  return el("section", { class: "text" }, el("h4", {}, label), el("pre", {}, text || "(empty)"));
}

async function fillArticle(container, id) {
  const article = await api(`/api/articles/${encodeURIComponent(id)}`);
  container.replaceChildren(
    chips(article.entities),
    textBlock("Clean text", article.text),
    article.removed.length ? textBlock(`Removed boilerplate (${article.removed.length} lines)`,
      article.removed.join("\n")) : null,
    textBlock("Original text", article.raw_text));
}

function articleItem(article) {
  const link = safeUrl(article.url);
  const body = el("div", { class: "article-body" }, "Loading…");
  const details = el("details", { class: "article", "data-id": article.id },
    el("summary", {}, el("span", { class: "article-title" }, article.title || "(untitled)"),
      el("span", { class: "meta" }, ` ${article.source} · ${article.published || "date unknown"}`,
        article.duplicate_of ? " · near-duplicate" : "")),
    link ? el("p", {}, el("a", { href: link, rel: "noopener noreferrer nofollow", target: "_blank" }, link)) : null,
    body);
  details.addEventListener("toggle", () => {
    if (details.open && !details.dataset.loaded) {
      details.dataset.loaded = "1";
      fillArticle(body, article.id).catch((error) => body.replaceChildren(`Could not load: ${error.message}`));
    }
  });
  return details;
}

function articlesByLanguage(articles) {
  const groups = new Map();
  for (const article of articles) {
    const lang = article.lang || "unknown";
    if (!groups.has(lang)) groups.set(lang, []);
    groups.get(lang).push(article);
  }
  return [...groups.entries()].map(([lang, items]) =>
    el("section", { class: "language-group", "data-lang": lang },
      el("h3", {}, `${lang} (${items.length})`), items.map(articleItem)));
}

async function showStoryline(id, offset = 0) {
  const [story, page] = await Promise.all([
    api(`/api/storylines/${encodeURIComponent(id)}`),
    api(`/api/storylines/${encodeURIComponent(id)}/articles`, { limit: 100, offset }),
  ]);
  shownStory = { id: story.id, article_count: story.article_count };
  render(el("p", {}, el("a", { href: "#/" }, "← all storylines")),
    el("h1", { class: "storyline-title" }, story.title || "(untitled)"),
    el("p", { class: "meta" }, langBadges(story.languages),
      ` ${story.article_count} articles · ${story.source_count} sources · `, span(story.start, story.end)),
    volumeChart(story.volume, 480, 60),
    el("div", { class: "columns" },
      el("section", {}, el("h2", {}, "Timeline"), eventTimeline(story.events)),
      el("section", {}, el("h2", {}, "Entities"), chips(story.entities),
        el("h2", {}, "Places"), chips(story.places, "places"))),
    el("h2", {}, "Articles by language"),
    articlesByLanguage(page.items),
    pager(page, (next) => showStoryline(id, next)));
}

function searchResult(hit) {
  const target = hit.storyline_id !== null ? storylineLink(hit.storyline_id, hit.title) : el("span", {}, hit.title);
  return el("li", { class: `hit ${hit.kind}` }, target,
    el("span", { class: "meta" }, ` ${hit.lang || ""} · ${hit.matched_by.join(" + ")}`),
    hit.snippet ? el("p", { class: "snippet" }, hit.snippet) : null);
}

async function showSearch(query, offset = 0) {
  document.getElementById("search-input").value = query;
  const result = await api("/api/search", { q: query, limit: PAGE_SIZE, offset });
  render(el("h1", {}, "Search: ", el("q", {}, query)),
    el("h2", {}, "Storylines"),
    el("ul", { class: "hits storylines" }, result.storylines.map(searchResult)),
    el("h2", {}, "Articles"),
    el("ul", { class: "hits articles" }, result.articles.items.map(searchResult)),
    pager(result.articles, (next) => showSearch(query, next)));
}

function render(...nodes) {
  document.getElementById("view").replaceChildren(...nodes.flat().filter(Boolean));
}

async function route() {
  shownStory = null;
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, queryString] = hash.split("?");
  try {
    const storyMatch = path.match(/^\/storyline\/([^/]+)$/);
    if (storyMatch) return await showStoryline(decodeURIComponent(storyMatch[1]));
    if (path === "/search") return await showSearch(new URLSearchParams(queryString).get("q") || "");
    return await showList();
  } catch (error) {
    render(el("p", { class: "error" }, `Could not load: ${error.message}`));
  }
}

async function viewChanged() {
  // Re-rendering a storyline would close the articles a reader opened: only do it when it grew.
  if (!shownStory) return true;
  const story = await api(`/api/storylines/${encodeURIComponent(shownStory.id)}`).catch(() => null);
  return !story || story.article_count !== shownStory.article_count;
}

async function poll() {
  try {
    const state = await api("/api/updated");
    const live = document.getElementById("live");
    live.textContent = `${state.articles} articles · ${state.storylines} storylines`;
    if (shownVersion !== null && state.version !== shownVersion && (await viewChanged())) {
      live.textContent += " · updated";
      await route();
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
window.addEventListener("hashchange", route);
route();
poll();
setInterval(poll, POLL_MS);
