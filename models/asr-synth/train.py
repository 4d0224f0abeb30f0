"""Trains the synthetic-speech Whisper-architecture model. Resumable.

    python models/asr-synth/train.py --minutes 120 [--threads 2] [--device cpu|cuda]

Reads the shards synth.py wrote under $ASR_WORK (default /tmp/asr-synth) and
models/asr-synth/tokenizer.json (with `--lang zh`, the Mandarin model's
shards and tokenizer-zh.json). Every `--ckpt-min` minutes the whole state
(weights, optimiser, schedule position, random state) is written atomically
to $ASR_WORK/ckpt.pt; running the command again continues from it. With
`--init-ggml FILE` a fresh run starts from the weights of an exported model
(the committed one), so training can go on in another session or machine
whose $ASR_WORK is empty.

Every `--eval-min` minutes a fixed sample of held-out clips (held-out
sentences, held-out voices, through the channel with a fixed seed) is
decoded greedily and its WER/CER logged to $ASR_WORK/train_log.jsonl; the
best-scoring weights are kept in $ASR_WORK/best.pt for export.py.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import channel  # noqa: E402
import model as m  # noqa: E402
from tokenizer import Bpe  # noqa: E402
from wer import cer, wer  # noqa: E402


loaded: set[str] = set()


def load_split(work: Path, split: str, lang: str, skip=(), only_voices=(), with_voices=False):
    """Clips and texts (and with `with_voices` the espeak-ng voice, accent and
    variant, of each) of the finished shards of a split (those not in
    `skip`), optionally only those spoken by the espeak-ng voices
    `only_voices`."""
    clips, texts, voices = [], [], []
    for p in sorted(work.glob(f"{split}-*.npz")):
        if p.name.endswith(".tmp.npz") or p.name in skip:
            continue
        z = np.load(p)
        spoken = json.loads(str(z["settings"][0])).get("lang", "en") if len(z["settings"]) else "en"
        if spoken != lang:  # every shard read must be of the language being trained
            raise SystemExit(f"{p}: {spoken} speech, training a {lang} model: use another $ASR_WORK")
        a, off = z["audio"], z["offsets"]
        clips += [a[off[i]:off[i + 1]] for i in range(len(off) - 1)]
        texts += [str(t) for t in z["texts"]]
        voices += [json.loads(str(v))["voice"] for v in z["settings"]]
        loaded.add(p.name)
    if only_voices:
        keep = [i for i, v in enumerate(voices) if v.split("+")[0] in only_voices]
        clips, texts, voices = [clips[i] for i in keep], [texts[i] for i in keep], [voices[i] for i in keep]
    return (clips, texts, voices) if with_voices else (clips, texts)


JOIN_PAUSE = (800, 4800)  # samples at 8 kHz between joined clips: 0.1-0.6 s


def join_units(lengths, voices, share: float, max_samples: int, rng: random.Random) -> list[tuple[int, ...]]:
    """One epoch's training items: every clip once, alone or, for a `share`
    of the items, joined with one or two more clips of the same voice
    (accent and variant) into one longer utterance of at most `max_samples`
    (8 kHz, pauses counted at their longest). Training clips are mostly
    short (median 3 s, 1 % over 10 s), while callers speak for up to the
    engine's 15-second utterance limit: joined clips teach long alignments."""
    by_voice: dict[str, list[int]] = {}
    for i, v in enumerate(voices):
        by_voice.setdefault(v, []).append(i)
    units = []
    for group in by_voice.values():
        rng.shuffle(group)
        k = 0
        while k < len(group):
            n = rng.choice((2, 3)) if rng.random() < share else 1
            unit = [group[k]]
            total = lengths[group[k]]
            for j in group[k + 1:k + n]:
                if total + JOIN_PAUSE[1] + lengths[j] > max_samples:
                    break
                unit.append(j)
                total += JOIN_PAUSE[1] + lengths[j]
            units.append(tuple(unit))
            k += len(unit)
    return units


def batches(lengths, max_audio_s: float, max_items: int, rng: random.Random, max_clip_s=None, voices=None,
            join_share: float = 0.0, join_max_s: float = 15.0):
    """Length-bucketed batches holding at most max_audio_s of (padded) audio;
    only clips up to max_clip_s(step) seconds long (the length curriculum).
    Items are tuples of clip indices: one clip, or with `join_share` and
    `voices` clips joined into one utterance (`join_units`)."""
    while True:
        limit = max_clip_s() if max_clip_s else float("inf")
        if join_share and voices:
            units = join_units(lengths, voices, join_share, int(join_max_s * 8000), rng)
        else:
            units = [(i,) for i in range(len(lengths))]
        size = {u: sum(lengths[i] for i in u) + JOIN_PAUSE[1] * (len(u) - 1) for u in units}
        pool = [u for u in units if size[u] <= limit * 8000]
        idx = sorted(pool, key=lambda u: size[u] * (1 + 0.1 * rng.random()))
        out, cur = [], []
        for u in idx:
            longest = max([size[j] for j in cur] + [size[u]]) / 8000 + 1.0
            if cur and (longest * (len(cur) + 1) > max_audio_s or len(cur) >= max_items):
                out.append(cur)
                cur = []
            cur.append(u)
        if cur:
            out.append(cur)
        rng.shuffle(out)
        if max_clip_s and limit != float("inf"):
            out = out[:max(1, len(out) // 8)]  # re-read the limit often while it grows
        yield from out


def spec_augment(mel: torch.Tensor, g: torch.Generator, max_f: int = 8, max_t: int = 7,
                 per_clip: bool = False) -> torch.Tensor:
    """Two frequency masks of 0..max_f mel bins and two time masks of
    0..max_t frames, set to the batch's floor; the same for the whole batch,
    or with `per_clip` drawn for each clip."""
    b, f, t = mel.shape
    n = b if per_clip else 1

    def bands(size: int, widest: int) -> torch.Tensor:  # [n, size]: inside one of two random bands
        w = torch.randint(0, widest + 1, (n, 2), generator=g)
        start = (torch.rand(n, 2, generator=g) * (size - w + 1).clamp(min=1)).long()
        # drawn on the CPU generator, built where the features are: on a GPU run the
        # [batch, 80, frames] masks cost ~15 ms of the training process's CPU per step (run Q's profile)
        w, start = w.to(mel.device), start.to(mel.device)
        pos = torch.arange(size, device=mel.device)
        return ((pos >= start[..., None]) & (pos < (start + w)[..., None])).any(1)

    mask = bands(f, max_f)[:, :, None] | bands(t, max_t)[:, None, :]
    floor = mel.amin(dim=(1, 2), keepdim=True)
    return torch.where(mask, floor, mel)


def make_batch(net, bpe, clips, texts, idx, nrng: np.random.Generator, noise_frac: float, clean=False,
               margin=None, raw=False):
    """`net` supplies the special token ids (the model or a `TokenIds`).
    With `raw`, the first item is the zero-padded 16 kHz audio [B, frames *
    160] and the features are left to `model.log_mel_batch` (on the
    accelerator)."""
    audio, seqs, chars = [], [], []
    for unit in idx:
        unit = (unit,) if isinstance(unit, (int, np.integer)) else unit
        if not clean and nrng.random() < noise_frac:
            audio.append(channel.noise_only(nrng))
            seqs.append(None)
            chars.append([])
            continue
        clip, text = clips[unit[0]], texts[unit[0]]
        if len(unit) > 1:  # joined clips: one utterance, one channel draw
            parts = [clips[unit[0]]]
            for j in unit[1:]:
                parts += [np.zeros(int(nrng.integers(JOIN_PAUSE[0], JOIN_PAUSE[1] + 1)), np.int16), clips[j]]
            clip, text = np.concatenate(parts), " ".join(texts[j] for j in unit)
        audio.append(channel.telephone(clip, nrng, clean=clean))
        seqs.append(bpe.encode(text))
        chars.append(m.ctc_targets(text, net.lang.code))
    if margin is None:
        margin = int(nrng.integers(0, 17))
    frames = 2 * max(channel.positions(len(a), margin) for a in audio)
    if raw:
        mel = torch.zeros(len(audio), frames * m.HOP)
        for r, x in enumerate(audio):
            n = min(len(x), frames * m.HOP)
            mel[r, :n] = torch.from_numpy(x[:n])
    else:
        mel = torch.stack([m.log_mel(torch.from_numpy(a), frames) for a in audio])
    prompt = net.prompt
    k = len(prompt)
    full = [prompt + (s + [net.eot] if s is not None else [net.nosp]) for s in seqs]
    n = max(len(s) for s in full) - 1
    tok = torch.full((len(full), n), net.eot, dtype=torch.long)
    tgt = torch.full((len(full), n), -100, dtype=torch.long)
    for r, s in enumerate(full):
        tok[r, :len(s) - 1] = torch.tensor(s[:-1])
        tgt[r, k - 1:len(s) - 1] = torch.tensor(s[k:])  # predict from the position of <|notimestamps|> on
        if net.lang.multilingual:
            tgt[r, 0] = s[1]  # the language token after sot: what whisper.cpp's language detection reads
    return mel, tok, tgt, chars


class TokenIds:
    """The compact special-token ids of a model, without the model (for data workers)."""

    def __init__(self, net):
        self.sot, self.notimestamps, self.eot, self.nosp = net.sot, net.notimestamps, net.eot, net.nosp
        self.prompt, self.lang = net.prompt, net.lang


class Batches(torch.utils.data.IterableDataset):
    """Training batches built in DataLoader worker processes: each worker
    draws its own length-bucketed batches (its own seed) and runs the channel;
    the training process turns the audio into features on its device."""

    def __init__(self, ids, bpe, clips, texts, voices, a, seed):
        self.ids, self.bpe, self.clips, self.texts, self.a, self.seed = ids, bpe, clips, texts, a, seed
        self.voices = voices
        self.lengths = [len(c) for c in clips]

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        wid = info.id if info else 0
        torch.set_num_threads(1)
        rng = random.Random(self.seed * 1000 + wid)
        nrng = np.random.default_rng(self.seed * 1000 + wid)
        for idx in batches(self.lengths, self.a.max_audio_s, self.a.max_items, rng, voices=self.voices,
                           join_share=self.a.join_share, join_max_s=self.a.join_max_s):
            yield make_batch(self.ids, self.bpe, self.clips, self.texts, idx, nrng, self.a.noise_frac, raw=True)


def evaluate(net, bpe, clips, texts, n=120, device="cpu"):
    net.eval()
    rng = np.random.default_rng(1234)
    order = list(range(len(clips)))
    random.Random(99).shuffle(order)
    order = sorted(order[:n], key=lambda i: len(clips[i]))
    hyps, refs = [], []
    for k in range(0, len(order), 16):
        idx = order[k:k + 16]
        mel, _, _, _ = make_batch(net, bpe, clips, texts, idx, rng, 0.0, margin=8)
        for ids in net.greedy(mel.to(device)):
            hyps.append(bpe.decode(ids))
        refs += [texts[i] for i in idx]
    net.train()
    return wer(refs, hyps), cer(refs, hyps), list(zip(refs, hyps))


def ctc_loss(ctc_logits, chars, blank: int):
    """CTC of the encoder frames against the letters of each text (blank last)."""
    lp = ctc_logits.float().log_softmax(-1).transpose(0, 1)  # [T, B, C]
    lens = torch.tensor([len(x) for x in chars])
    flat = torch.tensor([c for x in chars for c in x], dtype=torch.long, device=lp.device)
    t = torch.full((lp.shape[1],), lp.shape[0], dtype=torch.long)
    return F.ctc_loss(lp, flat, t, lens, blank=blank, zero_infinity=True)


def lr_at(step, peak, warm, total, floor=0.05):
    if step < warm:
        return peak * (step + 1) / warm
    p = min(1.0, (step - warm) / max(1, total - warm))
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * p)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=60,
                    help="the run's training time in all: a resumed run stops (and its learning-rate "
                         "cosine ends) when its earlier and new training time add up to this")
    ap.add_argument("--total-steps", type=int, default=30_000, help="length of the learning-rate schedule")
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--max-audio-s", type=float, default=90.0, help="padded audio per batch")
    ap.add_argument("--max-items", type=int, default=32)
    ap.add_argument("--noise-frac", type=float, default=0.03)
    ap.add_argument("--curriculum", default="", metavar="FROM_STEP:STEPS:START_S",
                    help="length curriculum: from FROM_STEP, train only on clips up to START_S seconds, "
                         "the limit growing to all clips over STEPS steps (short clips teach the "
                         "cross-attention its alignment)")
    ap.add_argument("--ctc-weight", type=float, default=0.3, help="share of the encoder CTC loss")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=0,
                    help="DataLoader processes building batches (0: in the training process); "
                         "not with --curriculum")
    ap.add_argument("--lr-by-time", action="store_true",
                    help="the cosine decay follows training time (--minutes) instead of --total-steps, "
                         "so a run of fixed length ends at the floor whatever its speed")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--ckpt-min", type=float, default=10)
    ap.add_argument("--eval-min", type=float, default=15)
    ap.add_argument("--keep-ckpts", type=int, default=0, metavar="N",
                    help="also keep the last N checkpoints as ckpt-STEP.pt (for export.py --average)")
    ap.add_argument("--init-ggml", default="", help="start from an exported model's weights")
    ap.add_argument("--transfer-from", default="", metavar="GGML",
                    help="start from another language's exported model: its encoder and decoder blocks, "
                         "with a fresh token embedding but for the shared special tokens (e.g. a zh model "
                         "from the committed English one)")
    ap.add_argument("--init-spike", default="",
                    help="start from a byte-token whisper-format model with d=256 (the feasibility spike, "
                         "ggml-synth-spike-en.bin): its layers fill ours, extra layers start as identity")
    ap.add_argument("--voices", default="", help="train only on these espeak-ng voices (comma-separated, "
                                                 "variants included): a voice curriculum's first stage")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dropout", type=float, default=0.0, help="residual dropout while training")
    ap.add_argument("--profile-at", type=int, default=0, metavar="STEP",
                    help="profile 20 training steps from STEP and print where the time went")
    ap.add_argument("--label-smoothing", type=float, default=0.05)
    ap.add_argument("--specaug-p", type=float, default=0.5, help="share of batches masked (SpecAugment)")
    ap.add_argument("--specaug-f", type=int, default=8, help="widest frequency mask, in mel bins (of 80)")
    ap.add_argument("--specaug-t", type=int, default=7, help="widest time mask, in 10 ms frames")
    ap.add_argument("--specaug-per-clip", action="store_true",
                    help="draw the masks for each clip rather than once for the batch")
    ap.add_argument("--join-share", type=float, default=0.0,
                    help="share of training items made of 2-3 clips of one voice joined into one longer "
                         "utterance (long-utterance training; 0: none)")
    ap.add_argument("--join-max-s", type=float, default=15.0,
                    help="longest joined utterance, seconds (the engine cuts utterances at "
                         "audio.max_utterance_ms, 15 s by default)")
    ap.add_argument("--lang", choices=sorted(m.LANGS), default="en",
                    help="en: the English-only model (tokenizer.json); zh: the Mandarin model, multilingual "
                         "in whisper.cpp's terms (tokenizer-zh.json; shards written by synth.py --lang zh)")
    ap.add_argument("--no-bf16", dest="bf16", action="store_false",
                    help="train in float32 (default: bfloat16 autocast, weights stay float32)")
    a = ap.parse_args()
    if not 0 <= a.specaug_p <= 1 or not 0 <= a.specaug_f <= m.N_MELS or a.specaug_t < 0:
        ap.error(f"SpecAugment: --specaug-p must be within 0..1, --specaug-f within 0..{m.N_MELS} mel bins "
                 "and --specaug-t 0 or more frames")
    if not 0 <= a.join_share <= 1 or not 1 <= a.join_max_s <= 30:
        ap.error("--join-share must be within 0..1 and --join-max-s within 1..30 seconds")
    if a.workers and a.curriculum:
        ap.error("--curriculum needs --workers 0 (workers cannot see the step)")
    torch.set_num_threads(a.threads)
    if a.device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        # cuDNN's attention builds a plan for every new shape (about 20 ms of
        # CPU per call, measured with --profile-at): with variable-length
        # batches that was 80 % of run E's step time. Flash / memory-efficient
        # attention need no plans.
        torch.backends.cuda.enable_cudnn_sdp(False)
    torch.set_flush_denormal(True)
    work = Path(os.environ.get("ASR_WORK", "/tmp/asr-synth"))
    bpe = Bpe(HERE / m.LANGS[a.lang].tokenizer)
    clips, texts, voices = load_split(work, "train", a.lang, only_voices=a.voices.split(",") if a.voices else (),
                                      with_voices=True)
    hclips, htexts = load_split(work, "heldout", a.lang)
    print(f"{len(clips)} training clips ({sum(map(len, clips)) / 8000 / 3600:.1f} h), {len(hclips)} held-out",
          flush=True)
    net = m.Whisper(m.dims_for(a.lang), bpe.n_text, a.lang).to(a.device)
    m.set_dropout(net, a.dropout)
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.01)
    state = dict(step=0, seconds=0.0, best_wer=None, seed=a.seed)
    fresh_ctc_until = 0
    ckpt = work / "ckpt.pt"
    if ckpt.exists():
        c = torch.load(ckpt, map_location=a.device, weights_only=False)
        if c.get("lang", "en") != a.lang or c["n_text"] != bpe.n_text:
            raise SystemExit(f"{ckpt} is a {c.get('lang', 'en')} model with {c['n_text']} text tokens, not "
                             f"{a.lang} with {bpe.n_text}: use another $ASR_WORK")
        sd = {k: v for k, v in c["model"].items() if k not in net.state_dict() or v.shape == net.state_dict()[k].shape}
        missing, _ = net.load_state_dict(sd, strict=False)
        if missing:  # a checkpoint from before a training-only head existed: fresh optimiser
            print(f"new parameters {missing}: optimiser state restarts", flush=True)
        else:
            opt.load_state_dict(c["opt"])
        state = c["state"]
        random.setstate(c["py_rng"])
        print(f"resumed at step {state['step']} ({state['seconds'] / 60:.0f} min trained)", flush=True)
    elif a.init_ggml:
        import export
        net.load_state_dict(export.read_ggml(Path(a.init_ggml), bpe.n_text, a.lang), strict=False)
        # the export has no CTC head: train the fresh one alone for a while
        fresh_ctc_until = state["step"] + 500
        print(f"initialised from {a.init_ggml} (CTC head alone for 500 steps)", flush=True)
    elif a.transfer_from:
        import export
        sd = export.read_ggml_transfer(Path(a.transfer_from), net.decoder.token_embedding.weight, a.lang)
        missing, unexpected = net.load_state_dict(sd, strict=False)
        if unexpected or any(not k.startswith("ctc.") for k in missing):
            raise SystemExit(f"{a.transfer_from}: tensors do not match ({missing}, {unexpected})")
        fresh_ctc_until = state["step"] + 500
        print(f"transferred from {a.transfer_from}: fresh token embedding and CTC head "
              "(CTC head alone for 500 steps)", flush=True)
    elif a.init_spike:
        if a.lang != "en":
            ap.error("--init-spike is the English byte-token spike")
        import export
        export.init_from_byte_model(net, Path(a.init_spike), bpe)
        print(f"initialised from the byte-token model {a.init_spike}", flush=True)
    else:
        random.seed(a.seed)
    base_seconds = state["seconds"]
    lengths = [len(c) for c in clips]
    def max_clip_s():
        if not a.curriculum:
            return float("inf")
        start, steps, first = a.curriculum.split(":")
        k = (state["step"] - int(start)) / int(steps)
        return float("inf") if k >= 1 else float(first) + max(0.0, k) * 10.0

    def make_gen():
        if not a.workers:
            return batches(lengths, a.max_audio_s, a.max_items, random.Random(state["seed"] * 1000 + state["step"]),
                           max_clip_s, voices, a.join_share, a.join_max_s)
        ds = Batches(TokenIds(net), bpe, clips, texts, voices, a, state["seed"] * 1000 + state["step"])
        return iter(torch.utils.data.DataLoader(ds, batch_size=None, num_workers=a.workers, prefetch_factor=4,
                                                pin_memory=a.device.startswith("cuda")))

    gen = make_gen()
    nrng = np.random.default_rng(state["seed"] * 1000 + state["step"])
    trng = torch.Generator().manual_seed(state["step"])
    log = open(work / "train_log.jsonl", "a")
    t_start = time.time()
    t_ckpt = t_eval = t_start
    ema = ema_ctc = None
    run_att = run_ctc = 0.0
    seen = 0
    t_data = t_sync = 0.0

    def save(path):
        tmp = path.with_suffix(".tmp")
        torch.save(dict(model=net.state_dict(), opt=opt.state_dict(), state=state, py_rng=random.getstate(),
                        dims=net.dims, n_text=bpe.n_text, lang=a.lang), tmp)
        os.replace(tmp, path)

    net.train()
    prof = None
    while True:
        if a.profile_at and state["step"] == a.profile_at:
            acts = [torch.profiler.ProfilerActivity.CPU]
            if a.device.startswith("cuda"):
                acts.append(torch.profiler.ProfilerActivity.CUDA)
            prof = torch.profiler.profile(activities=acts)
            prof.__enter__()
        if prof is not None and state["step"] == a.profile_at + 20:
            prof.__exit__(None, None, None)
            for key in ["self_cpu_time_total"] + (["self_cuda_time_total"] if len(acts) > 1 else []):
                print(prof.key_averages().table(sort_by=key, row_limit=15), flush=True)
            prof = None
        t0 = time.time()
        if a.workers:
            audio, tok, tgt, chars = next(gen)
            mel = m.log_mel_batch(audio.to(a.device, non_blocking=True), audio.shape[1] // m.HOP)
        else:
            idx = next(gen)
            mel, tok, tgt, chars = make_batch(net, bpe, clips, texts, idx, nrng, a.noise_frac)
        if torch.rand(1, generator=trng).item() < a.specaug_p:
            mel = spec_augment(mel, trng, a.specaug_f, a.specaug_t, a.specaug_per_clip)
        nb = mel.shape[0]
        mel, tok, tgt = (x.to(a.device, non_blocking=True) for x in (mel, tok, tgt))
        for g in opt.param_groups:
            if a.lr_by_time:
                trained = base_seconds + time.time() - t_start
                g["lr"] = lr_at(min(state["step"], a.warmup), a.lr, a.warmup, a.warmup + 1000)
                if state["step"] >= a.warmup:
                    p = min(1.0, trained / (a.minutes * 60))
                    g["lr"] = a.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p)))
            else:
                g["lr"] = lr_at(state["step"], a.lr, a.warmup, a.total_steps)
        t_data += time.time() - t0
        with torch.autocast(a.device.split(":")[0], dtype=torch.bfloat16, enabled=a.bf16):
            logits, ctc_logits = net(mel, tok, detach_ctc=state["step"] < fresh_ctc_until)
        att = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), tgt.reshape(-1), ignore_index=-100,
                              label_smoothing=a.label_smoothing)
        ctc = ctc_loss(ctc_logits, chars, len(net.lang.ctc_chars))
        loss = (1 - a.ctc_weight) * att + a.ctc_weight * ctc
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        net.decoder.pin_bias_dim()
        state["step"] += 1
        seen += nb
        run_att = run_att + att.detach()  # summed on the device: no sync per step
        run_ctc = run_ctc + ctc.detach()
        if state["step"] % 50 == 0 or ema is None:
            ts = time.time()
            k = 1 if ema is None else 50
            att_m, ctc_m = (run_att / k).item(), (run_ctc / k).item()
            t_sync += time.time() - ts
            run_att = run_ctc = 0.0
            ema = att_m if ema is None else 0.8 * ema + 0.2 * att_m
            ema_ctc = ctc_m if ema_ctc is None else 0.8 * ema_ctc + 0.2 * ctc_m
        now = time.time()
        if state["step"] % 50 == 0:
            el = now - t_start
            print(f"step {state['step']} loss {ema:.3f} ctc {ema_ctc:.3f} lr {opt.param_groups[0]['lr']:.2e} "
                  f"{seen / el:.1f} clips/s batch {nb}x{mel.shape[-1] // 2} data {t_data / el:.0%} "
                  f"sync {t_sync / el:.0%}", flush=True)
        # --minutes is the whole run's training time, also after a resume
        done = ((base_seconds + now - t_start) / 60 >= a.minutes
                or (not a.lr_by_time and state["step"] >= a.total_steps))
        if now - t_eval >= a.eval_min * 60 or done:
            w, c, pairs = evaluate(net, bpe, hclips, htexts, device=a.device)
            state["seconds"] = base_seconds + now - t_start
            rec = dict(step=state["step"], loss=round(ema, 4), wer=round(w, 4), cer=round(c, 4),
                       minutes=round(state["seconds"] / 60, 1), time=time.strftime("%FT%T"))
            print("EVAL", json.dumps(rec), flush=True)
            for r, h in pairs[:3] + pairs[-3:]:
                print(f"   REF {r}\n   HYP {h}", flush=True)
            log.write(json.dumps(rec) + "\n")
            log.flush()
            if state["best_wer"] is None or w <= state["best_wer"]:
                state["best_wer"] = w
                save(work / "best.pt")
            more_c, more_t, more_v = load_split(work, "train", a.lang, skip=set(loaded),
                                                only_voices=a.voices.split(",") if a.voices else (),
                                                with_voices=True)
            if more_c:  # synth.py is still writing shards: take the new ones in
                clips += more_c
                texts += more_t
                voices += more_v
                lengths = [len(c) for c in clips]
                gen = make_gen()
                print(f"now {len(clips)} training clips", flush=True)
            t_eval = time.time()
        if now - t_ckpt >= a.ckpt_min * 60 or done:
            state["seconds"] = base_seconds + now - t_start
            save(ckpt)
            if a.keep_ckpts:  # copies for `export.py --average`: the mean of a run's last checkpoints
                shutil.copyfile(ckpt, work / f"ckpt-{state['step']:07d}.pt")
                for old in sorted(work.glob("ckpt-*.pt"))[:-a.keep_ckpts]:
                    old.unlink()
            t_ckpt = time.time()
        if done:
            break


if __name__ == "__main__":
    main()
