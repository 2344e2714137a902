"""Decisions in: files ingested from the CLI or a watched folder, published once with their alerts."""
