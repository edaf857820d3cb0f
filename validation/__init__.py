"""Checks on a model's output: each a small pure function returning findings."""
