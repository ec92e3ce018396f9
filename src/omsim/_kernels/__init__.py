"""Compiled kernels: arrays in, arrays out; no domain objects (see DESIGN.md)."""
