"""Carrier services, their rates and transit times, and rate shopping.

The rate of one shipment of ``packages`` packages, ``units`` units and
``weight_kg`` kilograms over ``km`` kilometres (the scenario's model)::

    packages x (per_package + per_km x km + zone surcharge(km))
    + per_unit x units + per_kg x weight_kg

``zones`` are distance bands ``(max_km, surcharge)`` in ascending ``max_km``;
a distance falls in the first band with ``km <= max_km``, and beyond the last
band the last band's surcharge applies. A service may have a ``max_km``
beyond which it is not offered at all.

Transit days are ``base_days + ceil(km / km_per_day)`` capped at ``max_days``
(or, when a ``transit_table`` of ``(max_km, days)`` bands is given, the days
of the first band reaching ``km``, the last band beyond); ``transit_h`` is 24 x
days. Late deliveries: with probability ``prob_delay`` a delivery is late by
an exponential delay of mean ``mean_delay_h`` hours.

A service *meets* a requested level when its speed rank (standard <
express < next_day) is at least the requested one, and, when a transit limit
is given, its transit is within it.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Mapping, NamedTuple, Sequence

import numpy as np

from omsim.errors import OmsimError
from omsim.fulfilment.promise import ALL_DAYS, next_cutoff_h

#: Service levels, slowest first (the scenario's ``SERVICE_LEVELS``).
LEVELS: tuple[str, ...] = ("standard", "express", "next_day")
LEVEL_RANK: dict[str, int] = {lv: i for i, lv in enumerate(LEVELS)}

__all__ = ["LEVELS", "LEVEL_RANK", "Service", "Quote", "CarrierBook"]


def _rank(level: str) -> int:
    try:
        return LEVEL_RANK[level]
    except KeyError:
        raise OmsimError(f"unknown service level {level!r}; expected one of {', '.join(LEVELS)}") from None


@dataclass(eq=False)
class Service:
    """One carrier service: rate model, transit time, delays, capacity and pickup times.

    Parameters
    ----------
    carrier, name
        Ids; the service's key is ``"carrier/name"``.
    level
        ``"standard"``, ``"express"`` or ``"next_day"``.
    per_package, per_unit, per_kg, per_km
        Rate components (currency); ``per_km`` is per package-km.
    zones
        ``(max_km, surcharge)`` bands, ascending ``max_km``; surcharge per package.
    max_km
        Not offered beyond this distance (``inf``: everywhere).
    base_days, km_per_day, max_days
        Transit days ``min(base_days + ceil(km / km_per_day), max_days)``.
    transit_table
        ``(max_km, days)`` bands replacing the formula when given.
    prob_delay, mean_delay_h
        Late deliveries (see :meth:`sample_delay_h`).
    daily_capacity
        Packages per day the carrier takes on this service (``None``: unlimited).
    cutoff_hour
        Default pickup (cut-off) hour of day at every node; ``None`` lets the
        node's own hour apply.
    node_cutoff
        Per-node pickup hours (by node id or position), overriding ``cutoff_hour``.
    pickup_days
        Weekdays the carrier collects (0 = Monday).
    """

    carrier: str
    name: str
    level: str = "standard"
    per_package: float = 0.0
    per_unit: float = 0.0
    per_kg: float = 0.0
    per_km: float = 0.0
    zones: Sequence[tuple[float, float]] = ()
    max_km: float = math.inf
    base_days: float = 1.0
    km_per_day: float = math.inf
    max_days: float = math.inf
    transit_table: Sequence[tuple[float, float]] = ()
    prob_delay: float = 0.0
    mean_delay_h: float = 0.0
    daily_capacity: int | None = None
    cutoff_hour: float | None = None
    node_cutoff: Mapping = field(default_factory=dict)
    pickup_days: Sequence[int] = ALL_DAYS

    def __post_init__(self) -> None:
        where = f"carrier service {self.carrier}/{self.name}"
        self.rank = _rank(self.level)
        for attr in ("per_package", "per_unit", "per_kg", "per_km", "base_days", "mean_delay_h"):
            v = float(getattr(self, attr))
            if not (v >= 0 and math.isfinite(v)):
                raise OmsimError(f"{where}: {attr} must be a finite number >= 0, got {getattr(self, attr)!r}")
            setattr(self, attr, v)
        if not self.km_per_day > 0 or not self.max_days > 0 or not self.max_km > 0:
            raise OmsimError(f"{where}: km_per_day, max_days and max_km must be > 0")
        if not 0.0 <= self.prob_delay <= 1.0:
            raise OmsimError(f"{where}: prob_delay must be in [0, 1], got {self.prob_delay}")
        if self.daily_capacity is not None and int(self.daily_capacity) < 0:
            raise OmsimError(f"{where}: daily_capacity must be >= 0 or None")
        for hour in [self.cutoff_hour, *self.node_cutoff.values()]:
            if hour is not None and not 0.0 <= float(hour) <= 24.0:
                raise OmsimError(f"{where}: cut-off hours must be in [0, 24], got {hour}")
        # 24:00 is midnight, i.e. 00:00 of the next day (as the scenario's hours allow it).
        if self.cutoff_hour is not None:
            self.cutoff_hour = float(self.cutoff_hour) % 24.0
        self.node_cutoff = {k: float(v) % 24.0 for k, v in self.node_cutoff.items()}
        self.pickup_days = tuple(sorted({int(d) % 7 for d in self.pickup_days}))
        if not self.pickup_days:
            raise OmsimError(f"{where}: pickup_days needs at least one weekday")
        self._zone_km, self._zone_fee = self._bands(self.zones, "zones", where)
        self._table_km, self._table_days = self._bands(self.transit_table, "transit_table", where)
        # Plain-float copies for the scalar path (rate shopping one shipment at a time).
        self._zk, self._zf = self._zone_km.tolist(), self._zone_fee.tolist()
        self._tk, self._td = self._table_km.tolist(), self._table_days.tolist()

    @staticmethod
    def _bands(bands, name, where):
        bands = [(float(a), float(b)) for a, b in bands]
        km = np.array([a for a, _ in bands], dtype=np.float64)
        val = np.array([b for _, b in bands], dtype=np.float64)
        if km.size and (np.any(np.diff(km) < 0) or np.any(km <= 0) or np.any(val < 0)):
            raise OmsimError(f"{where}: {name} must be (max_km > 0, value >= 0) bands in ascending max_km")
        return km, val

    @classmethod
    def from_scenario(cls, carrier_id: str, svc) -> "Service":
        """From a scenario's ``Service`` (``omsim.scenario.Service``) of carrier ``carrier_id``."""
        return cls(
            carrier=carrier_id, name=svc.id, level=svc.level, per_package=svc.per_package, per_unit=svc.per_unit,
            per_kg=svc.per_kg, per_km=svc.per_km, zones=[(z.max_km, z.surcharge) for z in svc.zones],
            base_days=svc.transit.base_days, km_per_day=svc.transit.km_per_day, max_days=svc.transit.max_days,
            prob_delay=svc.delay.probability, mean_delay_h=svc.delay.mean_h, daily_capacity=svc.daily_capacity,
            cutoff_hour=svc.pickup_hour)

    # ---------------------------------------------------------------- rates
    @property
    def key(self) -> str:
        """``"carrier/name"``."""
        return f"{self.carrier}/{self.name}"

    def meets(self, level: str) -> bool:
        """Is this service at least as fast a level as ``level``?"""
        return self.rank >= _rank(level)

    def offered(self, distance_km):
        """Whether the service reaches ``distance_km`` (array-like)."""
        return np.asarray(distance_km) <= self.max_km

    def zone_surcharge(self, distance_km):
        """Per-package zone surcharge at ``distance_km`` (scalar or array)."""
        km = np.asarray(distance_km, dtype=np.float64)
        if self._zone_km.size == 0:
            return np.zeros_like(km)[()]
        band = np.minimum(np.searchsorted(self._zone_km, km, side="left"), self._zone_km.size - 1)
        return self._zone_fee[band][()]

    def package_rate(self, distance_km):
        """Charge per package: ``per_package + per_km x km + zone surcharge`` (``inf`` where not offered)."""
        km = np.asarray(distance_km, dtype=np.float64)
        rate = self.per_package + self.per_km * km + self.zone_surcharge(km)
        return np.where(km <= self.max_km, rate, np.inf)[()]

    def cost(self, distance_km, units=1, weight_kg=0.0, packages=1):
        """Rate of a shipment (see the module notes); broadcasts over arrays; ``inf`` where not offered."""
        return (np.asarray(packages) * self.package_rate(distance_km) + self.per_unit * np.asarray(units)
                + self.per_kg * np.asarray(weight_kg, dtype=np.float64))[()]

    def _rate1(self, km: float) -> float:
        """:meth:`package_rate` for one float distance."""
        if km > self.max_km:
            return math.inf
        fee = self._zf[min(bisect.bisect_left(self._zk, km), len(self._zk) - 1)] if self._zk else 0.0
        return self.per_package + self.per_km * km + fee

    def _days1(self, km: float) -> float:
        """:meth:`transit_days` for one float distance."""
        if self._tk:
            return self._td[min(bisect.bisect_left(self._tk, km), len(self._tk) - 1)]
        steps = math.ceil(km / self.km_per_day) if math.isfinite(self.km_per_day) else 0
        return min(self.base_days + steps, self.max_days)

    # ---------------------------------------------------------------- time
    def transit_days(self, distance_km):
        """Planned transit in whole or fractional days (scalar or array)."""
        km = np.asarray(distance_km, dtype=np.float64)
        if self._table_km.size:
            band = np.minimum(np.searchsorted(self._table_km, km, side="left"), self._table_km.size - 1)
            return self._table_days[band][()]
        steps = np.ceil(km / self.km_per_day) if math.isfinite(self.km_per_day) else np.zeros_like(km)
        return np.minimum(self.base_days + steps, self.max_days)[()]

    def transit_h(self, distance_km):
        """Planned transit hours, ``24 x transit_days``."""
        return (24.0 * np.asarray(self.transit_days(distance_km)))[()]

    def sample_delay_h(self, rng: np.random.Generator, size=None):
        """Draw delays: 0 with probability ``1 - prob_delay``, else exponential of mean ``mean_delay_h``.

        Both draws are always made (one uniform, one exponential per
        delivery), so changing ``prob_delay`` does not shift the stream.
        """
        late = rng.random(size) < self.prob_delay
        extra = rng.exponential(self.mean_delay_h, size)
        out = np.where(late, extra, 0.0)
        return float(out) if size is None else out

    def cutoff_for(self, node=None, default: float | None = None) -> float:
        """Pickup hour at ``node``: its own, else the service's, else ``default``."""
        if node is not None and node in self.node_cutoff:
            return float(self.node_cutoff[node])
        if self.cutoff_hour is not None:
            return float(self.cutoff_hour)
        if default is None:
            raise OmsimError(f"carrier service {self.key}: no pickup hour for node {node!r} and no default")
        return float(default)

    def next_pickup_h(self, ready_h: float, node=None, default_cutoff: float | None = None,
                      start_weekday: int = 0) -> float:
        """The first pickup of this service at ``node`` at or after ``ready_h`` (on a pickup day)."""
        return next_cutoff_h(ready_h, self.cutoff_for(node, default_cutoff), self.pickup_days, start_weekday)

    def __repr__(self) -> str:
        return f"Service({self.key}, {self.level})"


class Quote(NamedTuple):
    """One service's offer for one shipment."""

    service: Service
    index: int          # position in the CarrierBook
    cost: float
    transit_h: float
    meets: bool         # meets the requested level (and transit limit)
    remaining: float    # packages the service can still take that day (inf: unlimited or no day given)


class CarrierBook:
    """All carrier services, their booked capacity per day, and rate shopping.

    Parameters
    ----------
    services
        The services; their order breaks ties (first listed wins).

    Examples
    --------
    >>> book = CarrierBook([Service("ups", "ground", per_package=6, km_per_day=800, base_days=1),
    ...                     Service("ups", "air", "next_day", per_package=20, max_days=1)])
    >>> q = book.rate_shop(1200.0, units=2, level="standard")
    >>> q.service.key, q.cost, q.transit_h
    ('ups/ground', 6.0, 72.0)
    >>> book.rate_shop(1200.0, units=2, level="express").service.key
    'ups/air'
    """

    def __init__(self, services: Sequence[Service]):
        self.services: list[Service] = list(services)
        if not self.services:
            raise OmsimError("carriers: at least one service is needed")
        self.index: dict[str, int] = {}
        for k, s in enumerate(self.services):
            if s.key in self.index:
                raise OmsimError(f"carriers: service {s.key} is listed twice")
            self.index[s.key] = k
        self.rank = np.array([s.rank for s in self.services], dtype=np.int64)
        self.capacity = np.array([np.inf if s.daily_capacity is None else float(s.daily_capacity)
                                  for s in self.services])
        self._booked: dict[int, np.ndarray] = {}  # day -> packages booked per service
        # Bumped on every change of the bookings: a caller mirroring them (the engine's compiled loop)
        # knows its copy is stale.
        self.version = 0

    @classmethod
    def from_scenario(cls, scenario) -> "CarrierBook":
        """Every service of a validated scenario, in scenario order."""
        return cls([Service.from_scenario(cid, svc) for cid, svc in scenario.services()])

    def __len__(self) -> int:
        return len(self.services)

    def _k(self, service) -> int:
        if isinstance(service, Service):
            service = service.key
        if isinstance(service, (int, np.integer)) and not isinstance(service, bool):
            if 0 <= int(service) < len(self.services):
                return int(service)
        elif service in self.index:
            return self.index[service]
        raise OmsimError(f"carriers: unknown service {service!r}; known: {', '.join(self.index)}")

    # ------------------------------------------------------------ capacity
    def remaining(self, service, day: int) -> float:
        """Packages ``service`` can still take on ``day`` (``inf`` when unlimited)."""
        k = self._k(service)
        booked = self._booked.get(int(day))
        return float(self.capacity[k] - (booked[k] if booked is not None else 0))

    def remaining_all(self, day: int) -> np.ndarray:
        """(K,) packages each service can still take on ``day``."""
        booked = self._booked.get(int(day))
        return self.capacity - (booked if booked is not None else 0)

    def booked_days(self) -> list[int]:
        """The days with at least one package booked, ascending (read-only view of the bookings)."""
        return sorted(d for d, row in self._booked.items() if row.any())

    def book(self, service, day: int, packages: int = 1) -> None:
        """Take ``packages`` of the service's capacity on ``day``.

        Raises
        ------
        OmsimError
            When fewer remain; nothing is booked.
        """
        k = self._k(service)
        packages = int(packages)
        if packages < 0:
            raise OmsimError(f"carriers: cannot book {packages} packages")
        left = self.remaining(k, day)
        if packages > left:
            raise OmsimError(f"carriers: {self.services[k].key} has {left:g} packages left on day {day}, "
                             f"cannot book {packages}")
        b = self._booked.get(int(day))
        if b is None:
            b = self._booked[int(day)] = np.zeros(len(self.services), dtype=np.int64)
        b[k] += packages
        self.version += 1

    def book_many(self, days, services, packages) -> None:
        """:meth:`book` for many (day, service index, packages) at once; all or nothing.

        Parameters
        ----------
        days, services, packages
            Equal-length sequences of ints: the pickup day, the service index
            (position in :attr:`services`) and the packages to book. A
            (day, service) pair may appear more than once.

        Raises
        ------
        OmsimError
            A bad service index, a negative count, or more packages than
            remain on a service-day (nothing is booked then).
        """
        days, services, packages = list(days), list(services), list(packages)
        if not len(days) == len(services) == len(packages):
            raise OmsimError(f"carriers: {len(days)} days, {len(services)} services, {len(packages)} counts")
        K = len(self.services)
        need: dict[tuple[int, int], int] = {}
        for d, k, c in zip(days, services, packages):
            d, k, c = int(d), int(k), int(c)
            if not 0 <= k < K:
                raise OmsimError(f"carriers: no service {k} (there are {K})")
            if c < 0:
                raise OmsimError(f"carriers: cannot book {c} packages")
            key = (d, k)
            need[key] = need.get(key, 0) + c
        booked = self._booked
        cap = self.capacity
        for (d, k), c in need.items():
            b = booked.get(d)
            left = cap.item(k) - (b.item(k) if b is not None else 0)
            if c > left:
                raise OmsimError(f"carriers: {self.services[k].key} has {left:g} packages left on day {d}, "
                                 f"cannot book {c}")
        for (d, k), c in need.items():
            b = booked.get(d)
            if b is None:
                b = booked[d] = np.zeros(K, dtype=np.int64)
            b[k] += c
        self.version += 1

    def unbook(self, service, day: int, packages: int = 1) -> None:
        """Give back booked capacity (a cancelled shipment)."""
        k = self._k(service)
        b = self._booked.get(int(day))
        have = 0 if b is None else int(b[k])
        if not 0 <= packages <= have:
            raise OmsimError(f"carriers: only {have} packages of {self.services[k].key} booked on day {day}")
        b[k] -= packages
        self.version += 1

    # ------------------------------------------------------------ quoting
    def cost_matrix(self, distance_km, units=1, weight_kg=0.0, packages=1) -> np.ndarray:
        """Cost of every service over an array of distances: shape ``(K,) + distance.shape``.

        ``units``, ``weight_kg`` and ``packages`` broadcast against the
        distances; ``inf`` where a service is not offered.
        """
        return np.stack([np.asarray(s.cost(distance_km, units, weight_kg, packages), dtype=np.float64)
                         for s in self.services])

    def transit_h_matrix(self, distance_km) -> np.ndarray:
        """Transit hours of every service: shape ``(K,) + distance.shape``."""
        km = np.asarray(distance_km, dtype=np.float64)
        return np.stack([np.broadcast_to(s.transit_h(km), km.shape) for s in self.services])

    def rate_parts(self, distance_km) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The linear parts of the rate, for the allocation's cost matrices.

        Returns
        -------
        per_package : (K,) + distance.shape
            Charge per package (``inf`` where not offered).
        per_unit, per_kg : (K,)
        """
        km = np.asarray(distance_km, dtype=np.float64)
        pkg = np.stack([np.broadcast_to(s.package_rate(km), km.shape) for s in self.services])
        return (pkg, np.array([s.per_unit for s in self.services]), np.array([s.per_kg for s in self.services]))

    def _eligible(self, level: str, transit: np.ndarray, max_transit_h: float | None) -> np.ndarray:
        """(K, ...) bool: the services meeting ``level`` (and the transit limit)."""
        ok = (self.rank >= _rank(level)).reshape((-1,) + (1,) * (transit.ndim - 1))
        if max_transit_h is not None:
            ok = ok & (transit <= max_transit_h + 1e-9)
        return ok

    def cheapest(self, distance_km, level: str = "standard", units=1, weight_kg=0.0, packages=1, *,
                 max_transit_h: float | None = None, day: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Cheapest service meeting ``level`` for each distance (vectorised rate shopping).

        Returns
        -------
        cost : float array, distance.shape
            ``inf`` where no service meets the level (or has capacity on ``day``).
        service : int array, distance.shape
            Index of the chosen service, ``-1`` where none.
        """
        km = np.asarray(distance_km, dtype=np.float64)
        cost = self.cost_matrix(km, units, weight_kg, packages)
        transit = self.transit_h_matrix(km)
        ok = self._eligible(level, transit, max_transit_h)
        if day is not None:
            room = self.remaining_all(day) >= packages
            ok = ok & room.reshape((-1,) + (1,) * km.ndim)
        cost = np.where(ok, cost, np.inf)
        val = cost.min(axis=0)
        # Ties as in quote(): equal cost goes to the faster service, then the first listed.
        tied_transit = np.where(cost == val[None, ...], np.broadcast_to(transit, cost.shape), np.inf)
        best = tied_transit.argmin(axis=0)
        return val, np.where(np.isfinite(val), best, -1)

    def quote(self, distance_km: float, units: int = 1, weight_kg: float = 0.0, level: str = "standard", *,
              packages: int = 1, max_transit_h: float | None = None, day: int | None = None) -> list[Quote]:
        """Every service offered at this distance, cheapest first (then faster, then listed first).

        Each quote says whether it meets ``level`` (and ``max_transit_h``)
        and how many packages it can still take on ``day``.
        """
        km = float(distance_km)
        rank = _rank(level)
        out = []
        for k, s in enumerate(self.services):
            rate = s._rate1(km)
            if rate == math.inf:
                continue
            c = packages * rate + s.per_unit * units + s.per_kg * weight_kg
            t = 24.0 * s._days1(km)
            meets = s.rank >= rank and (max_transit_h is None or t <= max_transit_h + 1e-9)
            left = math.inf if day is None else self.remaining(k, day)
            out.append(Quote(s, k, c, t, meets, left))
        out.sort(key=lambda q: (q.cost, q.transit_h, q.index))
        return out

    def rate_shop(self, distance_km: float, units: int = 1, weight_kg: float = 0.0, level: str = "standard", *,
                  packages: int = 1, max_transit_h: float | None = None, day: int | None = None) -> Quote | None:
        """The cheapest service that meets the level and has capacity on ``day``.

        When no service with capacity meets it, the fastest one with capacity
        (cheapest among equally fast), with ``meets=False``: the order is
        served late rather than not at all. ``None`` when no service has
        capacity left (or none reaches the distance).
        """
        quotes = [q for q in self.quote(distance_km, units, weight_kg, level, packages=packages,
                                        max_transit_h=max_transit_h, day=day) if q.remaining >= packages]
        for q in quotes:
            if q.meets:
                return q
        if not quotes:
            return None
        return min(quotes, key=lambda q: (q.transit_h, q.cost, q.index))
