import pytest

from omsim.scenario import scenario_from_dict


def small_scenario(**over):
    """A small two-node scenario that exercises every branch within a few days."""
    raw = {
        "name": "small", "seed": 3,
        "horizon": {"days": 5},
        "catalogue": {"generator": {"count": 40, "categories": {"apparel": 1, "home": 1}}},
        "demand": {
            "orders_per_day": 160,
            "regions": [{"id": "east", "lat": 40.7, "lon": -74.0, "weight": 2},
                        {"id": "west", "lat": 34.0, "lon": -118.2, "weight": 1}],
            "payment": {"failure_rate": 0.05, "retries": 1, "retry_delay_h": 0.5, "retry_success": 0.5},
        },
        "network": {"warehouses": [
            {"id": "E", "lat": 40.6, "lon": -75.5, "pickers": 2, "packers": 1,
             "layout": {"aisles": 6, "cells_per_aisle": 10},
             "stock": {"days_cover": 2, "carry_share": 0.8},
             "replenishment": {"policy": "sS", "lead_time_days": 1, "review_h": 24}},
            {"id": "W", "lat": 34.1, "lon": -117.4, "pickers": 2, "packers": 1,
             "layout": {"aisles": 6, "cells_per_aisle": 10},
             "stock": {"days_cover": 1.5, "carry_share": 0.7},
             "replenishment": {"policy": "rQ", "lead_time_days": 2, "review_h": 12}},
        ]},
        "policies": {"routing": "s-shape", "max_backorder_wait_h": 36, "pick_error_rate": 0.02, "cart_capacity_units": 12},
        "post_sales": {"return_probability": 0.3, "return_delay_days": 0.3, "return_transit_days": 0.3,
                       "inspection_h": 2, "exchange_share": 0.5},
    }
    for path, value in over.items():
        node = raw
        parts = path.split(".")
        for p in parts[:-1]:
            node = node[int(p)] if isinstance(node, list) else node.setdefault(p, {})
        node[parts[-1]] = value
    return scenario_from_dict(raw)


@pytest.fixture
def small():
    return small_scenario
