"""What the parse child process runs (engine/apart.py starts it): a full parse of a big file,
pickled, without its calls and names (context/lazy.py). It lives in `context`, not next to
`ApartParser` in `engine`, so that the child imports only the parser (0.11 s and 14 MB; the
engine package is 0.26 s and 23 MB), on the way to the first big file's answer.
"""

from __future__ import annotations

import threading

from tierwise.context import lazy, python
from tierwise.context.languages import language_for, split_lines
from tierwise.context.source import gc_paused, load

# The child's last tree, freed a moment after its answer has left (see parse_in_child).
_KEPT: list[object] = []
FREE_AFTER_S = 0.5


def parse_in_child(path: str, source: str) -> bytes:
    """What the child process runs: the parse and its backend, pickled (the text is not sent
    back; the caller unpickles it with the garbage collector paused, as the parse ran).

    Freeing the tree of a 1 MB module (hundreds of thousands of nodes) takes a quarter of a
    second, so it is not done before the answer is sent but a moment later, in a thread.
    """
    import pickle  # here: `tierwise route` imports this module and never needs pickle

    with gc_paused():
        tree = python.parse_tree(source) if language_for(path) == "python" else None
        if tree is not None:
            build = lazy.build_lazy if len(source) >= lazy.LAZY_CHARS else python.build
            parsed, backend = build(tree, split_lines(source)), "python"
        else:
            file = load(path, source)
            parsed, backend = file.parsed, file.backend
        data = pickle.dumps((parsed, backend), protocol=pickle.HIGHEST_PROTOCOL)
    if tree is not None:
        _KEPT.append(tree)
        del tree
        timer = threading.Timer(FREE_AFTER_S, _KEPT.clear)
        timer.daemon = True
        timer.start()
    return data
