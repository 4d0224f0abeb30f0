"""Writes a trained checkpoint as a whisper.cpp ggml model file, and reads one back.

    python models/asr-synth/export.py [$ASR_WORK/best.pt|MODEL.bin] models/asr-synth/ggml-callsense-synth-en-q8_0.bin [--ftype q8_0|f16]
        [--average OTHER.pt|OTHER.bin ...]

`--average` writes the uniform mean of the checkpoint's weights and those of
the other checkpoints or exported model files (weight averaging of models that
share a starting point, e.g. the last checkpoints of one run, or a run and the
model it was continued from).

File layout (whisper.cpp `whisper_model_load`, legacy ggml):
  magic 'ggml'; 11 int32 hparams (n_vocab, n_audio_ctx, n_audio_state,
  n_audio_head, n_audio_layer, n_text_ctx, n_text_state, n_text_head,
  n_text_layer, n_mels, ftype); the mel filterbank (n_mel, n_fft/2+1, f32) the
  model was trained with; the vocabulary (count, then length + raw bytes per
  token; whisper.cpp names the ids the file does not list); then each tensor
  (n_dims, name length, type, dims innermost first, name, data).
Types follow the loader: 2-D weights in `ftype` (f16, or q8_0 blocks of 32
with an f16 scale), convolution kernels f16, everything else f32.
"""
from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import model as m  # noqa: E402
from tokenizer import BYTE_ORDER, Bpe  # noqa: E402

BYTE_IDS = {b: i for i, b in enumerate(BYTE_ORDER)}

HPARAMS = ["n_vocab", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer", "n_text_ctx",
           "n_text_state", "n_text_head", "n_text_layer", "n_mels"]
GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8
GGML_MAGIC = 0x67676D6C  # "ggml", as whisper.cpp reads it (a little-endian int)
FTYPE = {"f16": 1, "q8_0": 7}  # ggml_ftype: MOSTLY_F16, MOSTLY_Q8_0
QNT_VERSION = 2
F32_TENSORS = {"encoder.conv1.bias", "encoder.conv2.bias", "encoder.positional_embedding",
               "decoder.positional_embedding"}


def full_vocab_state(sd: dict, n_text: int, lang: str = "en") -> dict:
    """Compact embedding -> the n_vocab rows whisper.cpp scores (51864 English-only, 51865
    multilingual); unused rows get logit UNUSED_LOGIT."""
    sd = dict(sd)
    compact = sd["decoder.token_embedding.weight"].float()
    d = compact.shape[1]
    full = torch.zeros(m.LANGS[lang].n_vocab, d)
    full[:, 0] = m.UNUSED_LOGIT
    full[m.whisper_ids(n_text, lang)] = compact
    sd["decoder.token_embedding.weight"] = full
    return sd


def q8_0(x: np.ndarray) -> bytes:
    rows = x.reshape(-1, 32).astype(np.float32)
    amax = np.abs(rows).max(axis=1)
    d = (amax / 127.0).astype(np.float16)
    inv = np.where(d.astype(np.float32) > 0, 1.0 / np.maximum(d.astype(np.float32), 1e-30), 0.0)
    q = np.clip(np.round(rows * inv[:, None]), -127, 127).astype(np.int8)
    out = np.empty(len(rows), dtype=[("d", "<f2"), ("qs", "i1", 32)])
    out["d"] = d
    out["qs"] = q
    return out.tobytes()


def write_ggml(sd: dict, dims: dict, bpe: Bpe, out: Path, ftype: str = "q8_0", lang: str = "en"):
    if dims["n_vocab"] != m.LANGS[lang].n_vocab:
        raise SystemExit(f"dims n_vocab {dims['n_vocab']} is not {lang}'s {m.LANGS[lang].n_vocab}")
    sd = full_vocab_state({k: v for k, v in sd.items() if not k.startswith("ctc.")}, bpe.n_text, lang)
    with open(out, "wb") as f:
        f.write(struct.pack("<i", GGML_MAGIC))
        for k in HPARAMS:
            f.write(struct.pack("<i", dims[k]))
        f.write(struct.pack("<i", FTYPE[ftype] + (QNT_VERSION * 1000 if ftype == "q8_0" else 0)))
        fb = m.mel_filters()
        f.write(struct.pack("<ii", *fb.shape))
        f.write(fb.astype("<f4").tobytes())
        vocab = bpe.vocab_bytes()
        f.write(struct.pack("<i", len(vocab)))
        for b in vocab:
            f.write(struct.pack("<i", len(b)))
            f.write(b)
        for name, t in sd.items():
            a = t.detach().float().cpu().numpy()
            if name in ("encoder.conv1.bias", "encoder.conv2.bias"):
                a = a.reshape(a.shape[0], 1)
            if a.ndim == 3:
                ttype = GGML_F16  # conv kernels
            elif a.ndim < 2 or name in F32_TENSORS:
                ttype = GGML_F32
            else:
                ttype = GGML_Q8_0 if ftype == "q8_0" else GGML_F16
            nb = name.encode()
            f.write(struct.pack("<iii", a.ndim, len(nb), ttype))
            for i in range(a.ndim):
                f.write(struct.pack("<i", a.shape[a.ndim - 1 - i]))
            f.write(nb)
            if ttype == GGML_F32:
                f.write(a.astype("<f4").tobytes())
            elif ttype == GGML_F16:
                f.write(a.astype("<f2").tobytes())
            else:
                f.write(q8_0(a))


def read_ggml(path: Path, n_text: int, lang: str = "en") -> dict:
    """A model file -> the compact state dict train.py uses (for --init-ggml)."""
    hp, sd = read_tensors(path)
    if m.lang_of_vocab(hp[0]) != lang:
        raise SystemExit(f"{path}: a {m.lang_of_vocab(hp[0])} model (n_vocab {hp[0]}), not {lang}")
    full = sd["decoder.token_embedding.weight"]
    sd["decoder.token_embedding.weight"] = full[m.whisper_ids(n_text, lang)].clone()
    return sd


def read_ggml_transfer(path: Path, fresh_embedding: torch.Tensor, lang: str) -> dict:
    """Another language's model file -> a state dict for a `lang` model
    (train.py --transfer-from): the encoder and the decoder's blocks, positions
    and final norm as they are; of the token embedding only the rows of the
    special tokens both languages have (eot, sot, notimestamps, nosp), copied
    into `fresh_embedding` (the new model's own, freshly initialised) whose
    text and language rows stay as they are."""
    hp, sd = read_tensors(path)
    src = m.lang_of_vocab(hp[0])
    if src == lang:
        raise SystemExit(f"{path}: already a {lang} model: use --init-ggml")
    full, emb = sd["decoder.token_embedding.weight"], fresh_embedding.detach().clone()
    if full.shape[1] != emb.shape[1]:
        raise SystemExit(f"{path}: width {full.shape[1]}, the {lang} model's is {emb.shape[1]}")
    S, D = m.LANGS[src], m.LANGS[lang]
    n_text = emb.shape[0] - 4 - len(D.extra)
    for k, (s_id, d_id) in enumerate(zip((S.eot, S.sot, S.notimestamps, S.nosp),
                                         (D.eot, D.sot, D.notimestamps, D.nosp))):
        assert m.whisper_ids(n_text, lang)[n_text + k] == d_id
        emb[n_text + k] = full[s_id]
    sd["decoder.token_embedding.weight"] = emb
    return sd


def read_tensors(path: Path) -> tuple[tuple, dict]:
    """All tensors of a ggml model file as float32 (hparams, {name: tensor})."""
    data = path.read_bytes()
    if len(data) < 48 or struct.unpack_from("<I", data)[0] != GGML_MAGIC:
        raise SystemExit(f"{path}: not a ggml model file")
    hp = struct.unpack_from("<11i", data, 4)
    pos = 4 + 44
    n_mel, n_fft = struct.unpack_from("<ii", data, pos)
    pos += 8 + n_mel * n_fft * 4
    (nv,) = struct.unpack_from("<i", data, pos)
    pos += 4
    for _ in range(nv):
        (ln,) = struct.unpack_from("<i", data, pos)
        pos += 4 + ln
    out = {}
    while pos < len(data):
        nd, ln, tt = struct.unpack_from("<iii", data, pos)
        pos += 12
        shape = struct.unpack_from(f"<{nd}i", data, pos)[::-1]
        pos += 4 * nd
        name = data[pos:pos + ln].decode()
        pos += ln
        n = int(np.prod(shape))
        if tt == GGML_F32:
            a = np.frombuffer(data, "<f4", n, pos).copy()
            pos += 4 * n
        elif tt == GGML_F16:
            a = np.frombuffer(data, "<f2", n, pos).astype(np.float32)
            pos += 2 * n
        elif tt == GGML_Q8_0:
            blocks = np.frombuffer(data, dtype=[("d", "<f2"), ("qs", "i1", 32)], count=n // 32, offset=pos)
            a = (blocks["qs"].astype(np.float32) * blocks["d"].astype(np.float32)[:, None]).reshape(-1)
            pos += 34 * (n // 32)
        else:
            raise ValueError(f"{name}: tensor type {tt} not supported")
        t = torch.from_numpy(a.reshape(shape))
        if name in ("encoder.conv1.bias", "encoder.conv2.bias"):
            t = t.reshape(-1)
        out[name] = t
    return hp, out


@torch.no_grad()
def init_from_byte_model(net, path: Path, bpe: Bpe):
    """Fills `net` from a byte-token English model of the same width (the
    spike): shared layers copied, extra encoder/decoder layers made identity
    (zero output projections), byte embeddings copied (ids 0-255 are the same
    bytes in both), each merge's embedding the mean of its bytes'."""
    _, src = read_tensors(path)
    own = net.state_dict()
    for k, v in src.items():
        if k == "decoder.token_embedding.weight":
            continue
        if k in own:
            if k == "decoder.positional_embedding":
                v = v[:own[k].shape[0]]
            own[k].copy_(v)
    for stack in (net.encoder.blocks, net.decoder.blocks):
        for i, b in enumerate(stack):
            prefix = ("encoder" if stack is net.encoder.blocks else "decoder") + f".blocks.{i}."
            if not any(k.startswith(prefix) for k in src):
                for lin in [b.attn.out, b.mlp[2]] + ([b.cross_attn.out] if b.cross_attn is not None else []):
                    lin.weight.zero_()
                    lin.bias.zero_()
    te = src["decoder.token_embedding.weight"]
    emb = net.decoder.token_embedding.weight
    emb[:256] = te[:256]
    for i in range(256, bpe.n_text):
        emb[i] = te[[b2 for b2 in (BYTE_IDS[b] for b in bpe.token_bytes(i))]].mean(0)
    emb[net.eot], emb[net.sot], emb[net.notimestamps], emb[net.nosp] = te[m.EOT], te[m.SOT], te[m.NOT], te[m.NOSP]
    net.decoder.pin_bias_dim()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", help="a train.py checkpoint (.pt) or an exported model file (.bin)")
    ap.add_argument("out")
    ap.add_argument("--ftype", choices=sorted(FTYPE), default="q8_0")
    ap.add_argument("--average", nargs="+", default=[], metavar="MODEL",
                    help="average the weights with these checkpoints (.pt) or model files (.bin)")
    a = ap.parse_args()
    src = Path(a.checkpoint)
    if src.suffix not in (".pt", ".bin"):
        ap.error(f"{src}: give a train.py checkpoint (.pt) or an exported model file (.bin)")
    if src.suffix == ".bin":  # an exported model file (e.g. to average two runs' exports)
        with open(src, "rb") as f:
            head = f.read(8)
        if len(head) < 8 or struct.unpack("<I", head[:4])[0] != GGML_MAGIC:
            raise SystemExit(f"{src}: not a ggml model file")
        lang = m.lang_of_vocab(struct.unpack("<i", head[4:])[0])
        bpe = Bpe(HERE / m.LANGS[lang].tokenizer)
        c = dict(model=read_ggml(src, bpe.n_text, lang), dims=m.dims_for(lang), n_text=bpe.n_text,
                 state=dict(step="of " + src.name))
    else:
        c = torch.load(src, map_location="cpu", weights_only=False)
        lang = c.get("lang", "en")  # checkpoints from before the Mandarin model are English
        bpe = Bpe(HERE / m.LANGS[lang].tokenizer)
    if c["n_text"] != bpe.n_text:
        raise SystemExit(f"{a.checkpoint}: {c['n_text']} text tokens, {m.LANGS[lang].tokenizer} has {bpe.n_text}")
    sd = c["model"]
    if a.average:
        sd = average([sd] + [load_weights(Path(p), bpe.n_text, lang) for p in a.average], a.average)
    write_ggml(sd, c["dims"], bpe, Path(a.out), a.ftype, lang)
    print(f"wrote {a.out} ({Path(a.out).stat().st_size / 1e6:.1f} MB, {a.ftype}, step {c['state']['step']}"
          + (f", averaged with {len(a.average)} more" if a.average else "") + ")")


def load_weights(path: Path, n_text: int, lang: str = "en") -> dict:
    """A checkpoint's or an exported model's weights as train.py's compact state dict."""
    if path.suffix == ".pt":
        c = torch.load(path, map_location="cpu", weights_only=False)
        if c["n_text"] != n_text or c.get("lang", "en") != lang:
            raise SystemExit(f"{path}: a {c.get('lang', 'en')} checkpoint with {c['n_text']} text tokens, "
                             f"not {lang} with {n_text}")
        return c["model"]
    return read_ggml(path, n_text, lang)


def average(sds: list, names: list) -> dict:
    """Uniform mean of the tensors all of them have; the first state dict's others are kept as they are."""
    out = {}
    for k, v in sds[0].items():
        others = [sd.get(k) for sd in sds[1:]]
        if not v.is_floating_point() or any(o is None for o in others):
            out[k] = v  # training-only (the CTC head): model files do not have it, and the export drops it
            continue
        for name, o in zip(names, others):
            if o.shape != v.shape:
                raise SystemExit(f"{name}: tensor {k} is {tuple(o.shape)}, the checkpoint's is {tuple(v.shape)}")
        out[k] = torch.stack([v.float()] + [o.float().to(v.device) for o in others]).mean(0).to(v.dtype)
    return out


if __name__ == "__main__":
    main()
