"""Placeholder until the integrity services land."""
