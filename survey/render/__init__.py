"""Rendering: charts, the printable report, spreadsheets, QR codes and posters.
Plain data in, bytes out: no Flask, no database (checked by ``lint-imports``)."""
