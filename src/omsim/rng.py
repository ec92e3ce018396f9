"""Named, independent random streams derived from one seed.

One seed per run; each part of the model draws from its own stream, derived
with :meth:`numpy.random.SeedSequence.spawn` in a fixed order of names. Two
scenario variants run with the same seed therefore see the same arrivals, the
same payment outcomes and so on (common random numbers): a what-if difference
is the change, not noise. Replication ``r`` uses an independent child of the
run's seed sequence, so replications are independent of each other and
replication 0 of a multi-replication run is not the plain single run (which
would correlate it with other runs of the same seed).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: The streams, in the fixed order they are spawned. Add new names at the
#: end only: inserting one would change every stream after it.
STREAM_NAMES: tuple[str, ...] = (
    "arrivals",
    "order_lines",
    "customers",
    "payments",
    "allocation",
    "picking",
    "packing",
    "transit",
    "returns",
    "feedback",
    "replenishment",
    "catalogue",
    "layout",
    "repeat_customers",
    "cancellations",
)


@dataclass
class Streams:
    """A family of named :class:`numpy.random.Generator` objects.

    Parameters
    ----------
    seed
        The run's seed (a non-negative integer).
    replication
        Which replication; each gets independent streams.

    Examples
    --------
    >>> s = Streams(42)
    >>> a = s["arrivals"].random()
    >>> Streams(42)["arrivals"].random() == a
    True
    """

    seed: int
    replication: int | None = None
    _generators: dict[str, np.random.Generator] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if int(self.seed) < 0:
            raise ValueError("seed must be a non-negative integer")
        root = np.random.SeedSequence(int(self.seed))
        if self.replication is not None:
            # spawn_key makes replication r a deterministic, independent child.
            root = np.random.SeedSequence(int(self.seed), spawn_key=(1_000_003, int(self.replication)))
        children = root.spawn(len(STREAM_NAMES))
        self._generators = {
            name: np.random.Generator(np.random.PCG64(child))
            for name, child in zip(STREAM_NAMES, children)
        }

    def __getitem__(self, name: str) -> np.random.Generator:
        try:
            return self._generators[name]
        except KeyError:
            raise KeyError(f"unknown random stream {name!r}; known: {', '.join(STREAM_NAMES)}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._generators

    def names(self) -> tuple[str, ...]:
        """The stream names, in spawn order."""
        return STREAM_NAMES

    def spawn(self, name: str, n: int) -> list[np.random.Generator]:
        """``n`` independent generators derived from stream ``name`` (e.g. one per node)."""
        rep = 0 if self.replication is None else int(self.replication) + 1
        ss = np.random.SeedSequence(int(self.seed), spawn_key=(7_919 + STREAM_NAMES.index(name), rep))
        return [np.random.Generator(np.random.PCG64(c)) for c in ss.spawn(n)]
