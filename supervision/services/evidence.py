"""Placeholder until the evidence services land."""
