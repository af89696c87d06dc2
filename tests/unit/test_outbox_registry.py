"""The outbox's registry of kinds: every kind expands and renders, an unknown kind is an error."""

from __future__ import annotations

import inspect

import pytest

from bot.domain.events import EventKind
from bot.outbox import kinds
from bot.outbox.kinds import DELIVERIES, EVENTS, DeliveryKind, RegistryError, check_registry


def test_every_event_kind_has_an_expansion_and_declares_what_it_delivers():
    for kind in EventKind:
        spec = EVENTS[kind]
        assert inspect.iscoroutinefunction(spec.expand), kind
        assert spec.delivers, kind


def test_every_delivery_kind_has_a_rendering_and_is_delivered_by_some_event():
    produced = {delivery for spec in EVENTS.values() for delivery in spec.delivers}
    for kind in DeliveryKind:
        assert inspect.iscoroutinefunction(DELIVERIES[kind]), kind
        assert kind in produced, f"{kind} is rendered but no event delivers it"


def test_the_registry_is_complete():
    check_registry()


def test_unknown_kinds_raise():
    with pytest.raises(RegistryError):
        kinds.event_spec("no_such_event")
    with pytest.raises(RegistryError):
        kinds.renderer("no_such_delivery")


def test_a_missing_rendering_is_found_at_start_up(monkeypatch):
    monkeypatch.delitem(DELIVERIES, DeliveryKind.NUDGE)
    with pytest.raises(RegistryError, match="nudge"):
        check_registry()


def test_a_missing_expansion_is_found_at_start_up(monkeypatch):
    monkeypatch.delitem(EVENTS, EventKind.FEEDBACK)
    with pytest.raises(RegistryError, match="feedback_poll"):
        check_registry()
