"""One module per action; `registry.get(action)` returns its handler."""
