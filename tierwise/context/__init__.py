"""Context extraction: find the target code and the context it needs."""
