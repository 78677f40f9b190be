"""Kiosk mode (issue 21): a rating tablet paired with a desk, the officers on duty
at the desk, and the one more question after a low rating."""
