"""The decision engine: the state of the network and the policies that act on it.

One :class:`DecisionEngine` serves every clock — the SimPy simulator, the
planner's CLI and (later) the HTTP service. It does not know which one drives
it: every call takes the time ``t_h`` (engine hours of :class:`omsim.clock.Clock`:
since local midnight of the scenario's start date), and nothing in it reads
the simulation's horizon, so a live engine runs past any end date.

State it holds:

- the inventory and its ledger (:class:`omsim.fulfilment.inventory.Inventory`);
- the node load: units committed but not shipped (``node_backlog_units``) and
  orders (and, optionally, units) taken per node and day (capacity throttling);
- the carrier services' packages booked per day (daily capacity);
- the decisions committed and not yet fully shipped or cancelled.

The cost of sourcing an order (what ``cheapest`` minimises, what the breakdown
of a :class:`~omsim.orders.Decision` reports)::

    per package from node n   per_package + zone surcharge + per_km x km        (shipping_package, shipping_distance)
                              + handling per order at n                         (handling)
                              + split penalty                                   (split_penalty)
    per unit of line l from n per_kg x weight + per_unit                        (shipping_weight, shipping_package)
                              + handling per line at n / units of the line      (handling)
    per unit left unfilled    policies.lost_sale_penalty                        (lost_penalty)
    minus one split penalty when anything ships (a single package pays none).

The carrier service of node n for an order is rate-shopped before sourcing:
the cheapest service meeting the order's level at the weight of the whole
order (rates from :class:`~omsim.fulfilment.carriers.CarrierBook`), preferring
services with capacity left at their first pickup. So the cost is linear in
the units shipped from each node and the exact kernel behind
:func:`omsim.fulfilment.allocation.cheapest_assignment` minimises it exactly.
Handling per line is spread over the line's units, so a line split over two
nodes pays it once in total.

Policies: ``cheapest`` (exact minimum of that cost, at most ``max_packages``
nodes), ``nearest`` (each line from the closest node that has it, then the
farthest packages dropped beyond ``max_packages``), ``lookahead``
(``cheapest`` with each unit surcharged by its stock's shadow price from the
fluid LP over the next ``lookahead_window_h`` of expected demand, refreshed
every ``lookahead_refresh_h``) and ``batch`` (CP-SAT over
a window of orders, :meth:`DecisionEngine.decide_batch`).

Promise: a node is ready with an order once its labour has worked off the
node's backlog and the order inside its shifts
(:func:`omsim.fulfilment.promise.ready_time_h`, labour from
:func:`labour_units_per_h`); the package leaves at the next pickup of its
service (``ship_by_h``) and is promised by the end of the arrival day.

Capacity: ``capacity_orders_per_day`` per node (and optionally units per
node per day) throttles which nodes may take an order that day; carrier
``daily_capacity`` is booked per pickup day. When nothing can ship, the
decision's status is ``policies.no_stock`` (backorder, hold or cancel).

Runs of orders: :meth:`DecisionEngine.decide_commit_arrays` takes orders as
columns and returns :class:`DecisionArrays`; for ``cheapest``/``batch``
without explanations the whole run is decided and committed by the compiled
kernel :mod:`omsim._kernels._decide` (the same decisions and state as
``decide`` + ``commit`` in turn, proven by the tests against this module's
Python path). :meth:`DecisionEngine.ship_many` ships many packages in one step.

Modules, one concept each (the facade :class:`DecisionEngine` mixes in their methods):

- ``facade``: :class:`DecisionEngine`, its state and construction;
- ``network``: the static arrays: the carrier service table, labour rates;
- ``stock``: expected demand and the initial stock (:func:`initial_stock`);
- ``capacity``: node load (orders and units taken per node and day);
- ``readiness``: when a node is ready with an order (shift windows);
- ``sourcing``: an order's stock, rate-shopped services and cost arrays;
- ``cost``: the cost model above; ``policies/``: ``nearest``, ``cheapest``, ``lookahead``, ``batch``;
- ``decisions``: ``decide`` and the Decision it builds, with the alternatives that explain it;
- ``reasons``: why a line's units are unfilled (one rule; the compiled kernel applies it too);
- ``commitments``: the open orders: commit, cancel, ship;
- ``store``: the column store of the orders decided as columns, :class:`DecisionArrays`;
- ``runs``: runs of orders as columns (``decide_commit_arrays``); ``kernel``: the compiled loop's binding;
- ``returns``: restock and scrap; ``replenishment``: review and receive;
- ``views``: read-only accessors of the state (:class:`OpenOrder`).
"""
from omsim.orders import DECISION_STATUSES

from .facade import DecisionEngine
from .network import labour_units_per_h
from .stock import expected_daily_units, initial_stock
from .store import DecisionArrays, decision_arrays
from .views import OpenOrder

__all__ = ["DecisionEngine", "DecisionArrays", "DECISION_STATUSES", "decision_arrays", "initial_stock",
           "expected_daily_units", "labour_units_per_h", "OpenOrder"]
