"""Plain-dict views of storylines and events for the CLI (text or JSON)."""

from __future__ import annotations

from typing import Any

from storylines.cluster.labels import event_sort_key, label, source_name, storyline_stats
from storylines.day import readable_span
from storylines.store.base import EventRecord, Store


def describe_event(store: Store, event: EventRecord, with_articles: bool = True) -> dict[str, Any]:
    described = {"id": event.id, "size": event.size, **label(event.stats).to_dict()}
    if with_articles:
        described["articles"] = [
            {
                "id": stored.id,
                "title": stored.article.title,
                "source": source_name(stored.article),
                "lang": stored.article.lang,
                "day": stored.day,
                "duplicate_of": stored.duplicate_of,
            }
            for stored in store.articles_of_event(event.id)
        ]
    return described


def describe_storyline(store: Store, storyline_id: int, with_articles: bool = True) -> dict[str, Any] | None:
    """A storyline, labelled from the merged stats of its events, with its events oldest first."""
    record = store.get_storyline(storyline_id)
    if record is None:
        return None
    events = sorted(store.events_of_storyline(record.id), key=event_sort_key)
    stats = storyline_stats(events)
    return {
        "id": record.id,
        "merged_into": record.merged_into,
        "size": record.size,
        **label(stats).to_dict(),
        "events": [describe_event(store, event, with_articles) for event in events],
    }


def format_storyline(story: dict[str, Any]) -> str:
    """Human-readable block: the storyline, then each event with its articles."""
    lines = [
        f"Storyline {story['id']}: {story['title'] or '(untitled)'}",
        f"  {_span(story)} · {len(story['events'])} events · {story['size']} articles · "
        f"languages {_counts(story['languages'])}",
    ]
    if story["entities"] or story["places"]:
        lines.append(f"  about {', '.join(story['entities'] + story['places'])}")
    for event in story["events"]:
        lines.append(f"  Event {event['id']}: {event['title'] or '(untitled)'}")
        lines.append(f"    {_span(event)} · languages {_counts(event['languages'])}")
        for article in event.get("articles", []):
            duplicate = f" (copy of {article['duplicate_of']})" if article["duplicate_of"] else ""
            lines.append(
                f"    - {article['id']} [{article['lang'] or '?'}] {readable_span(article['day'], None)} "
                f"{article['source']}{duplicate}"
            )
    return "\n".join(lines)


def _span(labelled: dict[str, Any]) -> str:
    return readable_span(labelled["first_day"], labelled["last_day"])


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value}" for key, value in counts.items()) or "-"
