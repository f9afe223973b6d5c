"""Spiders: one per platform, routing only; `seeds` runs a batch from a seed file."""
