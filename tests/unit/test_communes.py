"""The communes' open data: found by name, postal code or both, the way people type them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import communes


def labels(text: str) -> list[str]:
    return [commune.label for commune in communes.find(text)]


def test_names_and_postal_codes_as_people_type_them():
    assert labels("Oyonnax") == labels("  oyonnax ") == labels("OYONNAX 01100") == ["Oyonnax (01)"]
    assert labels("St Etienne") == labels("saint-etienne") == ["Saint-Étienne (42)"]
    assert labels("L’Abergement-Clémenciat") == ["L'Abergement-Clémenciat (01)"]
    assert labels("Ajaccio") == labels("Ajaccio (2A)") == ["Ajaccio (2A)"]
    assert labels("75011") == ["Paris (75)"]
    # A postal code: every commune it serves, the biggest first.
    assert labels("01100")[0] == "Oyonnax (01)" and "Bellignat (01)" in labels("01100")
    # A shared name: the department or the postal code tells them apart.
    assert labels("Saint-Denis")[:2] == ["Saint-Denis (974)", "Saint-Denis (93)"]  # 155,634 and 149,077 people
    assert labels("Saint-Denis (974)") == labels("Saint-Denis 97400") == ["Saint-Denis (974)"]
    assert labels("Saint-Martin-du-Frêne 01130") == []  # not its postal code
    # A former commune, now part of a new one, keeps its own centre and the new one's postal codes.
    assert labels("Arbignieu 01300") == ["Arbignieu (01)"]
    assert labels("Atlantide") == labels("") == labels("99999") == []


def test_close_names_buttons_and_nearest():
    assert communes.close_names("Oyonax") == ["Oyonnax"]
    assert communes.close_names("zzzz") == []
    oyonnax = communes.find("Oyonnax")[0]
    assert communes.by_row(oyonnax.row, oyonnax.code) == oyonnax
    assert communes.by_row(oyonnax.row, "75056") is None and communes.by_row(0, oyonnax.code) is None
    assert communes.by_row(10**8, oyonnax.code) is None
    found, km = communes.nearest(46.2567, 5.6556)
    assert found.department == "01" and km < 5
    # Every commune is found back by its own name and postal code.
    for commune in communes.find("01100"):
        assert commune in communes.find(f"{commune.name} {commune.postal_codes[0]}")


@settings(deadline=None)  # the first example reads the data file
@given(st.text(max_size=200))
def test_any_text_finds_communes_or_none_without_raising(text):
    for commune in communes.find(text):
        assert commune.name and -90 <= commune.latitude <= 90
    communes.close_names(text)
