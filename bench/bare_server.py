"""A bare pygls server with no features: the baseline for `initialize` time."""

from pygls.lsp.server import LanguageServer

if __name__ == "__main__":
    LanguageServer("bare", "v1").start_io()
