"""Units used throughout omsim, documented once.

======================  ==========================================
quantity                unit
======================  ==========================================
simulation time         hours since the scenario start (``*_h``)
time of day             hours after midnight, 0 <= h < 24
durations               hours unless named otherwise (``*_s``, ``*_min``)
warehouse distances     metres (``*_m``)
network distances       kilometres (``*_km``), great-circle (haversine)
weights                 kilograms (``*_kg``)
volumes                 litres (``*_l``)
money                   the scenario's currency (``currency``)
rates                   per hour (``*_per_h``) unless named otherwise
======================  ==========================================
"""
EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
KM_PER_MILE = 1.609344
HOURS_PER_DAY = 24.0
