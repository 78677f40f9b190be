"""Per-officer figures of a commune: each officer's own, and all of them for the
commune's leader and the district (every such view audited)."""
