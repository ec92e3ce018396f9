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
    settings = dataclasses.replace(settings, collect_when_idle=True)      # see Writer._collect_if_idle
    service = Service(settings)
    app = create_app(settings, service)
    # Everything loaded so far (modules, the scenario, the state) lives as long as the server: out of the
    # garbage collector's sight, its full collections stop rescanning it (~15 % of a durable order's CPU).
    gc.collect()
    gc.freeze()
    # No automatic full collections: the open orders make them long (50-70 ms at 2,000 orders past the
    # freeze, every 2 s at 1,000 orders/s), and they hold the GIL. The young generations still collect;
    # the writer runs the full ones when it is idle.
    young, middle, _full = gc.get_threshold()
    gc.set_threshold(young, middle, 1 << 30)
    from omsim.service.fastpath import FastPaths

    # No X-Forwarded-* rewriting (nothing here reads the client's address; ~6 % of the event loop's time per
    # request at 1,000 orders/s) and no Server header (it names the framework to every client).
    uvicorn.run(FastPaths(app), host=host, port=port, log_level="warning", access_log=False,
                proxy_headers=False, server_header=False)
