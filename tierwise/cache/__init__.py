"""The response cache: normalised keys (keys.py) and the JSON-only diskcache store (store.py)."""
