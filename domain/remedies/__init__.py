"""Remedy programmes: the catalogue's kinds, the schedule planner and the Remedy workflow's contract."""
