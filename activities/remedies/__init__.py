"""Side effects of the Remedy workflow: the programme's row, check-ins, and messages."""
