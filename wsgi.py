"""WSGI entry point: ``gunicorn wsgi:app``."""

import gc

from survey import create_app

app = create_app()

# The modules and the app built so far live as long as the worker: frozen, they
# are left out of every garbage collection. A full collection then walks only
# what requests made since, not some 140 000 objects of the app's: about 4 ms
# instead of 90, a pause every request queued behind it waited for
# (docs/PERFORMANCE.md). With --preload this runs in the master before the fork,
# which also keeps the collector from touching (and copying) the shared pages.
gc.freeze()
