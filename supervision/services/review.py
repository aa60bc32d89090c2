"""Placeholder until the review services land."""
