"""What higher apps add to the meeting page, without meetings importing them.

Imports run one way (supervision imports meetings, never the reverse), yet the meeting page
shows supervision's return comments and the photos a record still lacks. Supervision registers
a provider at start-up (``SupervisionConfig.ready``); the meeting view asks every provider for
its part of the page's context. A provider takes the meeting and the context built so far and
returns the names it adds; it queries only what the context says the page will show.

The supervisor's review page has a registry of its own (``register_review``): a practice app
shows a 主题党日's activities and hazards there, next to the minutes.
"""

from __future__ import annotations

from collections.abc import Callable

Provider = Callable[..., dict]

_providers: list[Provider] = []
_review_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def context_for(*, meeting, ctx: dict) -> dict:
    extra: dict = {}
    for provider in _providers:
        extra.update(provider(meeting=meeting, ctx=ctx))
    return extra


def register_review(provider: Provider) -> Provider:
    if provider not in _review_providers:
        _review_providers.append(provider)
    return provider


def review_context_for(*, meeting, ctx: dict) -> dict:
    extra: dict = {}
    for provider in _review_providers:
        extra.update(provider(meeting=meeting, ctx=ctx))
    return extra
