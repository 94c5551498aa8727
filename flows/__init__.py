"""Orchestration: settings, the Prefect flows that connect extract → warehouse, and the CLI."""
