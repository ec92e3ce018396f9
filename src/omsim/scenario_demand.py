"""The scenario format's ``demand`` section: arrivals, order contents, customers.

Every field has a default, so a scenario that gives only ``orders_per_day``
and ``regions`` still works. What a fitted scenario (``omsim fit``) needs on
top of the synthetic knobs:

- ``month_profile`` (12 values, January first) and ``trend_per_year``: the
  yearly shape and growth of the volume;
- ``closed_weekdays`` and ``closed_dates`` (``MM-DD``, every year): days
  with no orders at all (the other days keep their rate);
- ``hour_profile_by_weekday``: an hour-of-day profile for some weekdays,
  replacing ``hour_profile`` on those days;
- ``lines_per_order.table`` / ``units_per_line.table``: an empirical
  distribution as ``[value, weight]`` rows (heavy tails, pack sizes);
- ``customers``: a customer-id process with returning customers;
- ``cancellations``: customers cancelling (part of) their orders after placing
  them (:mod:`omsim.sim.cancellations`).

SKU popularity as an empirical curve is the catalogue's per-SKU
``popularity`` (a share per SKU, e.g. a ``popularity`` column of
``catalogue.file``).
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, model_validator

from omsim.scenario_base import Ident, NonNeg, PosInt, Prob, _Model, _unique_ids

#: Weekday names, Monday first (the index is ``date.weekday()``).
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MonthDay = Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]

# A typical e-commerce day: quiet nights, a morning rise, an evening peak.
DEFAULT_HOUR_PROFILE = [
    0.9, 0.5, 0.3, 0.2, 0.2, 0.3, 0.7, 1.4, 2.4, 3.2, 3.8, 4.2,
    4.4, 4.6, 4.5, 4.4, 4.3, 4.4, 5.0, 5.8, 6.4, 6.0, 4.3, 2.2,
]
# Monday first: a little more on Monday and Sunday evening shopping.
DEFAULT_WEEKDAY_PROFILE = [1.12, 1.05, 1.0, 0.98, 0.95, 0.88, 1.02]


class Region(_Model):
    """A customer region: a point and a share of demand."""

    id: Ident
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    weight: Annotated[float, Field(gt=0)] = 1.0
    country: str | None = Field(default=None, description="The country the region lies in, as a history names it "
                                "(e.g. 'United Kingdom'): a replayed order that gives only a country ships to one "
                                "of that country's regions (see demand.history).")


class Promotion(_Model):
    """A demand peak: ``multiplier`` x the base rate from ``start_day`` for ``days``."""

    name: str = "promotion"
    start_day: Annotated[int, Field(ge=0)]
    days: PosInt = 1
    multiplier: Annotated[float, Field(gt=0)] = 2.0


class CountDist(_Model):
    """A count of at least one: 1 + Poisson(mean - 1), truncated at ``max``; or an empirical ``table``.

    With ``table`` (rows ``[value, weight]``), a count is ``value`` with
    probability ``weight / sum(weights)``, and ``mean`` and ``max`` are ignored.
    """

    mean: Annotated[float, Field(ge=1)] = 1.0
    max: PosInt = 10
    table: list[tuple[PosInt, NonNeg]] | None = Field(
        default=None, description="Empirical distribution: [value, weight] rows (value >= 1); overrides mean and max.")

    @model_validator(mode="after")
    def _mean_le_max(self):
        if self.mean > self.max:
            raise ValueError("mean must not exceed max")
        if self.table is not None:
            values = [v for v, _ in self.table]
            if not self.table or sum(w for _, w in self.table) <= 0:
                raise ValueError("table needs a row with a positive weight")
            if len(set(values)) != len(values):
                raise ValueError("table values must be distinct")
        return self

    def expected(self) -> float | None:
        """The table's mean, or None without a table."""
        if self.table is None:
            return None
        total = sum(w for _, w in self.table)
        return sum(v * w for v, w in self.table) / total


class Payment(_Model):
    """Payment authorisation: failures and retries."""

    failure_rate: Prob = 0.02
    retries: Annotated[int, Field(ge=0, le=10)] = 1
    retry_delay_h: NonNeg = 0.5
    retry_success: Prob = 0.5


class Customers(_Model):
    """Who places the orders: new and returning customers.

    Each order is a guest order (no customer id) with probability
    ``guest_share``; otherwise it comes from a returning customer with
    probability ``returning_share``, else from a new customer (the first
    identified order of a run always is). A returning customer is, with
    probability ``preferential``, the customer of an earlier identified order
    drawn uniformly (frequent buyers come back more often), else one of the
    customers seen so far drawn uniformly.
    """

    returning_share: Prob = Field(default=0.5, description="Share of identified orders from a customer seen before.")
    preferential: Prob = Field(default=0.5, description="Share of returning orders drawn in proportion to past orders.")
    guest_share: Prob = Field(default=0.0, description="Share of orders without a customer id.")


class Cancellations(_Model):
    """Customer cancellations after the order is placed (see :mod:`omsim.sim.cancellations`).

    On a replay (``demand.history``) with ``history`` true, the history's own
    cancellations are replayed and ``share`` is not used; otherwise each order
    is cancelled in part with probability ``share``: each of its lines is named
    with probability ``line_share`` (at least one line), for all its units,
    ``delay_h`` hours after the order (a ``[hour, weight]`` table: the delay is
    ``hour`` + a uniform fraction of an hour).
    """

    history: bool = Field(default=True, description="On a replay, replay the history's cancellations.")
    share: Prob = Field(default=0.0, description="Share of orders the customer cancels (in part), generated.")
    line_share: Annotated[float, Field(gt=0, le=1)] = Field(
        default=1.0, description="Probability that a cancellation names each line of its order (at least one).")
    delay_h: list[tuple[Annotated[int, Field(ge=0)], NonNeg]] = Field(
        default_factory=lambda: [[0, 1.0]], description="Delay from the order to its cancellation: [hour, weight] rows.")

    @model_validator(mode="after")
    def _check(self):
        hours = [h for h, _ in self.delay_h]
        if not self.delay_h or sum(w for _, w in self.delay_h) <= 0:
            raise ValueError("delay_h needs a row with a positive weight")
        if len(set(hours)) != len(hours):
            raise ValueError("delay_h hours must be distinct")
        return self


class Demand(_Model):
    """Who orders what, when and where."""

    orders_per_day: Annotated[float, Field(ge=0)] = 500.0
    hour_profile: list[NonNeg] = Field(default_factory=lambda: list(DEFAULT_HOUR_PROFILE), min_length=24, max_length=24)
    weekday_profile: list[NonNeg] = Field(default_factory=lambda: list(DEFAULT_WEEKDAY_PROFILE), min_length=7, max_length=7)
    promotions: list[Promotion] = Field(default_factory=list)
    lines_per_order: CountDist = Field(default_factory=lambda: CountDist(mean=1.6, max=8))
    units_per_line: CountDist = Field(default_factory=lambda: CountDist(mean=1.2, max=6))
    regions: list[Region] | None = None
    regions_file: str | None = Field(default=None, description="CSV of regions (id, lat, lon, weight).")
    service_mix: dict[Literal["standard", "express", "next_day"], NonNeg] = Field(
        default_factory=lambda: {"standard": 0.75, "express": 0.2, "next_day": 0.05})
    channels: dict[str, NonNeg] = Field(default_factory=lambda: {"web": 1.0})
    payment: Payment = Field(default_factory=Payment)
    month_profile: list[NonNeg] | None = Field(
        default=None, min_length=12, max_length=12,
        description="Relative volume per calendar month, January first (normalised to mean 1); none = flat.")
    trend_per_year: Annotated[float, Field(gt=-1)] = Field(
        default=0.0, description="Volume growth per year from the horizon start (0.1 = +10 % a year).")
    closed_weekdays: list[Weekday] = Field(default_factory=list, description="Weekdays without orders.")
    closed_dates: list[MonthDay] = Field(default_factory=list, description="Dates (MM-DD, every year) without orders.")
    hour_profile_by_weekday: dict[Weekday, Annotated[list[NonNeg], Field(min_length=24, max_length=24)]] = Field(
        default_factory=dict, description="Hour-of-day profile for some weekdays, replacing hour_profile on them.")
    customers: Customers | None = Field(default=None, description="Customer ids with returning customers; none = no ids.")
    cancellations: Cancellations | None = Field(
        default=None, description="Customers cancelling (part of) their orders after placing them; none = never.")
    history: str | list[str] | None = Field(
        default=None, description="An order history (CSV, .csv.gz or Parquet; see omsim.history) to replay instead "
        "of generating arrivals, relative to the scenario file; a list gives candidates, the first that exists wins. "
        "The generator's fields above are then not used for arrivals.")
    _history: Any = PrivateAttr(default=None)        # the omsim.history.History read on load
    _skus_added: int = PrivateAttr(default=0)         # history SKUs the catalogue lacked

    @model_validator(mode="after")
    def _check(self):
        if isinstance(self.history, list) and not self.history:
            raise ValueError("history: give a file or a non-empty list of candidate files")
        if self.regions is None and self.regions_file is None:
            raise ValueError("give regions (a list) or regions_file (a CSV)")
        if self.regions is not None and self.regions_file is not None:
            raise ValueError("give regions or regions_file, not both")
        if sum(self.hour_profile) <= 0:
            raise ValueError("hour_profile needs a positive entry")
        if sum(self.weekday_profile) <= 0:
            raise ValueError("weekday_profile needs a positive entry")
        if sum(self.service_mix.values()) <= 0:
            raise ValueError("service_mix needs a positive weight")
        if self.month_profile is not None and sum(self.month_profile) <= 0:
            raise ValueError("month_profile needs a positive entry")
        for day, prof in self.hour_profile_by_weekday.items():
            if sum(prof) <= 0:
                raise ValueError(f"hour_profile_by_weekday.{day} needs a positive entry")
        if len(set(self.closed_weekdays)) == 7:
            raise ValueError("closed_weekdays closes every day of the week")
        if self.regions:
            _unique_ids(self.regions, "region")
        return self
