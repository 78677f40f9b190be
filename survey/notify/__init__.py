"""Alerts and messages: the outbox, the rules that fill it, the worker that empties it."""
