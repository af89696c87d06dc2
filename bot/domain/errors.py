"""The one base of every refusal a rule can give: a person asked for something that cannot be
done (a past date, a full car, a reason missing). Handlers answer it in plain words from its
catalogue key and change nothing."""

from __future__ import annotations


class RefusalError(ValueError):
    """`key` is the catalogue message explaining the refusal; `values` fill it."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def folded_text(
    text: str, limit: int, empty: str | None, too_long: str, error: type[RefusalError] = RefusalError
) -> str:
    """What someone typed, on one line with single spaces; refused (`error` with the key `empty` or
    `too_long`) when empty — unless `empty` is None — or longer than `limit`."""
    folded = " ".join(text.split())
    if not folded and empty is not None:
        raise error(empty)
    if len(folded) > limit:
        raise error(too_long, limit=limit, length=len(folded))
    return folded
