"""The plain data and errors every stage shares; imports nothing else of tierwise."""
