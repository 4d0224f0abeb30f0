"""Word and character error rates over normalised text (lower case, words and
apostrophes only), the way the model card and the engine test score."""
from __future__ import annotations

import re


def norm_words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


def edits(a, b) -> int:
    d = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, y in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (x != y))
    return d[len(b)]


def wer(refs: list[str], hyps: list[str]) -> float:
    e = sum(edits(norm_words(r), norm_words(h)) for r, h in zip(refs, hyps))
    return e / max(1, sum(len(norm_words(r)) for r in refs))


def cer(refs: list[str], hyps: list[str]) -> float:
    e = sum(edits(" ".join(norm_words(r)), " ".join(norm_words(h))) for r, h in zip(refs, hyps))
    return e / max(1, sum(len(" ".join(norm_words(r))) for r in refs))
