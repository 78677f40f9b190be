"""Who the survey hears: response rates per unit, period and channel (feature package)."""

from survey.reach.views import bp

__all__ = ["bp"]
