"""Placeholder until the integrity checks land: the signatures are the contract the evidence service calls."""

from __future__ import annotations


def fingerprint_store(*, evidence, phash: int) -> None:
    """Index a processed photo's perceptual hash (placeholder: does nothing yet)."""


def evidence_checks(*, evidence, now) -> list:
    """Checks of one processed file of a meeting (placeholder: raises no flag yet)."""
    return []


def meetings_check_due(*, now) -> int:
    return 0
