"""The house's rules, read from the code's own imports so that they stay true:

- inside bot/, imports run one way: root (assembly) → outbox → ui → domain → storage;
- bot/domain/ and bot/ui/ import no telegram.ext, handlers or jobs (domain: no telegram at all);
- jobs/ import no handler; a handler imports no other feature's handler (only handlers.common,
  and its own package's modules), and no feature handler imports bot/outbox: handlers speak
  through handlers/common, which speaks through bot/outbox/say.py, the one door;
- storage/ imports nothing of the bot.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Ranks inside bot/: a module may import its own room and the rooms below it, never above.
RANKS = {"storage": 0, "bot.domain": 1, "bot.ui": 2, "bot.outbox": 3, "bot": 4}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module this file imports at run time (TYPE_CHECKING blocks included: a type is a
    dependency too)."""
    found: set[str] = set()
    package = module_name(path).rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def sources(folder: str) -> list[Path]:
    return sorted(path for path in (ROOT / folder).rglob("*.py") if "migrations" not in path.parts)


def room(module: str) -> str | None:
    """The bot/ room of a module (None for bot/simulator, the fake Telegram, which sits apart)."""
    if module.startswith("bot.simulator"):
        return None
    for name in ("bot.domain", "bot.ui", "bot.outbox"):
        if module == name or module.startswith(name + "."):
            return name
    if module.startswith("storage"):
        return "storage"
    if module == "bot" or module.startswith("bot."):
        return "bot"
    return None


def project_imports(path: Path) -> set[str]:
    return {
        name for name in imports_of(path) if name.split(".")[0] in ("bot", "handlers", "jobs", "storage", "telegram")
    }


def test_the_rules_see_the_imports():
    """A scan that finds nothing would pass every rule: make sure it reads real imports."""
    assert "bot.domain.meetings" in imports_of(ROOT / "bot" / "outbox" / "expand.py")
    assert "handlers.common" in imports_of(ROOT / "handlers" / "rsvp.py")


@pytest.mark.parametrize("path", sources("bot") + sources("storage"), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_one_way_inside_bot(path):
    here = room(module_name(path))
    if here is None:
        return
    for name in project_imports(path):
        there = room(name)
        if there is not None:
            assert RANKS[there] <= RANKS[here], f"{module_name(path)} ({here}) imports {name} ({there}): upward"
        if here != "bot":  # the assembly registers handlers and jobs; nothing below it knows them
            assert not name.startswith(("handlers", "jobs")), f"{module_name(path)} imports {name}"


@pytest.mark.parametrize("path", sources("bot/domain") + sources("bot/ui"), ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_and_ui_know_nothing_of_the_application(path):
    names = project_imports(path)
    assert not [n for n in names if n.startswith("telegram.ext")], path
    if "domain" in path.parts:
        assert not [n for n in names if n.startswith("telegram")], f"{path}: the rules need no Telegram"


@pytest.mark.parametrize("path", sources("jobs"), ids=lambda p: str(p.relative_to(ROOT)))
def test_jobs_import_no_handler(path):
    assert not [n for n in project_imports(path) if n.startswith("handlers")], path


@pytest.mark.parametrize("path", sources("handlers"), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_handler_imports_no_other_feature(path):
    """A feature that grew into a package (handlers/dashboard/) may import its own modules."""
    shared = ("handlers", "handlers.common")
    parts = module_name(path).split(".")
    own = ".".join(parts[:2]) if len(parts) > 2 else None
    others = {
        n
        for n in project_imports(path)
        if n.startswith("handlers")
        and n not in shared
        and not n.startswith("handlers.common.")
        and not (own and (n == own or n.startswith(own + ".")))
    }
    assert not others, f"{path.name} imports {sorted(others)}: shared code belongs in handlers/common.py"


@pytest.mark.parametrize("path", sources("handlers"), ids=lambda p: str(p.relative_to(ROOT)))
def test_handlers_run_no_sql(path):
    """Queries and row changes are the domain's: handlers parse, call it, and render."""
    names = imports_of(path)
    assert not [n for n in names if n == "sqlalchemy" or n.startswith("sqlalchemy.")], path


@pytest.mark.parametrize("path", sources("handlers"), ids=lambda p: str(p.relative_to(ROOT)))
def test_handlers_speak_through_one_door(path):
    """Only handlers/common reaches the outbox, and only through bot/outbox/say.py: a reply, a
    durable notice, a plan or a followed message, named by intent."""
    outbox = sorted(n for n in project_imports(path) if n == "bot.outbox" or n.startswith("bot.outbox."))
    if module_name(path).startswith("handlers.common"):
        assert all(n.startswith("bot.outbox.say") or n == "bot.outbox" for n in outbox), (path.name, outbox)
    else:
        assert not outbox, f"{path.name} imports {outbox}: speak through handlers/common"
