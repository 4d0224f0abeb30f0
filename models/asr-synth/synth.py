"""Speaks the corpus with espeak-ng and stores it as 8 kHz telephone-band audio.

    python models/asr-synth/synth.py [--renders 3] [--jobs 2]

Each training sentence is spoken `--renders` times, each time with a random
voice, variant, rate, pitch and word gap drawn from the TRAIN settings, and
each generated sentence (`text.novel_sentences`: new word sequences, so the
decoder learns to listen instead of recalling training sentences) once; each
held-out sentence is spoken once with a HELDOUT voice or variant, never used
in training. The audio is band-limited (a random telephone band inside
200-3600 Hz) and resampled to 8 kHz; the rest of the channel (level, noise,
G.711 round trip, silence, 16 kHz) is applied at training time by
`channel.py`, differently every epoch.

Output under $ASR_WORK (default /tmp/asr-synth): shards
`{split}-{k:04d}.npz` (int16 audio concatenated, offsets, texts, settings).
Existing shards are kept, so an interrupted run resumes where it stopped.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from scipy import signal

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import text  # noqa: E402

SHARD = 2000

# espeak-ng English voices and variants. Held-out speech uses a voice or a
# variant that training never hears. Variants are named by their file in
# espeak-ng-data/voices/!v (case matters: espeak-ng silently speaks an unknown
# variant with the plain voice, so `check_variants` refuses unknown names).
TRAIN_VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-029", "en-us-nyc"]
HELDOUT_VOICES = ["en-gb-x-gbcwmd"]
HELDOUT_VARIANTS = ["m5", "f3", "klatt2", "Lee", "max", "paul", "belinda", "edward2", "iven3", "steph3"]
# every other variant of espeak-ng 1.51 except the two whispering ones ("" is the plain voice)
TRAIN_VARIANTS = [
    "", "Alex", "Alicia", "Andrea", "Andy", "Annie", "AnxiousAndy", "Demonic", "Denis", "Diogo", "Gene", "Gene2",
    "Henrique", "Hugo", "Jacky", "Marco", "Mario", "Michael", "Mike", "Mr serious", "Nguyen", "RicishayMax",
    "RicishayMax2", "RicishayMax3", "Storm", "Tweaky", "UniRobot", "adam", "anika", "anikaRobot", "announcer",
    "antonio", "aunty", "benjamin", "boris", "caleb", "croak", "david", "ed", "edward", "f1", "f2", "f4", "f5",
    "fast", "grandma", "grandpa", "gustave", "iven", "iven2", "iven4", "john", "kaukovalta", "klatt", "klatt3",
    "klatt4", "klatt5", "klatt6", "linda", "m1", "m2", "m3", "m4", "m6", "m7", "m8", "marcelo", "michel", "miguel",
    "norbert", "pablo", "pedro", "quincy", "rob", "robert", "robosoft", "robosoft2", "robosoft3", "robosoft4",
    "robosoft5", "robosoft6", "robosoft7", "robosoft8", "sandro", "shelby", "steph", "steph2", "travis", "victor",
    "zac",
]


def check_variants() -> None:
    """Every variant named above must exist in this espeak-ng."""
    out = subprocess.run([os.environ.get("ESPEAK_NG", "espeak-ng"), "--voices=variant"], check=True,
                         capture_output=True, text=True).stdout
    have = {line.split("!v/", 1)[1].rstrip() for line in out.splitlines() if "!v/" in line}
    have = {h.split("  ")[0] for h in have}
    missing = sorted(v for v in TRAIN_VARIANTS + HELDOUT_VARIANTS if v and v not in have)
    if missing:
        raise SystemExit(f"espeak-ng has no variant(s) {missing}: it would speak them with the plain voice")
    if set(TRAIN_VARIANTS) & set(HELDOUT_VARIANTS):
        raise SystemExit("a variant is both trained on and held out")


def settings(rng: random.Random, heldout: bool) -> dict:
    if heldout:
        if rng.random() < 0.5:
            voice, variant = rng.choice(HELDOUT_VOICES), rng.choice(TRAIN_VARIANTS + HELDOUT_VARIANTS)
        else:
            voice, variant = rng.choice(TRAIN_VOICES + HELDOUT_VOICES), rng.choice(HELDOUT_VARIANTS)
    else:
        voice, variant = rng.choice(TRAIN_VOICES), rng.choice(TRAIN_VARIANTS)
    return dict(voice=voice + (f"+{variant}" if variant else ""), rate=rng.randint(115, 215),
                pitch=rng.randint(10, 90), gap=rng.choice([0, 0, 0, 1, 2, 4]),
                lo=rng.randint(200, 400), hi=rng.randint(3000, 3600))


def speak(sentence: str, s: dict) -> np.ndarray:
    """espeak-ng -> band-limited int16 at 8 kHz."""
    out = subprocess.run([os.environ.get("ESPEAK_NG", "espeak-ng"), "-v", s["voice"], "-s", str(s["rate"]), "-p", str(s["pitch"]),
                          "-g", str(s["gap"]), "--stdout", sentence],
                         check=True, capture_output=True).stdout
    # RIFF header: espeak-ng writes a 44-byte canonical header at 22050 Hz mono s16
    if out[:4] != b"RIFF" or int.from_bytes(out[24:28], "little") != 22050:
        raise RuntimeError(f"unexpected espeak-ng output for {s}")
    x = np.frombuffer(out[44:], dtype=np.int16).astype(np.float32) / 32768.0
    x = signal.resample_poly(x, 160, 441)  # 22050 -> 8000
    sos = signal.butter(4, [s["lo"], s["hi"]], btype="bandpass", fs=8000, output="sos")
    x = signal.sosfilt(sos, x)
    peak = float(np.abs(x).max()) or 1.0
    x = x / peak * 0.7
    return (x * 32767).astype(np.int16)


def _work(args):
    path, items = args
    audio, offsets, texts, sets = [], [0], [], []
    for sentence, s in items:
        a = speak(sentence, s)
        audio.append(a)
        offsets.append(offsets[-1] + len(a))
        texts.append(sentence)
        sets.append(json.dumps(s))
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, audio=np.concatenate(audio), offsets=np.array(offsets, dtype=np.int64),
             texts=np.array(texts), settings=np.array(sets))
    os.replace(tmp, path)
    return path.name, len(items)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--renders", type=int, default=3, help="voicings per training sentence")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=11, help="voice settings and clip order")
    ap.add_argument("--text-seed", type=int, default=13,
                    help="the generated sentences (a new seed gives new walks and word strings for a "
                         "further run from an earlier model; the held-out sentences never change)")
    ap.add_argument("--max-train", type=int, default=60_000, help="training sentences at most")
    ap.add_argument("--novel", type=int, default=40_000,
                    help="generated training sentences (word-trigram walks), spoken once each")
    ap.add_argument("--word-strings", type=int, default=10_000,
                    help="generated strings of random training words, spoken once each")
    ap.add_argument("--sentences", default="", metavar="DIR",
                    help="read sentences-{train,novel,heldout}.txt from DIR (written by an earlier run) instead "
                         "of building the corpus from $CALLSENSE_ASSETS: for a machine without the datasets")
    a = ap.parse_args()
    work = Path(os.environ.get("ASR_WORK", "/tmp/asr-synth"))
    work.mkdir(parents=True, exist_ok=True)
    if a.sentences:
        src = Path(a.sentences)
        train, novel, held = ((src / f"sentences-{s}.txt").read_text().splitlines()
                              for s in ("train", "novel", "heldout"))
    else:
        assets = Path(os.environ.get("CALLSENSE_ASSETS", HERE.parents[2] / "shared/assets"))
        train, held = text.build(assets, max_train=a.max_train)
        novel = text.novel_sentences(train, {text.key(s) for s in train + held}, a.novel, a.word_strings,
                                     seed=a.text_seed)
    for name, sents in (("train", train), ("novel", novel), ("heldout", held)):
        (work / f"sentences-{name}.txt").write_text("\n".join(sents) + "\n")
    check_variants()
    rng = random.Random(a.seed)
    jobs = []
    for split, sents, renders, ho in (("heldout", held, 1, True), ("train", train, a.renders, False)):
        items = [(s, settings(rng, ho)) for _ in range(renders) for s in sents]
        if split == "train":
            items += [(s, settings(rng, False)) for s in novel]
        random.Random(a.seed + 1).shuffle(items)
        for k in range(0, len(items), SHARD):
            p = work / f"{split}-{k // SHARD:04d}.npz"
            if not p.exists():
                jobs.append((p, items[k:k + SHARD]))
    print(f"{len(train)} train, {len(novel)} generated and {len(held)} held-out sentences; "
          f"{len(jobs)} shards to write", flush=True)
    with Pool(a.jobs) as pool:
        for name, n in pool.imap_unordered(_work, jobs):
            print(f"wrote {name} ({n} clips)", flush=True)


if __name__ == "__main__":
    main()
