"""Integrity: ballot-stuffing guards (rate limits, fill time, honeypot), flagged
responses and their judgement, desks, receipt tokens and API keys."""
