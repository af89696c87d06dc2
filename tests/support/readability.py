"""The Kandel–Moles readability score of the catalogues, per audience (bot/ui/audiences.py).

    python -m tests.support.readability              # the catalogues as they are
    python -m tests.support.readability --rev 05d1f79  # as they were at a commit (git show)

Kandel–Moles is Flesch's reading ease adapted to French: 207 − 1.015 × words per sentence −
73.6 × syllables per word, over all of an audience's messages (placeholders filled with realistic
values; tests/support/plain_words.py). 60–70 reads as plain French, 70–80 as fairly easy, 80 and
more as easy. Also printed: the longest messages of the group and participant audiences.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from bot.ui.audiences import FACILITATOR, GROUP, PARTICIPANT
from tests.support.plain_words import messages, read_catalogue, score, words

ROOT = Path(__file__).resolve().parents[2]
SHOWN = (GROUP, PARTICIPANT, FACILITATOR)


def catalogue_at(rev: str | None, language: str) -> dict[str, str] | None:
    if rev is None:
        return None
    content = subprocess.run(
        ["git", "show", f"{rev}:bot/ui/locales/{language}.po"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    return read_catalogue(content, language)


def report(rev: str | None, language: str, longest: int) -> list[str]:
    found = messages(language, catalogue_at(rev, language))
    lines = [f"{language}  audience      messages  words  w/sentence  syll/word  Kandel–Moles"]
    for name in SHOWN:
        texts = [m.text for m in found if m.audience == name]
        result = score(texts)
        lines.append(
            f"    {name:<12}  {result.messages:>8}  {result.words:>5}  {result.words_per_sentence:>10.1f}"
            f"  {result.syllables_per_word:>9.2f}  {result.kandel_moles:>12.1f}"
        )
    readers = sorted(
        (m for m in found if m.audience in (GROUP, PARTICIPANT)), key=lambda m: len(words(m.text)), reverse=True
    )
    lines.append(f"    longest group and participant messages ({language}):")
    for message in readers[:longest]:
        lines.append(f"      {len(words(message.text)):>3} words  {message.key} ({message.audience})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", help="a git revision: score the catalogues as they were there")
    parser.add_argument("--longest", type=int, default=3, help="how many of the longest messages to name")
    args = parser.parse_args()
    print(f"Catalogues at {args.rev or 'the working tree'}")
    for language in ("fr", "en"):
        print("\n".join(report(args.rev, language, args.longest)))


if __name__ == "__main__":
    main()
