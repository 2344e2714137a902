"""Telegram handlers by family; bot/app.py wires them, in order, in one place."""
