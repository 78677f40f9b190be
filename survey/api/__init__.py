"""The JSON API (``/api/v1``): figures and desks for signed-in officers, receipt
tokens and dossier volumes for the one-stop software's API keys."""
