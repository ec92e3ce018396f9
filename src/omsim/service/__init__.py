"""The live decisioning service (``omsim serve``): the engine over HTTP with durable reservations."""
from omsim.service.app import Service, create_app
from omsim.service.settings import Settings

__all__ = ["Service", "Settings", "create_app", "serve"]


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Open the database (OmsimError when it cannot be), then serve until interrupted (one process: one writer)."""
    import dataclasses
    import gc
    import sys

    import uvicorn

    # The writer thread gives up the GIL at every fsync and socket call; with the default 5 ms switch
    # interval it then waits up to 5 ms for the busy event loop to hand it back, each time. 0.5 ms keeps a
    # durable order's wait near its fsync (a little more switching, no measurable CPU).
    sys.setswitchinterval(0.0005)
    if not settings.freeze_every:
        settings = dataclasses.replace(settings, freeze_every=2000)      # see Writer._maybe_freeze
    service = Service(settings)
    app = create_app(settings, service)
    # Everything loaded so far (modules, the scenario, the state) lives as long as the server: out of the
    # garbage collector's sight, its full collections stop rescanning it (~15 % of a durable order's CPU).
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
