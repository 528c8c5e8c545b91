"""Mask refinement (placeholder during bootstrap)."""
