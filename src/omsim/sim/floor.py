"""The warehouse floor in the simulator: wave releases, picker tours and packing.

Mixed into :class:`omsim.sim.model.Simulation`; the tours, routes and pick times come from
:mod:`omsim.engine.floor`.
"""
from __future__ import annotations

import numpy as np

from omsim.sim.events import EV


class Floor:
    """Waves, tours and totes of the model."""

    def _waves(self):
        """Release every node's queue every ``wave.interval_h``."""
        dt = self.pol.wave.interval_h
        while True:
            yield self.env.timeout(dt)
            for n in range(self.N):
                self._release(n)

    def _release(self, n: int) -> None:
        self._release_due[n] = False
        # Only packages decided by now (the dispatcher may have decided later ones already).
        t = self.env.now
        pk = self.wq.take(n, t)
        if self.cancels is not None:
            pk = self.cancels.live(pk)
        if not pk.size:
            return
        P = self.P
        ptr, sku, _qty = P.lines(pk)
        units = P.units[pk]
        tours, lengths, picks = self.floors[n].tours(ptr, sku, units)
        pick_h = self.floors[n].pick_hours_list(lengths, picks)
        err_line = self.rng_pick.random(sku.size) < self.pol.pick_error_rate
        errs = np.add.reduceat(err_line.astype(np.int64), ptr[:-1])
        self.log.add_many(t, P.order[pk], EV["released"], n)
        self.travel_m += float(lengths.sum())
        self.tours += len(tours)
        self.packages_released += int(pk.size)
        self.lines_picked += int(sku.size)
        self.pick_errors += int(errs.sum())
        st = self.pickers[n]
        for j, tour in enumerate(tours):
            st.submit(pick_h[j], self._picked, n, pk[tour], errs[tour])

    def _picked(self, start: float, end: float, n: int, pk, errs) -> None:
        """A tote is picked: it is packed (its packing is booked now, its end known) and staged for its pickups."""
        # A tour started before closing finishes (overtime): only its hours inside the shifts count
        # towards the day's utilisation, which so stays at most 100 %; the rest is overtime.
        day = min(int(start // 24.0), self.days)
        cal = self.calendars[n]
        d, t = day, start
        while t < end and d < self.days:
            t1 = min(end, 24.0 * (d + 1))
            self.pick_busy_day[n, d] += cal.open_hours(t, t1)
            d, t = d + 1, t1
        self.pick_overtime_day[n, day] += (end - start) - cal.open_hours(start, end)
        wh = self.sc.network.warehouses[n]
        scan = self.pol.scan_verification
        # Caught at the scan, a pick error sends the packer for the right item.
        cum, total, bad = self.booking.picked(pk, errs, n, end, EV["picked"], wh.pack_time_s, wh.pack_time_per_unit_s,
                                              wh.pick_time_s + wh.tour_setup_s if scan else 0.0)
        if bad:
            log = self.log
            sel = pk[errs > 0]
            oids = self.P.order[sel]
            if scan:
                log.add_many(end, oids, EV["pick_error"], n, log.code("caught_at_packing"))
            else:
                self.ot.wrong[oids] = True
                self.pick_errors_shipped += int(errs.sum())
                log.add_many(end, oids, EV["pick_error"], n, log.code("not_caught"))
        # No event at the packing's end: what happens then (packed, staged for a pickup) is known now.
        p_start, p_end = self.packers[n].book(total)
        T, same = self.booking.packed(pk, cum, n, p_start, p_end, EV["packed"], EV["missed_cutoff"],
                                      self._missed_code)
        if same:                         # usually one pickup for the whole tote
            groups = {float(T[0]): pk}
        else:                            # a few packages: group them in plain Python, in tote order
            by: dict[float, list[int]] = {}
            for tv, p in zip(T.tolist(), pk.tolist()):
                by.setdefault(tv, []).append(p)
            groups = {tv: np.array(ps, dtype=np.int64) for tv, ps in by.items()}
        for tv, sel in groups.items():
            key = (n, tv)
            b = self.pickups.get(key)
            if b is None:
                b = self.pickups[key] = []
                if tv < self.end_h:
                    self._at(tv, self._pickup, key)
            b.append(sel)
