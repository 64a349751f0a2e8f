"""Analytics activities: the roll-up's steps (zones, view counters, set-based recomputation)."""
