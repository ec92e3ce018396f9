"""Idempotency keys: the same key and body get the stored response; another body under the key is refused.

A request's fingerprint is the SHA-256 of its method, path and canonical JSON
body, so whitespace and key order do not make a retry "different". Failures
are stored too: a retry never changes the outcome (TigerBeetle's rule).
"""
from __future__ import annotations

import hashlib
import json

from omsim.service.problems import Problem, problem_body

__all__ = ["Keys", "fingerprint"]


def fingerprint(method: str, path: str, body) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{text}".encode()).hexdigest()


def check_key(key: str | None) -> str:
    """The ``Idempotency-Key`` header's value, or a 400 problem when missing or unusable."""
    if key is None or not key.strip():
        raise Problem(400, "the Idempotency-Key header is required on every state-changing request",
                      "Idempotency-Key")
    key = key.strip()
    if len(key) > 255:
        raise Problem(400, "Idempotency-Key: at most 255 characters", "Idempotency-Key")
    return key


class Keys:
    """The kept keys in memory (the database holds the same, loaded at start)."""

    def __init__(self, records: dict[str, tuple[str, int, dict]]):
        self._records = dict(records)

    def __len__(self) -> int:
        return len(self._records)

    def lookup(self, key: str, fp: str) -> tuple[int, dict] | None:
        """The stored (status, body) for a replay, a 422 outcome for a different body, None when new."""
        got = self._records.get(key)
        if got is None:
            return None
        if got[0] != fp:
            return 422, problem_body(422, f"Idempotency-Key {key!r} was used with a different request",
                                     "Idempotency-Key")
        return got[1], got[2]

    def add(self, key: str, fp: str, status: int, body: dict) -> None:
        self._records[key] = (fp, status, body)

    def drop(self, keys) -> None:
        for k in keys:
            self._records.pop(k, None)
