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
