"""Speaks the corpus with espeak-ng and stores it as 8 kHz telephone-band audio.

    python models/asr-synth/synth.py [--renders 3] [--jobs 2]

Each training sentence is spoken `--renders` times, each time with a random
voice, variant, rate, pitch and word gap drawn from the TRAIN settings, and
each generated sentence (`text.novel_sentences`: new word sequences, so the
decoder learns to listen instead of recalling training sentences) once; each
held-out sentence is spoken once with a HELDOUT voice or variant, never used
in training. With `--accents N`, N generated accents (espeak-ng voice files
recombining the training voices' phoneme tables, spelling-rule groups,
phoneme replacements and stress settings, and with `--vowel-shifts` vowels
moved to a neighbour; nothing of a held-out voice) speak `--accent-clips`
more training or generated sentences, in shards after the others (written
in turn with them). With `--variants N`, N generated variants (speaker
timbres recombined and jittered from the training variants' voice-quality
lines; nothing of a held-out variant) take `--variant-share` of the training
draws' variants. The audio is band-limited (a random telephone band inside
200-3600 Hz) and resampled to 8 kHz; the rest of the channel (level, noise,
G.711 round trip, silence, 16 kHz) is applied at training time by
`channel.py`, differently every epoch.

With `--lang zh` it speaks the Mandarin corpus (`text_zh.py`) instead, as
pinyin in espeak-ng's Mandarin voice, with the same variants.

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

SHARD = 2000  # clips per shard file (--shard-size)

# espeak-ng English voices and variants. Held-out speech uses a voice or a
# variant that training never hears. Variants are named by their file in
# espeak-ng-data/voices/!v (case matters: espeak-ng silently speaks an unknown
# variant with the plain voice, so `check_variants` refuses unknown names).
TRAIN_VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-029", "en-us-nyc"]
HELDOUT_VOICES = ["en-gb-x-gbcwmd"]
# Mandarin (`--lang zh`): espeak-ng's one Mandarin voice, given pinyin with tone
# numbers (`text_zh.pinyin`): the hanzi voice `cmn` reads many characters as
# English. So Mandarin has no held-out accent: held-out speech is a held-out
# variant (a timbre training never heard), as in the English target call.
ZH_VOICE = "cmn-latn-pinyin"
EN_RATES = (115, 215)  # words per minute
ZH_RATES = (140, 260)  # espeak-ng counts each pinyin syllable as a word; Mandarin runs about 4 syllables/s
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


# Generated accents (`--accents`): espeak-ng voice files that recombine what
# the TRAINING voices are made of (phoneme table, spelling-rule groups,
# phoneme replacements, stress lengths and amplitudes), so training hears more
# than seven accents. Nothing specific to a held-out voice is used: its phoneme
# table (`en-wm`), its h-dropping, its intonation and its rule set alone
# (`dictrules 6` with no other group) never appear.
ACCENT_PHONEMES = ["", "en-wi", "en-sc", "en-n", "en-rp", "en-us", "en-us-nyc"]  # "" = the plain voice's table
ACCENT_DICTRULES = [2, 3, 5, 6, 7, 8]
ACCENT_REPLACE = {  # phoneme -> the replacements training voices make (level, from, to)
    "D": ["00 D d"], "T": ["00 T t["], "U@": ["00 U@ o@"], "@": ["03 @ a#", "03 @ V"], "3": ["03 3 a#"],
    "N": ["03 N n"], "I": ["03 I i"], "I2": ["03 I2 i"], "aI": ["01 aI aI2"], "a": ["02 a a/"],
    "u:": ["02 u: U"], "o@": ["00 o@ O@"], "i": ["03 i I2"],
}
# phonemes that only some tables have: elsewhere espeak-ng drops the sound
# silently ("I want" spoken as "want"), so a replacement to them needs one of these
ONLY_IN = {"a/": {"en-sc"}, "aI2": {"en-sc"}}
ACCENT_STRESS = ["", "175 175  175 175  220 220  250 290", "180 130 200 200 0 0 250 270",
                 "160 150  180 180  220 220  290 290", "140 120 190 170 0 0 255 300"]
ACCENT_DIR = "callsense"  # voices/callsense/accNN in the copied espeak-ng-data

# Vowel shifts (`--vowel-shifts K`): the seven phoneme tables give training
# only seven vowel systems, and an accent differs from another mostly in its
# vowels. So a generated accent may also move up to K of espeak-ng's English
# vowels to a neighbour. The neighbours are computed, not chosen: each vowel
# has a place on the vowel chart (height 0 close .. 3 open, backness 0 front ..
# 2 back; a diphthong is its start and end), and a vowel's neighbours are the
# monophthongs within VOWEL_STEP of it and the diphthongs with the same end
# whose start is within VOWEL_STEP. A diphthong may also lose its glide.
VOWEL_CHART = {
    "i:": (0.0, 0.0), "I": (0.7, 0.4), "E": (2.0, 0.0), "a": (3.0, 0.2), "aa": (3.0, 0.8), "A:": (3.0, 2.0),
    "0": (2.7, 2.0), "O:": (2.0, 2.0), "U": (0.7, 1.6), "u:": (0.0, 2.0), "V": (2.3, 1.6), "3:": (1.5, 1.0),
}
DIPHTHONGS = {"eI": ("E", "I"), "aI": ("a", "I"), "OI": ("O:", "I"), "aU": ("a", "U"), "oU": ("O:", "U"),
              "i@3": ("I", "3:"), "e@": ("E", "3:"), "U@": ("U", "3:")}
VOWEL_STEP = 1.2


def _dist(p: str, q: str) -> float:
    (h1, b1), (h2, b2) = VOWEL_CHART[p], VOWEL_CHART[q]
    return ((h1 - h2) ** 2 + (b1 - b2) ** 2) ** 0.5


def vowel_neighbours() -> dict[str, list[str]]:
    out = {}
    for v in VOWEL_CHART:
        out[v] = [w for w in VOWEL_CHART if w != v and _dist(v, w) <= VOWEL_STEP]
    for d, (start, end) in DIPHTHONGS.items():
        out[d] = [e for e, (s2, e2) in DIPHTHONGS.items() if e != d and e2 == end and _dist(start, s2) <= VOWEL_STEP]
        out[d].append(start)
    return out


VOWEL_NEIGHBOURS = vowel_neighbours()


def accent_file(rng: random.Random, k: int, vowel_shifts: int = 0) -> str:
    lines = [f"name callsense generated accent {k:02d}", "language en 99"]
    ph = rng.choice(ACCENT_PHONEMES)
    if ph:
        lines.append(f"phonemes {ph}")
    rules = sorted(rng.sample(ACCENT_DICTRULES, rng.randint(0, 3)))
    if rules == [6]:
        rules = sorted({6, rng.choice([2, 3, 5, 7, 8])})
    if rules:
        lines.append("dictrules " + " ".join(map(str, rules)))
    for options in ACCENT_REPLACE.values():
        if rng.random() < 0.3:
            options = [o for o in options if ph in ONLY_IN.get(o.split()[2], {ph})]
            if options:
                lines.append("replace " + rng.choice(options))
    stress = rng.choice(ACCENT_STRESS)
    if stress:
        lines.append(f"stressLength {stress}")
    if rng.random() < 0.3:
        lines.append("stressAmp  17 16  19 19  19 19  21 19")
    if vowel_shifts:
        near = VOWEL_NEIGHBOURS
        for v in rng.sample(sorted(near), rng.randint(0, vowel_shifts)):
            # 00: everywhere; 02: in unstressed syllables only
            lines.append(f"replace {rng.choice(['00', '00', '02'])} {v} {rng.choice(near[v])}")
    return "\n".join(lines) + "\n"


def espeak_data_copy(work: Path) -> Path:
    """A copy of this espeak-ng's data under $ASR_WORK, for the generated
    accents and variants (used through ESPEAK_DATA_PATH); returns its root."""
    import re
    import shutil
    out = subprocess.run([os.environ.get("ESPEAK_NG", "espeak-ng"), "--version"], check=True,
                         capture_output=True, text=True).stdout
    m = re.search(r"Data at: (.+)$", out.strip())
    if not m:
        raise SystemExit(f"cannot find espeak-ng's data directory in {out!r}")
    root = work / "espeak-accents"
    data = root / "espeak-ng-data"
    if not data.exists():
        shutil.copytree(m.group(1).strip(), data)
    return root


def make_accents(work: Path, n: int, seed: int, vowel_shifts: int = 0) -> tuple[list[str], Path]:
    """Writes n generated accents into the copy of espeak-ng's data; returns
    their voice names and the data path (for ESPEAK_DATA_PATH)."""
    root = espeak_data_copy(work)
    data = root / "espeak-ng-data"
    (data / "voices" / ACCENT_DIR).mkdir(exist_ok=True)
    rng = random.Random(seed)
    names = []
    for k in range(n):
        (data / "voices" / ACCENT_DIR / f"acc{k:02d}").write_text(accent_file(rng, k, vowel_shifts))
        names.append(f"{ACCENT_DIR}/acc{k:02d}")
    check_accents(root, names)
    return names, root


# Generated variants (`--variants N`): new speaker timbres, so training hears
# far more than the 89 training variants. Each recombines the voice-quality
# lines (formants, pitch range, voicing, consonants, breath, tone, flutter,
# roughness, Klatt source) of two TRAINING variants and
# jitters the numbers: every formant's frequency by a common vocal-tract
# scale and its own small change, its height and width, the pitch range,
# voicing and consonant levels. No held-out variant's file is read, and the
# one held-out Klatt source (`klatt 2`) is never written.
VARIANT_PREFIX = "csvar"  # voices/!v/csvarNNN in the copied espeak-ng-data
HELDOUT_KLATT = {"2"}  # klatt2's whole file is `klatt 2`
# the voice-quality keys taken over; prosody (stress, intonation) and echo are
# left out: a parent's stress table or a loud echo in another's company made
# words unintelligible in a trial
VARIANT_KEYS = {"pitch", "flutter", "roughness", "voicing", "consonants", "breath", "breathw", "tone", "klatt"}
VARIANT_CAPS = {"flutter": 20, "roughness": 6}


def variant_lines(path: Path) -> dict[str, list[str]]:
    """A variant file's voice-quality lines by key ("formant 3", "pitch", ...)."""
    out = {}
    for raw in path.read_text(errors="replace").splitlines():
        line = raw.split("//")[0].strip()
        if not line or line.startswith("#"):
            continue
        f = line.split()
        if (f[0] not in VARIANT_KEYS and f[0] != "formant") or len(f) < 2:
            continue
        out[f"formant {f[1]}" if f[0] == "formant" else f[0]] = f[1:] if f[0] != "formant" else f[2:]
    return out


def variant_file(rng: random.Random, k: int, parents: list[dict[str, list[str]]]) -> str:
    a, b = rng.sample(parents, 2)
    lines = [f"name callsense generated variant {k:03d}"]
    keys = sorted(set(a) | set(b), key=lambda x: (x.startswith("formant"), x))
    scale = rng.uniform(0.9, 1.12)  # vocal-tract length: moves every formant together
    have_formants = set()

    def jitter(x: str, lo: float, hi: float, floor: int = 0) -> str:
        return str(max(floor, round(float(x) * rng.uniform(lo, hi))))

    for key in keys:
        if key in a and key in b:
            vals = (a if rng.random() < 0.5 else b)[key]
        elif rng.random() < 0.5:
            vals = (a if key in a else b)[key]
        else:
            continue
        vals = list(vals)
        try:
            if key.startswith("formant"):
                idx = int(key.split()[1])
                have_formants.add(idx)
                vals[0] = jitter(vals[0], 0.95 * (scale if idx >= 1 else 1), 1.05 * (scale if idx >= 1 else 1))
                for i in (1, 2):
                    if len(vals) > i:
                        vals[i] = jitter(vals[i], 0.85, 1.15)
                lines.append(f"formant {idx} " + " ".join(vals))
                continue
            if key == "pitch" and len(vals) >= 2:
                lo = float(vals[0]) * rng.uniform(0.85, 1.15)
                vals[:2] = [str(round(lo)), str(round(max(lo + 5, float(vals[1]) * rng.uniform(0.85, 1.15))))]
            elif key in ("voicing", "consonants"):
                vals = [jitter(v, 0.85, 1.15) for v in vals]
            elif key == "klatt" and vals[0] in HELDOUT_KLATT:
                continue
            elif key in VARIANT_CAPS:
                vals[0] = str(min(VARIANT_CAPS[key], int(vals[0])))
        except ValueError:  # a line this code does not parse: leave it out
            continue
        lines.append(f"{key} " + " ".join(vals))
    for idx in range(1, 6):  # the vocal-tract scale also where neither parent moves a formant
        if idx not in have_formants:
            lines.append(f"formant {idx} {round(100 * scale)} 100 100")
    return "\n".join(lines) + "\n"


def make_variants(work: Path, n: int, seed: int) -> tuple[list[str], Path]:
    """Writes n generated variants into the copy of espeak-ng's data; returns
    their names (for `voice+name`) and the data path."""
    root = espeak_data_copy(work)
    vdir = root / "espeak-ng-data" / "voices" / "!v"
    parents = [variant_lines(vdir / v) for v in TRAIN_VARIANTS if v]
    if any(v in HELDOUT_KLATT for p in parents for v in p.get("klatt", [])[:1]):
        raise SystemExit("a training variant uses a held-out Klatt source")
    rng = random.Random(seed)
    names = []
    for k in range(n):
        name = f"{VARIANT_PREFIX}{k:03d}"
        (vdir / name).write_text(variant_file(rng, k, parents))
        names.append(name)
    check_variants_speak(root, names)
    return names, root


def check_variants_speak(root: Path, names: list[str]) -> None:
    """Every generated variant must speak audibly (a formant line of a
    parent can mute a voice in another's company)."""
    env = dict(os.environ, ESPEAK_DATA_PATH=str(root))
    bad = []
    for name in names:
        out = subprocess.run([os.environ.get("ESPEAK_NG", "espeak-ng"), "-v", f"en+{name}", "--stdout",
                              "Please check my account balance."], check=True, capture_output=True, env=env).stdout
        x = np.frombuffer(out[44:], dtype=np.int16).astype(np.float32)
        if len(x) < 22050 * 0.8 or np.sqrt(np.mean(x ** 2)) < 300:
            bad.append(name)
    if bad:
        raise SystemExit(f"generated variants {bad} are (nearly) silent")


def check_accents(root: Path, names: list[str]) -> None:
    """Every replacement in a generated accent must leave a sound: espeak-ng
    drops a phoneme its table lacks without a word, and the audio would then
    miss words the text has. Each (table, replacement) is tried once with a
    probe voice that makes it everywhere."""
    env = dict(os.environ, ESPEAK_DATA_PATH=str(root))
    probe = root / "espeak-ng-data" / "voices" / ACCENT_DIR / "probe"
    seen = set()
    for name in names:
        lines = (root / "espeak-ng-data" / "voices" / name).read_text().splitlines()
        table = next((x.split()[1] for x in lines if x.startswith("phonemes ")), "")
        for line in lines:
            if not line.startswith("replace ") or (table, *line.split()[2:4]) in seen:
                continue
            src, dst = line.split()[2:4]
            seen.add((table, src, dst))
            probe.write_text("name probe\nlanguage en 99\n" + (f"phonemes {table}\n" if table else "")
                             + f"replace 00 {src} {dst}\n")
            out = subprocess.run([os.environ.get("ESPEAK_NG", "espeak-ng"), "-q", "-x", "-v", f"{ACCENT_DIR}/probe",
                                  f"[[b'{src}d]]"], check=True, capture_output=True, text=True, env=env).stdout
            if out.strip().replace("'", "").replace(",", "") == "bd":
                raise SystemExit(f"generated accent {name}: '{line}' drops the sound (table "
                                 f"{table or 'en'} lacks {dst}); see ONLY_IN")
    probe.unlink(missing_ok=True)


ACCENT_DATA = ""  # ESPEAK_DATA_PATH holding the generated accents and variants (set by main)


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


HELDOUT_KINDS = ("mixed", "variant", "accent")


def settings(rng: random.Random, heldout: bool, accents: list[str] | None = None,
             variants: list[str] | None = None, variant_share: float = 0.5, kind: str = "mixed",
             lang: str = "en") -> dict:
    """A training draw (a training or generated accent, a training or, with
    `variants`, generated variant) or a held-out one of `kind`: "variant", a
    training accent spoken with a held-out variant (a speaker timbre training
    never heard); "accent", the held-out accent with any variant (an accent
    training never heard); "mixed", either, half and half (the held-out
    shards, and the held-out calls of runs G-K). Mandarin (`lang` "zh") has
    one voice, so its held-out draws are always of kind "variant"."""
    zh = lang == "zh"
    voices = [ZH_VOICE] if zh else TRAIN_VOICES
    if heldout:
        if kind not in HELDOUT_KINDS:
            raise ValueError(f"held-out kind {kind!r}: one of {HELDOUT_KINDS}")
        if kind == "variant" or zh:
            voice, variant = rng.choice(voices), rng.choice(HELDOUT_VARIANTS)
        elif kind == "accent" or rng.random() < 0.5:
            voice, variant = rng.choice(HELDOUT_VOICES), rng.choice(TRAIN_VARIANTS + HELDOUT_VARIANTS)
        else:
            voice, variant = rng.choice(TRAIN_VOICES + HELDOUT_VOICES), rng.choice(HELDOUT_VARIANTS)
    else:
        voice, variant = rng.choice(accents or voices), rng.choice(TRAIN_VARIANTS)
        if variants and rng.random() < variant_share:
            variant = rng.choice(variants)
    out = dict(voice=voice + (f"+{variant}" if variant else ""), rate=rng.randint(*(ZH_RATES if zh else EN_RATES)),
               pitch=rng.randint(10, 90), gap=rng.choice([0, 0, 0, 1, 2, 4]),
               lo=rng.randint(200, 400), hi=rng.randint(3000, 3600))
    if zh:
        out["lang"] = "zh"
    return out


def speak(sentence: str, s: dict) -> np.ndarray:
    """espeak-ng -> band-limited int16 at 8 kHz (Mandarin: the sentence's pinyin)."""
    if s.get("lang") == "zh":
        import text_zh
        sentence = text_zh.pinyin(sentence)
    env = None
    if s["voice"].startswith(ACCENT_DIR + "/") or "+" + VARIANT_PREFIX in s["voice"]:
        env = dict(os.environ, ESPEAK_DATA_PATH=ACCENT_DATA)
    out = subprocess.run([os.environ.get("ESPEAK_NG", "espeak-ng"), "-v", s["voice"], "-s", str(s["rate"]), "-p", str(s["pitch"]),
                          "-g", str(s["gap"]), "--stdout", sentence],
                         check=True, capture_output=True, env=env).stdout
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
    global ACCENT_DATA
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
    ap.add_argument("--extra-sst", type=int, default=0, metavar="N",
                    help=f"N more SST-2 film-review phrases (training side, beyond the {text.SST_CAP:,} the corpus "
                         "keeps; the held-out sentences do not change) among the generated sentences, spoken once each")
    ap.add_argument("--sentences", default="", metavar="DIR",
                    help="read sentences-{train,novel,heldout}.txt from DIR (written by an earlier run) instead "
                         "of building the corpus from $CALLSENSE_ASSETS: for a machine without the datasets")
    ap.add_argument("--accents", type=int, default=0, metavar="N",
                    help="write N generated accents (recombined training voices) and speak --accent-clips "
                         "more training sentences with them, in shards after the others")
    ap.add_argument("--accent-clips", type=int, default=30_000)
    ap.add_argument("--vowel-shifts", type=int, default=0, metavar="K",
                    help="each generated accent also moves up to K vowels to a neighbour on the vowel chart "
                         "(see VOWEL_CHART)")
    ap.add_argument("--variants", type=int, default=0, metavar="N",
                    help="write N generated variants (new timbres recombined from the training variants) and "
                         "give --variant-share of the training draws one of them")
    ap.add_argument("--variant-share", type=float, default=0.5)
    ap.add_argument("--shard-size", type=int, default=SHARD, metavar="N",
                    help="clips per shard file; smaller shards let a run training beside synthesis start sooner "
                         "(the shard layout differs, so keep one size per $ASR_WORK)")
    ap.add_argument("--lang", choices=("en", "zh"), default="en",
                    help="zh: the Mandarin corpus (text_zh.py) in espeak-ng's pinyin voice with the training "
                         "(and --variants) variants; needs --novel 0 --word-strings 0, no --accents or --extra-sst; "
                         "use its own $ASR_WORK")
    a = ap.parse_args()
    if a.lang == "zh" and (a.novel or a.word_strings or a.accents or a.extra_sst):
        ap.error("--lang zh has no generated sentences or accents: give --novel 0 --word-strings 0 "
                 "(and no --accents, --extra-sst)")
    if a.extra_sst < 0 or (a.extra_sst and a.sentences):
        ap.error("--extra-sst must be 0 (none) or more, and reads the datasets (not with --sentences)")
    if a.variants < 0 or not 0 <= a.variant_share <= 1:
        ap.error("--variants must be 0 (none) or more, and --variant-share within 0..1")
    if a.accents < 0 or (a.accents and a.accent_clips < 1):
        ap.error("--accents must be 0 (none) or more, and --accent-clips at least 1 with it")
    if a.vowel_shifts < 0 or (a.vowel_shifts and not a.accents):
        ap.error("--vowel-shifts must be 0 or more, and needs --accents")
    if not 1 <= a.shard_size <= 100_000:
        ap.error("--shard-size must be within 1..100000 clips")
    n_shard = a.shard_size
    work = Path(os.environ.get("ASR_WORK", "/tmp/asr-synth"))
    work.mkdir(parents=True, exist_ok=True)
    tx = text
    if a.lang == "zh":
        import text_zh as tx
    if a.sentences:
        src = Path(a.sentences)
        train, novel, held = ((src / f"sentences-{s}.txt").read_text().splitlines()
                              for s in ("train", "novel", "heldout"))
    else:
        assets = Path(os.environ.get("CALLSENSE_ASSETS", HERE.parents[2] / "shared/assets"))
        train, held = tx.build(assets, max_train=a.max_train)
        novel = [] if a.lang == "zh" else text.novel_sentences(train, {text.key(s) for s in train + held}, a.novel, a.word_strings,
                                     seed=a.text_seed)
        if a.extra_sst:
            novel += text.extra_sst(assets, a.extra_sst, {text.key(s) for s in train + held + novel},
                                    seed=a.text_seed + 4)
    leaked = {tx.key(s) for s in train + novel} & {tx.key(s) for s in held}
    if leaked:
        raise SystemExit(f"{len(leaked)} held-out sentences are among the training text, e.g. {sorted(leaked)[0]!r}")
    for name, sents in (("train", train), ("novel", novel), ("heldout", held)):
        (work / f"sentences-{name}.txt").write_text("\n".join(sents) + "\n")
    check_variants()
    if a.lang == "zh":
        tx.check_espeak(train + held)
    gen_variants = None
    if a.variants:
        gen_variants, root = make_variants(work, a.variants, a.seed + 4)
        ACCENT_DATA = str(root)
    rng = random.Random(a.seed)
    jobs = []
    for split, sents, renders, ho in (("heldout", held, 1, True), ("train", train, a.renders, False)):
        vs = None if ho else gen_variants
        items = [(s, settings(rng, ho, variants=vs, variant_share=a.variant_share, lang=a.lang))
                 for _ in range(renders) for s in sents]
        if split == "train":
            items += [(s, settings(rng, False, variants=vs, variant_share=a.variant_share, lang=a.lang))
                      for s in novel]
        random.Random(a.seed + 1).shuffle(items)
        groups = [items]
        if split == "train" and a.accents:
            # in shards of their own after the others, which stay as without --accents
            names, root = make_accents(work, a.accents, a.seed + 2, a.vowel_shifts)
            ACCENT_DATA = str(root)
            arng = random.Random(a.seed + 3)
            pool = train + novel
            groups.append([(arng.choice(pool), settings(arng, False, names, gen_variants, a.variant_share))
                           for _ in range(a.accent_clips)])
        first, lanes = 0, []
        for group in groups:
            lanes.append([])
            for k in range(0, len(group), n_shard):
                p = work / f"{split}-{first + k // n_shard:04d}.npz"
                if not p.exists():
                    lanes[-1].append((p, group[k:k + n_shard]))
            first += -(-len(group) // n_shard)
        # write the groups' shards in turn, so that a run training while this
        # one writes hears the generated accents from the start
        for k in range(max(map(len, lanes))):
            jobs += [lane[k] for lane in lanes if k < len(lane)]
    print(f"{len(train)} train, {len(novel)} generated and {len(held)} held-out sentences; "
          f"{len(jobs)} shards to write", flush=True)
    with Pool(a.jobs) as pool:
        for name, n in pool.imap_unordered(_work, jobs):
            print(f"wrote {name} ({n} clips)", flush=True)


if __name__ == "__main__":
    main()
