"""Sentences for the synthetic-speech ASR model (callsense-synth-asr-en).

Three sources, all split into train and held-out by a hash of the normalised
sentence, so a held-out sentence is never spoken in training:

* the classifier corpus (`models/corpus.py`): banking77, CLINC150, SST-2 and
  USS train-split texts plus the project's own call-centre templates, read
  from CALLSENSE_ASSETS (nothing is copied into the repository);
* call-centre templates written here: agent greetings and closings, account,
  card, order and phone numbers read digit by digit, amounts, dates, product
  and plan names, customer names, and the 16-intent taxonomy;
* `E2E_SENTENCES`: the sentences the engine's end-to-end test speaks. They
  are always held out.

`novel_sentences` adds generated training text (word-trigram walks and random
word strings over the training sentences) so the decoder cannot get by on
recalling training sentences.

Every target is in one spoken form: words only (numbers spelled out), lower
case except a capital first letter and "I", ending in "." or "?". espeak-ng is
given exactly that text, so what is said is what is written.

Standard library only.
"""
from __future__ import annotations

import hashlib
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # models/ (corpus.py, classifier_data.py)

HELDOUT_FRAC = 0.04

# Sentences the end-to-end test (tests/integration/asr_synth.rs) and the demo
# call speak. Never in training, whatever the hash says.
E2E_SENTENCES = [
    ("customer", "I want to cancel my account this is the third time it broke."),
    ("customer", "I was charged twice this month and nobody has called me back."),
    ("customer", "My parcel still has not arrived and I am really fed up."),
    ("customer", "I can not log in to my account and it is driving me mad."),
    ("agent", "Thank you for calling how can I help you today?"),
    ("agent", "I am sorry to hear that let me check your account."),
    ("agent", "I can see the order here it was sent on monday."),
    ("agent", "I have raised a refund and you will get an email."),
]

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
            "nine": "ninth", "twelve": "twelfth"}


def number_words(n: int) -> str:
    """0 <= n < 10**9 in words, without "and" or hyphens ("two hundred five")."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    for div, name in ((10**6, "million"), (1000, "thousand")):
        if n >= div:
            rest = n % div
            return number_words(n // div) + " " + name + ("" if rest == 0 else " " + number_words(rest))
    raise ValueError(n)


def ordinal_words(n: int) -> str:
    w = number_words(n).split()
    last = w[-1]
    if last in ORDINALS:
        w[-1] = ORDINALS[last]
    elif last.endswith("y"):
        w[-1] = last[:-1] + "ieth"
    else:
        w[-1] = last + "th"
    return " ".join(w)


def digits_words(s: str) -> str:
    return " ".join(ONES[int(c)] for c in s)


_CONTRACTIONS = {"can't": "can not", "won't": "will not", "cannot": "can not"}
_ALLOWED = re.compile(r"^[a-z' ]+$")


def normalise(text: str) -> str | None:
    """Source text -> spoken target form, or None if it cannot be said plainly."""
    t = text.strip()
    question = t.rstrip().endswith("?")
    t = t.lower()
    # SST-2 / tokenised text artefacts
    t = re.sub(r"-lrb-|-rrb-|``|''", " ", t)
    t = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", t)
    t = t.replace("&", " and ").replace("%", " percent ").replace("+", " plus ")
    t = re.sub(r"£\s?(\d+)", lambda m: m.group(1) + " pounds", t)
    t = re.sub(r"€\s?(\d+)", lambda m: m.group(1) + " euros", t)
    t = re.sub(r"\$\s?(\d+)(?:\.(\d\d))?",
               lambda m: m.group(1) + " dollars" + (f" {int(m.group(2))} cents" if m.group(2) and int(m.group(2)) else ""), t)
    t = re.sub(r"(\d+)(st|nd|rd|th)\b", lambda m: ordinal_words(int(m.group(1))), t)
    t = re.sub(r"(\d+)\.(\d+)", lambda m: m.group(1) + " point " + digits_words(m.group(2)), t)
    t = re.sub(r"\d+", lambda m: number_words(int(m.group())) if len(m.group()) <= 3 and not m.group().startswith("0")
               else digits_words(m.group()), t)
    for k, v in _CONTRACTIONS.items():
        t = re.sub(rf"\b{k}\b", v, t)
    t = re.sub(r"[-/_,.;:!?\"()\[\]]", " ", t)
    t = re.sub(r"\s'|'\s|^'|'$", " ", t)
    t = re.sub(r"\s+", " ", t).strip()
    if not t or not _ALLOWED.match(t) or len(t.split()) > 30:
        return None
    t = re.sub(r"\bi\b", "I", t)
    t = re.sub(r"\bi'(m|d|ve|ll)\b", lambda m: "I'" + m.group(1), t)
    return t[0].upper() + t[1:] + ("?" if question else ".")


def key(text: str) -> str:
    return re.sub(r"[^a-z' ]", "", text.lower()).strip()


def is_heldout(text: str) -> bool:
    h = int(hashlib.sha1(("asr-synth\0" + key(text)).encode()).hexdigest()[:12], 16)
    return h % 10_000 < int(HELDOUT_FRAC * 10_000)


# ---------------------------------------------------------------------------
# Call-centre templates written for this model
# ---------------------------------------------------------------------------
FIRST = ["sarah", "james", "maria", "david", "emma", "michael", "olivia", "daniel", "sophie", "thomas",
         "laura", "robert", "anna", "peter", "grace", "kevin", "helen", "mark", "lucy", "steven",
         "rachel", "brian", "karen", "paul", "nina", "george", "alice", "frank", "julia", "simon"]
LAST = ["smith", "johnson", "brown", "taylor", "wilson", "davies", "evans", "thomas", "roberts",
        "walker", "wright", "green", "hall", "wood", "clarke", "turner", "hill", "moore", "cooper",
        "ward", "morris", "king", "baker", "harris", "lewis", "young", "scott", "adams", "parker"]
PRODUCTS = ["router", "modem", "set top box", "phone", "tablet", "laptop", "smart watch", "headset",
            "sim card", "charger", "television", "washing machine", "fridge", "printer", "camera",
            "speaker", "fibre box", "hub", "remote control", "game console"]
PLANS = ["basic plan", "premium plan", "family plan", "unlimited plan", "business plan",
         "gold package", "silver package", "fibre one hundred", "fibre five hundred",
         "student plan", "annual plan", "monthly plan", "pay as you go plan", "sport pack",
         "movie bundle", "broadband and tv bundle", "travel add on", "data booster"]
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december"]
COMPANIES = ["telco", "northwind", "bright energy", "swift mobile", "city bank", "homeshop"]

AGENT = [
    "thank you for calling {co} my name is {first} how can I help you",
    "good morning you are through to {co} this is {first} speaking",
    "can I take your full name please",
    "could you confirm the first line of your address",
    "can you confirm your date of birth please",
    "thanks for waiting I have your account open now",
    "I can see your {product} was delivered on {day}",
    "your {plan} renews on the {ord} of {month}",
    "I have applied a credit of {amount} to your account",
    "the refund of {amount} will reach your card in {small} working days",
    "I will book an engineer for {day} morning",
    "your reference number is {digits}",
    "is there anything else I can help you with today",
    "I am going to transfer you to my supervisor",
    "I completely understand your frustration",
    "let me just put you on hold for a moment",
    "I have cancelled the {plan} from the end of this month",
    "your new {product} will be sent out {day}",
    "the outstanding balance is {amount}",
    "I have updated your phone number on the account",
    "thank you for your patience have a lovely day",
    "I can offer you {small} months at half price if you stay with us",
    "the {plan} costs {amount} a month",
    "I have reset your password you should get a text shortly",
    "your order {digits} is out for delivery today",
]
CUSTOMER = [
    "my name is {first} {last}",
    "my account number is {digits}",
    "my phone number is {phone}",
    "the card ends in {four}",
    "my order number is {digits}",
    "my date of birth is the {ord} of {month} {year}",
    "I paid {amount} for the {product} last {day}",
    "I want to cancel my {plan}",
    "I want to cancel my account this is the {ord} time the {product} broke",
    "I have been charged {amount} twice",
    "the {product} stopped working after {small} days",
    "I want a refund for the {product}",
    "my {product} has not arrived yet",
    "the engineer never turned up on {day}",
    "I can not log in to the app",
    "can I switch to the {plan}",
    "is there a discount on the {plan}",
    "I want to speak to a manager",
    "this is the {ord} time I have called about this",
    "thank you so much you have been really helpful",
    "I am really unhappy with the service",
    "why is my bill {amount} this month",
    "my payment of {amount} was declined",
    "I want to upgrade my {product}",
    "can someone come and repair the {product}",
    "where is my order it was due on {day}",
    "I have been waiting {small} weeks for a reply",
    "the {product} keeps disconnecting every evening",
    "I did not agree to the {plan}",
    "please take the {plan} off my bill",
    "that is great thank you",
    "no that is everything thanks",
    "yes that is correct",
    "sorry could you repeat that",
    "I have been on hold for {small} minutes",
]


def _fill(tpl: str, rng: random.Random) -> str:
    def amount():
        n = rng.choice([rng.randint(1, 99), rng.randint(100, 999), rng.randint(1, 20) * 5])
        cur = rng.choice(["dollars", "pounds", "euros"])
        cents = rng.choice([0, 0, rng.randint(1, 99)])
        return f"{number_words(n)} {cur}" + (f" {number_words(cents)}" if cents else "")
    subs = {
        "first": lambda: rng.choice(FIRST), "last": lambda: rng.choice(LAST),
        "product": lambda: rng.choice(PRODUCTS), "plan": lambda: rng.choice(PLANS),
        "day": lambda: rng.choice(DAYS), "month": lambda: rng.choice(MONTHS),
        "co": lambda: rng.choice(COMPANIES), "amount": amount,
        "small": lambda: number_words(rng.randint(2, 30)),
        "ord": lambda: ordinal_words(rng.randint(1, 31)),
        "year": lambda: number_words(19) + " " + number_words(rng.randint(50, 99)) if rng.random() < 0.6
        else "two thousand " + number_words(rng.randint(1, 9)),
        "digits": lambda: digits_words("".join(str(rng.randint(0, 9)) for _ in range(rng.randint(4, 10)))),
        "four": lambda: digits_words("".join(str(rng.randint(0, 9)) for _ in range(4))),
        "phone": lambda: digits_words("0" + "".join(str(rng.randint(0, 9)) for _ in range(10))),
    }
    return re.sub(r"\{(\w+)\}", lambda m: subs[m.group(1)](), tpl)


def template_sentences(rng: random.Random, per_template: int = 60):
    out = []
    for tpl in AGENT + CUSTOMER:
        for _ in range(per_template if "{" in tpl else 3):
            out.append(_fill(tpl, rng))
    # bare digit strings and amounts, as people read them out
    for _ in range(1500):
        out.append(_fill(rng.choice(["{digits}", "{phone}", "{amount}", "it is {digits}",
                                     "the {ord} of {month}", "{small} {product}s"]), rng))
    return out


def classifier_sentences(assets: Path):
    """(text, source) rows of the classifier corpus (train and dev splits alike: the ASR
    split is made here, by hash)."""
    import corpus  # models/corpus.py
    train, dev, _, _ = corpus.english_sets(assets)
    rows = [(e["text"], e["source"]) for e in train + dev]
    import classifier_data as cd
    rows += [(c.replace("{n}", "{digits}"), "intent_cores") for cores in cd.INTENT_CORES.values() for c in cores]
    return rows


def novel_sentences(train: list[str], taken: set[str], n_chain: int, n_words: int, seed: int = 13) -> list[str]:
    """New word sequences, so the decoder must listen rather than recall one
    of the training sentences: `n_chain` walks of a word-trigram chain over
    the training sentences (backing off to bigrams a third of the time, which
    joins sentences into new ones) and `n_words` strings of 2-10 words drawn
    from the training vocabulary. Only training text feeds them, and none
    repeats a key in `taken` (training and held-out sentences)."""
    rng = random.Random(seed)
    tri: dict[tuple[str, str], list[str]] = {}
    bi: dict[str, list[str]] = {}
    vocab: set[str] = set()
    for sent in train:
        w = ["<s>", "<s>"] + key(sent).split() + ["</s>"]
        vocab.update(w[2:-1])
        for i in range(2, len(w)):
            tri.setdefault((w[i - 2], w[i - 1]), []).append(w[i])
            bi.setdefault(w[i - 1], []).append(w[i])
    words = sorted(vocab)
    out: list[str] = []
    seen = set(taken)

    def add(ws: list[str], question: bool) -> None:
        t = normalise(" ".join(ws) + ("?" if question else ""))
        if t is not None and key(t) not in seen:
            seen.add(key(t))
            out.append(t)

    tries = 0
    while len(out) < n_chain and tries < 20 * n_chain:
        tries += 1
        w = ["<s>", "<s>"]
        while len(w) < 26:
            nxt = rng.choice(bi[w[-1]] if rng.random() < 0.33 else tri[(w[-2], w[-1])])
            if nxt == "</s>":
                break
            w.append(nxt)
        if 3 <= len(w) - 2 <= 24:
            add(w[2:], rng.random() < 0.1)
    target, tries = len(out) + n_words, 0
    while len(out) < target and tries < 20 * n_words:
        tries += 1
        add(rng.sample(words, min(len(words), rng.randint(2, 10))), False)
    return out


SST_CAP = 6000  # SST-2 phrases `build` keeps, of about 43,000, so film reviews stay a minority of its sentences


def _usable(t: str) -> str | None:
    """`t` normalised, or None where it is not a usable target (unspeakable, or under 4 characters)."""
    n = normalise(t)
    return None if n is None or len(n) < 4 else n


def extra_sst(assets: Path, n: int, taken: set[str], seed: int = 17) -> list[str]:
    """Up to `n` more SST-2 film-review phrases of two words or more, beyond
    the `SST_CAP` that `build` keeps: training-side rows only (none a held-out key by hash, none
    a key in `taken`, the training and held-out sentences), so the held-out
    sentences stay as they are. The film-review phrases are the held-out
    call's hardest text (run M: 23 % WER against 6 % for the call-centre
    sentences)."""
    rng = random.Random(seed)
    sst = [t for t, src in classifier_sentences(assets) if src.startswith("sst2")]
    rng.shuffle(sst)
    out, seen = [], set(taken)
    for t in sst:
        if len(out) >= n:
            break
        s = _usable(t)
        if s is None or len(s.split()) < 2:
            continue
        k = key(s)
        if k in seen or is_heldout(s):
            continue
        seen.add(k)
        out.append(s)
    return out


def build(assets: Path, seed: int = 7, sst_cap: int = SST_CAP, max_train: int = 60_000):
    """Returns (train, heldout): lists of normalised sentences, disjoint."""
    rng = random.Random(seed)
    raw = []
    rows = classifier_sentences(assets)
    sst = [t for t, src in rows if src.startswith("sst2")]
    rng.shuffle(sst)
    raw += [t for t, src in rows if not src.startswith("sst2")] + sst[:sst_cap]
    raw = [_fill(t, rng) if "{" in t else t for t in raw]
    raw += template_sentences(rng)
    e2e = {key(s) for _, s in E2E_SENTENCES}
    seen, train, held = set(), [], []
    for t in raw:
        n = _usable(t)
        if n is None:
            continue
        k = key(n)
        if k in seen:
            continue
        seen.add(k)
        if k in e2e or is_heldout(n):
            held.append(n)
        else:
            train.append(n)
    for _, s in E2E_SENTENCES:
        if key(s) not in seen:
            held.append(s)
    rng.shuffle(train)
    return train[:max_train], sorted(held)


if __name__ == "__main__":
    import os
    assets = Path(os.environ.get("CALLSENSE_ASSETS", HERE.parents[2] / "shared/assets"))
    tr, he = build(assets)
    print(len(tr), len(he))
    for s in tr[:15] + he[:5]:
        print(" ", s)
