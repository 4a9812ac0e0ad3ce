"""Routing: signals, policy and the pure router (the tier ladder itself is in core/tiers.py)."""
