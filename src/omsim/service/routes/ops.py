"""The operations page (server-rendered) and the Prometheus metrics."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from omsim.service.auth import ReadKey
from omsim.service.routes import svc

router = APIRouter(tags=["ops"])
_env = Environment(loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "templates"),
                   autoescape=select_autoescape(["html", "html.j2"]))  # a Jinja template, escaped as HTML


@router.get("/metrics", response_class=Response)
def metrics(request: Request, _key: ReadKey):
    """Prometheus text: requests and latency per route, decisions by status, journal sequence."""
    s = svc(request)
    return Response(s.metrics.text(s.live.seq), media_type="text/plain; version=0.0.4")


@router.get("/", response_class=HTMLResponse)
def ops_page(request: Request, _key: ReadKey):
    """Stock per node, open orders, the latest decisions with their explanation, request latency."""
    s = svc(request)
    with s.lock:
        live = s.live
        inv = live.engine.inventory
        nodes = [{"id": n, "on_hand": int(inv.on_hand[i].sum()), "reserved": int(inv.reserved[i].sum()),
                  "available": int(inv.available(i).sum()), "backlog": int(live.engine.node_backlog_units[i])}
                 for i, n in enumerate(live.node_ids)]
        open_orders = [(oid, st.status, st.region, st.level) for oid, st in live.orders.items()
                       if live.engine.committed(st.key) is not None][-50:]
        recent = []
        for oid in reversed(s.recent[-10:]):
            st = live.orders.get(oid)
            if st is None:
                continue
            alts = [str(a.get("why", "")) for a in live.alternatives(s.commit_of(oid, st.history[0][0])[1])][:3]
            recent.append({"order_id": oid, "status": st.status, "decision_id": f"d{st.history[0][0]}",
                           "why": alts})
        seq, n_open = live.seq, live.engine.open_orders
    html = _env.get_template("ops.html.j2").render(seq=seq, nodes=nodes, open_orders=open_orders, n_open=n_open,
                                                recent=recent, latency=s.metrics.recent_latency(),
                                                scenario=live.scenario.name)
    return HTMLResponse(html)
