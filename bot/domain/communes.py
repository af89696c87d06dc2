"""The French communes, by name and postal code, with the centre of each.

Facilitators list departure points by typing a town ("/lieux Oyonnax"); members say where they
leave from with their commune or postal code ("01100"). The data is the state's open data, built
into `data/communes.tsv.gz` by `scripts/build_communes.py` (see there for sources and licence),
read once (about half a second, 40 MB) and kept in memory: `load` is called in a thread when
Relais starts, so that no update waits for it.
"""

from __future__ import annotations

import difflib
import gzip
import math
import re
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bot.domain.dates import normalise

DATA = Path(__file__).with_name("data") / "communes.tsv.gz"
CHOICES_MAX = 8  # communes offered as buttons when a name is shared; beyond, the postal code decides
_POSTAL_RE = re.compile(r"\b(\d{5})\b")
_DEPARTMENT_RE = re.compile(r"\(?\b(\d{2,3}|2a|2b)\)?\s*$")
# Abbreviations people type for the words that begin so many names.
_WORDS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
EARTH_KM = 6371.0088


def town_key(text: str) -> str:
    """What a typed town is compared on: no case, no accents, hyphens and apostrophes as spaces
    ("saint martin du frene" finds "Saint-Martin-du-Frêne")."""
    return " ".join(normalise(text).replace("-", " ").replace("'", " ").replace("’", " ").split())


def commune_key(text: str) -> str:
    """town_key, with "St" and "Ste" read as "Saint" and "Sainte"."""
    return " ".join(_WORDS.get(word, word) for word in town_key(text).replace(".", " ").split())


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance as the crow flies between two points on the Earth, in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Commune:
    row: int  # its line in the data file: what a button names, with the code to check it
    code: str  # INSEE code
    name: str
    postal_codes: tuple[str, ...]
    latitude: float
    longitude: float
    population: int

    @property
    def department(self) -> str:
        return self.code[:3] if self.code.startswith("97") else self.code[:2]

    @property
    def label(self) -> str:
        """What tells two communes of one name apart: "Saint-Denis (93)"."""
        return f"{self.name} ({self.department})"


@dataclass(frozen=True)
class _Index:
    rows: tuple[Commune, ...]
    by_name: dict[str, tuple[Commune, ...]]
    by_postal_code: dict[str, tuple[Commune, ...]]
    by_initial: dict[str, tuple[str, ...]]  # name keys by first letter, for close spellings


_loaded: _Index | None = None
_loading = threading.Lock()


def load() -> None:
    """Read the data now (Relais calls this in a thread at start-up)."""
    _index()


def _index() -> _Index:
    global _loaded
    if _loaded is None:
        with _loading:  # the start-up thread and a first /lieux may meet here: one reads
            if _loaded is None:
                _loaded = _read()
    return _loaded


def _read() -> _Index:
    rows: list[Commune] = []
    by_name: dict[str, list[Commune]] = defaultdict(list)
    by_postal_code: dict[str, list[Commune]] = defaultdict(list)
    with gzip.open(DATA, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            code, name, postal, latitude, longitude, population = line.rstrip("\n").split("\t")
            commune = Commune(
                number, code, name, tuple(filter(None, postal.split(","))), float(latitude), float(longitude),
                int(population),
            )  # fmt: skip
            rows.append(commune)
            same_name = by_name[commune_key(name)]
            if any(known.code == code for known in same_name):
                continue  # a former commune that gave its name and code to the new one: one is enough
            same_name.append(commune)
            for postal_code in commune.postal_codes:
                by_postal_code[postal_code].append(commune)
    initials: dict[str, list[str]] = defaultdict(list)
    for key in by_name:
        initials[key[:1]].append(key)

    def biggest_first(found: list[Commune]) -> tuple[Commune, ...]:
        return tuple(sorted(found, key=lambda c: (-c.population, c.code, c.name)))

    return _Index(
        tuple(rows),
        {key: biggest_first(found) for key, found in by_name.items()},
        {key: biggest_first(found) for key, found in by_postal_code.items()},
        {initial: tuple(keys) for initial, keys in initials.items()},
    )


def find(text: str) -> tuple[Commune, ...]:
    """The communes a typed text names, most populous first: "Oyonnax", "oyonnax", "01100",
    "Oyonnax 01100", "Saint-Denis (93)", "St Etienne". Empty when none does."""
    index = _index()
    text = " ".join(text.split())[:120]
    postal = _POSTAL_RE.search(text)
    if postal:
        text = (text[: postal.start()] + text[postal.end() :]).strip(" ,-")
    department = None
    if not postal and (found := _DEPARTMENT_RE.search(text.lower())) and found.start() > 0:
        department, text = found.group(1).upper(), text[: found.start()].strip(" ,-")
    key = commune_key(text)
    if postal and not key:
        return index.by_postal_code.get(postal.group(1), ())
    named = index.by_name.get(key, ())
    if postal:
        named = tuple(c for c in named if postal.group(1) in c.postal_codes)
    if department:
        named = tuple(c for c in named if c.department == department)
    return named


def postal_example(found: tuple[Commune, ...] | list[Commune]) -> str:
    """A postal code of these communes, to show how to tell them apart."""
    return next((c.postal_codes[0] for c in found if c.postal_codes), "01100")


def close_names(text: str, limit: int = 3) -> list[str]:
    """Names spelt nearly as typed ("Oyonax" → "Oyonnax"), for a suggestion."""
    key = commune_key(text)
    index = _index()
    keys = difflib.get_close_matches(key, index.by_initial.get(key[:1], ()), n=limit, cutoff=0.8)
    return [index.by_name[found][0].name for found in keys]


def by_row(row: int, code: str) -> Commune | None:
    """The commune a button names, if the data still has it on that line."""
    rows = _index().rows
    commune = rows[row - 1] if 0 < row <= len(rows) else None
    return commune if commune is not None and commune.code == code else None


def nearest(latitude: float, longitude: float) -> tuple[Commune, float]:
    """The commune whose centre is nearest to a point, and how far it is (km)."""
    # A degree of longitude shrinks with the latitude: compare on a flat approximation, exact enough
    # to rank centres a few kilometres apart, then measure the winner properly.
    scale = math.cos(math.radians(latitude)) ** 2
    found = min(
        _index().rows,
        key=lambda c: (c.latitude - latitude) ** 2 + scale * (c.longitude - longitude) ** 2,
    )
    return found, haversine_km(latitude, longitude, found.latitude, found.longitude)
