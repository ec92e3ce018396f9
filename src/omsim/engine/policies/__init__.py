"""The allocation policies, one module each: nearest, cheapest, lookahead, batch."""
