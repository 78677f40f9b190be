"""The pure domain: reporting periods, the questionnaire, parameter bounds and
feedback statuses. No Flask, no database (checked by ``lint-imports``)."""
