"""The model's own byte-level BPE, in Whisper's token conventions.

Ids 0-255 are the 256 single bytes in GPT-2's order (so " " is 220 and every
string is encodable), ids 256.. are merges learnt from the training
sentences. Text is encoded with a leading space, as Whisper's transcripts
begin. `vocab_bytes()` is what export.py writes into the ggml file (raw
bytes per id), so whisper.cpp turns ids back into the same text.

    python models/asr-synth/tokenizer.py --size 1536   # trains on $ASR_WORK/sentences-train.txt
    python models/asr-synth/tokenizer.py --lang zh --size 4000   # the Mandarin model's, tokenizer-zh.json
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

HERE = Path(__file__).resolve().parent
DEFAULT_PATH = HERE / "tokenizer.json"


def _gpt2_bytes() -> list[int]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    return bs + [b for b in range(256) if b not in bs]


def _byte_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table (what byte-level BPE strings are made of)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


B2U = _byte_to_unicode()
U2B = {u: b for b, u in B2U.items()}
BYTE_ORDER = _gpt2_bytes()


class Bpe:
    def __init__(self, path: Path = DEFAULT_PATH):
        self.tok = Tokenizer.from_file(str(path))
        hf_vocab = self.tok.get_vocab()  # piece -> hf id
        pieces = sorted(hf_vocab, key=lambda p: hf_vocab[p])
        singles = {B2U[b]: i for i, b in enumerate(BYTE_ORDER)}
        merges = [p for p in pieces if p not in singles]
        self.piece_to_id = dict(singles)
        for i, p in enumerate(merges):
            self.piece_to_id[p] = 256 + i
        self.id_to_piece = {i: p for p, i in self.piece_to_id.items()}
        self.n_text = len(self.piece_to_id)

    def encode(self, text: str) -> list[int]:
        return [self.piece_to_id[p] for p in self.tok.encode(" " + text.strip()).tokens]

    def token_bytes(self, i: int) -> bytes:
        return bytes(U2B[c] for c in self.id_to_piece[i])

    def decode(self, ids: list[int]) -> str:
        return b"".join(self.token_bytes(i) for i in ids if i < self.n_text).decode("utf-8", "replace").strip()

    def vocab_bytes(self) -> list[bytes]:
        return [self.token_bytes(i) for i in range(self.n_text)]


def train(sentences: list[str], size: int, path: Path = DEFAULT_PATH) -> Bpe:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=size, min_frequency=3, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    tok.train_from_iterator((" " + s for s in sentences), trainer)
    tok.save(str(path))
    return Bpe(path)


SAMPLE = {"en": "I want to cancel my account this is the third time it broke.",
          "zh": "我要注销我的账户这已经是第三次坏了"}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1536)
    ap.add_argument("--lang", choices=sorted(SAMPLE), default="en",
                    help="en: tokenizer.json; zh: tokenizer-zh.json (the Mandarin model's)")
    a = ap.parse_args()
    work = Path(os.environ.get("ASR_WORK", "/tmp/asr-synth"))
    sents = (work / "sentences-train.txt").read_text().split("\n")
    path = HERE / ("tokenizer.json" if a.lang == "en" else f"tokenizer-{a.lang}.json")
    bpe = train([s for s in sents if s], a.size, path)
    lens = [len(bpe.encode(s)) for s in sents if s]
    print(json.dumps(dict(path=path.name, n_text=bpe.n_text, mean_tokens=sum(lens) / len(lens),
                          max_tokens=max(lens))))
    s = SAMPLE[a.lang]
    ids = bpe.encode(s)
    print(ids, repr(bpe.decode(ids)))
    assert bpe.decode(ids) == s
