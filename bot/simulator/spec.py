"""Checks Bot API calls against the official method and type definitions (bot/simulator/botapi.json,
derived from ../shared/botapi/api.json by scripts/vendor_botapi.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).resolve().parent / "botapi.json"


@cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


class UploadedFile:
    """A multipart file part as received by the fake server."""

    def __init__(self, filename: str, content: bytes, content_type: str | None = None):
        self.filename = filename
        self.content = content
        self.content_type = content_type


@dataclass
class CallCheck:
    params: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)


def _decode(raw: Any, types: list[str]) -> Any:
    """Form fields arrive as strings; non-string parameters are JSON-encoded by clients."""
    if not isinstance(raw, str) or types == ["String"]:
        return raw
    if "Integer" in types:
        try:
            return int(raw)
        except ValueError:
            pass
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _problems(value: Any, type_name: str, path: str, depth: int = 0) -> list[str]:
    if depth > 12:
        return []
    if type_name.startswith("Array of "):
        if not isinstance(value, list):
            return [f"{path}: expected {type_name}"]
        inner = type_name.removeprefix("Array of ")
        return [p for i, item in enumerate(value) for p in _problems(item, inner, f"{path}[{i}]", depth + 1)]
    if type_name == "Integer":
        return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{path}: expected Integer"]
    if type_name == "Float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected Float"]
    if type_name == "Boolean":
        return [] if isinstance(value, bool) else [f"{path}: expected Boolean"]
    if type_name == "True":
        return [] if value is True else [f"{path}: expected True"]
    if type_name == "String":
        return [] if isinstance(value, str) else [f"{path}: expected String"]
    if type_name == "InputFile":
        return [] if isinstance(value, UploadedFile) else [f"{path}: expected an uploaded file"]
    definition = spec()["types"].get(type_name)
    if definition is None:
        return [f"{path}: unknown type {type_name}"]
    if definition["subtypes"]:
        attempts = [_problems(value, sub, path, depth + 1) for sub in definition["subtypes"]]
        return [] if any(not a for a in attempts) else min(attempts, key=len)
    if not isinstance(value, dict):
        return [f"{path}: expected {type_name} object"]
    fields = {f["name"]: f for f in definition["fields"]}
    found = [f"{path}.{key}: unknown field of {type_name}" for key in value if key not in fields]
    for name, f in fields.items():
        if name not in value:
            if f["required"]:
                found.append(f"{path}.{name}: required by {type_name}")
            continue
        found.extend(_union_problems(value[name], f["types"], f"{path}.{name}", depth + 1))
    return found


def _union_problems(value: Any, types: list[str], path: str, depth: int = 0) -> list[str]:
    attempts = [_problems(value, t, path, depth) for t in types]
    return [] if any(not a for a in attempts) else min(attempts, key=len)


def check_call(method: str, raw_params: dict[str, Any]) -> CallCheck | None:
    """None when the method does not exist (Telegram answers 404)."""
    definition = spec()["methods"].get(method)
    if definition is None:
        return None
    result = CallCheck()
    fields = {f["name"]: f for f in definition["fields"]}
    for name, raw in raw_params.items():
        if name not in fields:
            result.unknown.append(name)
            continue
        value = _decode(raw, fields[name]["types"])
        result.params[name] = value
        result.wrong.extend(_union_problems(value, fields[name]["types"], name))
    result.missing = [name for name, f in fields.items() if f["required"] and name not in raw_params]
    return result


def type_fields(type_name: str) -> list[dict[str, Any]]:
    return spec()["types"][type_name]["fields"]
