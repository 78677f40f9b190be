"""Officers: sign-in, the dashboard of a unit, the feedback inbox and targets
(``/login``, ``/officer``, ``/units/<unit>``)."""
