"""Routing: tiers, signals, policy and the pure router."""
