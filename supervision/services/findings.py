"""Placeholder until the findings services land."""
