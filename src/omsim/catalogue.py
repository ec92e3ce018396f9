"""The product catalogue: generated SKUs and their popularity."""
from __future__ import annotations

import numpy as np

from omsim.rng import Streams


def zipf_weights(n: int, skew: float) -> np.ndarray:
    """Popularity of ranks 1..n under a Zipf law with exponent ``skew``, normalised to sum 1."""
    w = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** float(skew)
    return w / w.sum()


def generate_catalogue(gen, seed: int):
    """Materialise a generated catalogue (inputs already validated).

    SKU ``SKU00001`` is the most popular; popularity follows a Zipf law with
    exponent ``gen.popularity_skew``. Prices are log-uniform in
    ``gen.price_range``; unit cost is price x (1 - margin); weight and volume
    are log-uniform in their ranges and correlated (bigger items weigh more).
    The draws come from the ``catalogue`` stream, so the same seed gives the
    same catalogue.
    """
    from omsim.scenario import Sku  # scenario imports this module lazily

    rng = Streams(seed)["catalogue"]
    n = gen.count
    cats = list(gen.categories)
    p = np.array([gen.categories[c] for c in cats], dtype=float)
    cat_idx = rng.choice(len(cats), size=n, p=p / p.sum())

    def loguniform(lo, hi, u):
        lo = max(lo, 1e-6)
        hi = max(hi, lo)
        return np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))

    price = loguniform(*gen.price_range, rng.random(n))
    size_u = rng.random(n)
    weight = loguniform(*gen.weight_kg_range, np.clip(size_u + 0.15 * rng.standard_normal(n), 0, 1))
    volume = loguniform(*gen.volume_l_range, size_u)
    returnable = rng.random(n) >= gen.non_returnable_share
    pop = zipf_weights(n, gen.popularity_skew)
    width = max(5, len(str(n)))
    return [
        Sku(id=f"SKU{i + 1:0{width}d}", weight_kg=round(float(weight[i]), 3), volume_l=round(float(volume[i]), 3),
            price=round(float(price[i]), 2), unit_cost=round(float(price[i]) * (1 - gen.margin), 2),
            category=cats[cat_idx[i]], returnable=bool(returnable[i]), popularity=float(pop[i]))
        for i in range(n)
    ]


def popularity(skus) -> np.ndarray:
    """Demand share per SKU (sums to 1): the given popularity, else uniform."""
    w = np.array([s.popularity if s.popularity is not None else np.nan for s in skus], dtype=float)
    if np.all(np.isnan(w)):
        w = np.ones(len(skus))
    else:
        w = np.where(np.isnan(w), np.nanmean(w), w)
    total = w.sum()
    return w / total if total > 0 else np.full(len(skus), 1.0 / len(skus))


def abc_classes(pop: np.ndarray) -> np.ndarray:
    """ABC class per SKU: 'A' the top 20 % of SKUs by popularity, 'B' the next 30 %, 'C' the rest."""
    n = len(pop)
    order = np.argsort(-pop, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    out = np.full(n, "C", dtype="<U1")
    out[rank < np.ceil(0.2 * n)] = "A"
    out[(rank >= np.ceil(0.2 * n)) & (rank < np.ceil(0.5 * n))] = "B"
    return out
