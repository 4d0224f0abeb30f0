"""Word and character error rates over normalised text (lower case, words and
apostrophes only), the way the model card and the engine test score.

Chinese has no spaces between words: each Chinese character is a token of its
own, so the "WER" of Mandarin text is its character error rate, the usual
figure for Mandarin recognisers."""
from __future__ import annotations

import re

_TOKEN = re.compile(r"[\u4e00-\u9fff]|[a-z0-9']+")


def norm_words(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def edits(a, b) -> int:
    d = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, y in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (x != y))
    return d[len(b)]


def align(ref: list[str], hyp: list[str]) -> list[tuple[int, bool]]:
    """The edit operations of `edits(ref, hyp)`, in order: (ref index, is an
    error) for each; an insertion carries the index of the reference word
    before it (0 at the start). Keeps the whole table: O(len(ref) x len(hyp))
    memory, fine for one call's channel (a few thousand words)."""
    n, m = len(ref), len(hyp)
    d = [list(range(m + 1))] + [[i] + [0] * m for i in range(1, n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]))
    i, j, ops = n, m, []
    while i or j:
        if i and j and d[i][j] == d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            ops.append((i - 1, ref[i - 1] != hyp[j - 1]))
            i, j = i - 1, j - 1
        elif i and d[i][j] == d[i - 1][j] + 1:
            ops.append((i - 1, True))
            i -= 1
        else:
            ops.append((max(0, i - 1), True))
            j -= 1
    return ops[::-1]


def wer(refs: list[str], hyps: list[str]) -> float:
    e = sum(edits(norm_words(r), norm_words(h)) for r, h in zip(refs, hyps))
    return e / max(1, sum(len(norm_words(r)) for r in refs))


def cer(refs: list[str], hyps: list[str]) -> float:
    e = sum(edits(" ".join(norm_words(r)), " ".join(norm_words(h))) for r, h in zip(refs, hyps))
    return e / max(1, sum(len(" ".join(norm_words(r))) for r in refs))
