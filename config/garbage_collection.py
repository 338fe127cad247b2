"""Keep what a process starts with out of the garbage collector's full passes.

A web or worker process holds 110,000 to 130,000 objects once Django, DRF, Channels and the
project are imported, and they live as long as the process. Under load CPython ran a full
collection (its oldest generation) about once a second in each web process, and every one
walked all of them: 80 to 100 ms in which that process answered nothing, so every
endpoint's p99, the do-nothing floor's too, sat near 100 ms. ``gc.freeze()`` moves them to
a permanent generation that no collection walks; a full pass under load then took 10 to 17
ms. docs/performance.md ("Garbage collection in the long-lived processes") has the figures.
"""

import gc


def freeze_startup_objects() -> None:
    """Call once a process has imported what it serves with, before it serves."""
    gc.collect()  # what start-up left as garbage is freed now, not kept for good
    gc.freeze()
