"""Derive bot/simulator/botapi.json from the shared Bot API spec (PaulSonOfLars/telegram-bot-api-spec, MIT).

Keeps what validation needs: method and type names, field names, types and required flags.
Usage: python scripts/vendor_botapi.py [../shared/botapi/api.json]
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "bot" / "simulator" / "botapi.json"


def trim(spec: dict) -> dict:
    def fields(entry: dict) -> list[dict]:
        return [{"name": f["name"], "types": f["types"], "required": f["required"]} for f in entry.get("fields", [])]

    return {
        "version": spec["version"],
        "source": "https://github.com/PaulSonOfLars/telegram-bot-api-spec (MIT, Copyright (c) 2020 Paul Larsen)",
        "methods": {
            name: {"fields": fields(m), "returns": m["returns"]} for name, m in sorted(spec["methods"].items())
        },
        "types": {
            name: {"fields": fields(t), "subtypes": t.get("subtypes", [])} for name, t in sorted(spec["types"].items())
        },
    }


def render(spec: dict) -> str:
    return json.dumps(trim(spec), ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n"


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "botapi" / "api.json"
    TARGET.write_text(render(json.loads(source.read_text(encoding="utf-8"))), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)} from {source}")
