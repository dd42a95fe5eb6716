"""Geoparser scores on gold corpora, as defined in ``shared/corpus/geoparsing/README.md``.

- Recognition: a prediction matches a gold toponym when their character spans
  overlap; each gold toponym matches at most one prediction (and each
  prediction at most one gold toponym). Precision, recall, F1.
- Resolution: for matched pairs, the great-circle distance between predicted
  and gold coordinates; accuracy@161 km over matched pairs, and the median
  error. A matched prediction without coordinates counts as a miss (its
  error is infinite).
- End to end: share of all gold toponyms matched and within 161 km.

Pure functions over plain dicts, so predictions from any tool can be scored.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass

from .gazetteer.build import haversine_km

ACCURACY_KM = 161.0


@dataclass
class Scores:
    documents: int = 0
    gold: int = 0
    predicted: int = 0
    matched: int = 0
    within: int = 0  # matched pairs within ACCURACY_KM
    errors_km: list[float] | None = None

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy_161(self) -> float:
        return self.within / self.matched if self.matched else 0.0

    @property
    def median_error_km(self) -> float:
        return statistics.median(self.errors_km) if self.errors_km else 0.0

    @property
    def end_to_end(self) -> float:
        return self.within / self.gold if self.gold else 0.0

    def summary(self) -> dict:
        data = {k: v for k, v in asdict(self).items() if k != "errors_km"}
        data.update(
            precision=round(self.precision, 4), recall=round(self.recall, 4), f1=round(self.f1, 4),
            accuracy_161km=round(self.accuracy_161, 4), median_error_km=round(self.median_error_km, 1),
            end_to_end=round(self.end_to_end, 4),
        )
        return data


@dataclass(frozen=True)
class Pair:
    gold: dict
    predicted: dict
    error_km: float


def match_spans(gold: list[dict], predicted: list[dict]) -> list[tuple[dict, dict]]:
    """One-to-one pairs of overlapping spans, greedily by largest overlap
    (ties: earlier gold, then earlier prediction)."""
    options = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(predicted):
            overlap = min(g["end"], p["end"]) - max(g["start"], p["start"])
            if overlap > 0:
                options.append((-overlap, gi, pi))
    options.sort()
    used_g: set[int] = set()
    used_p: set[int] = set()
    pairs = []
    for _, gi, pi in options:
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        pairs.append((gold[gi], predicted[pi]))
    return pairs


def error_km(gold: dict, predicted: dict) -> float:
    if predicted.get("lat") is None or predicted.get("lon") is None:
        return math.inf
    return haversine_km(gold["lat"], gold["lon"], predicted["lat"], predicted["lon"])


def score_document(gold: list[dict], predicted: list[dict], scores: Scores) -> list[Pair]:
    """Add one document to ``scores``; returns its matched pairs (for error analysis)."""
    pairs = [Pair(g, p, error_km(g, p)) for g, p in match_spans(gold, predicted)]
    scores.documents += 1
    scores.gold += len(gold)
    scores.predicted += len(predicted)
    scores.matched += len(pairs)
    scores.within += sum(1 for pair in pairs if pair.error_km <= ACCURACY_KM)
    if scores.errors_km is None:
        scores.errors_km = []
    scores.errors_km.extend(pair.error_km for pair in pairs)
    return pairs
