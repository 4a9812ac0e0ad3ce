"""The command line: `tierwise` (main.py) and the subcommands it runs."""
