"""Web helpers every feature shares: the unit and period a URL names, errors,
language, the wording of verdicts, security headers and the download cache."""
