"""Report downloads (``/reports/<unit>/<period>/...``): a unit's figures for a
period, and the charts, PDF and spreadsheets made of them."""
