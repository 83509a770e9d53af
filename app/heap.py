"""The heap of a served process, kept out of the cyclic garbage collector's way.

A started server holds some 300,000 long-lived objects (modules, the app's routes, models and
schemas, SQLAlchemy's tables and compiled statements). CPython's collector walks all of them
in each full collection; requests that allocate many objects (a batch of 1,000 vacancies makes
tens of thousands) trigger one every second or so, at over 100 ms of CPU each on this project's
machines, which is most of a batch's own time and the tail of every other request's latency
(docs/benchmarks.md, ingest section). Frozen, those objects are skipped: a full collection
then walks only what was made since.

The first generation is also collected less often (every 50,000 net allocations of objects
instead of 700): a request's own objects (a batch's models and rows) are then mostly freed by
their reference counts before any collection walks them, rather than walked while alive and
promoted into the older generations to be walked again.
"""

import gc

YOUNG_THRESHOLD = 50_000


def settle() -> None:
    """Collect the start-up garbage, freeze every surviving object (`gc.freeze`: later
    collections skip them) and raise the first generation's threshold. For a server process
    once it has started, not for tests, which build many apps in one process (garbage frozen
    in would never be collected)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
