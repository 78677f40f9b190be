"""The site's root: the landing page and the health check."""
