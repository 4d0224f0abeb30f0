"""Word error rate through the whole engine: `callsense serve` with the given
model, `callsense stream` of an 8 kHz mu-law call over gRPC, UtteranceResult
transcripts scored against what was spoken.

    python models/asr-synth/eval_engine.py CALL.wav [--model FILE] [--config FILE] [--beam N] [--json-out F] [--by-voice] [--by-source]

CALL.wav comes with CALL.json (make_test_call.py). Scoring is per channel on
the concatenation of the final transcripts in time order against the
concatenation of the spoken sentences, so the VAD's choice of where one
utterance ends cannot hide or invent errors. The stream's language hint is
the call's `language` (make_test_call.py --lang; "en" if absent); for
Mandarin every character counts as a word (wer.py), so its WER is the CER. Text is normalised (lower case,
punctuation dropped) before counting. `--by-voice` adds WER by what is new
to the model in each turn (a held-out accent, or a training accent with a
held-out variant) and by espeak-ng voice, `--by-source` by the sentences'
dataset: each error of the call's alignment is counted against the spoken
turn it falls in, so the groups add up to the call's figure. Needs a release build
(`cargo build --release`) and the runtime files from scripts/setup.sh.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from wer import align, cer, norm_words, edits  # noqa: E402

REPO = HERE.parents[1]
BIN = REPO / "target/release/callsense"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def field(d: dict, snake: str):
    camel = "".join(p if i == 0 else p.title() for i, p in enumerate(snake.split("_")))
    return d.get(snake, d.get(camel))


def run_engine(call: Path, model: Path | None, workers: int, beam: int | None, config: Path | None = None,
               language: str = "en"):
    port = free_port()
    env = dict(os.environ, CALLSENSE__SERVER__LISTEN=f"127.0.0.1:{port}", CALLSENSE__ASR__WORKERS=str(workers))
    if model:
        env["CALLSENSE__ASR__MODEL"] = str(model)
    if beam is not None:
        env["CALLSENSE__ASR__BEAM_SIZE"] = str(beam)
    import tempfile
    log_path = Path(tempfile.gettempdir()) / f"callsense-eval-{port}.log"
    log = open(log_path, "w")
    srv = subprocess.Popen([str(BIN), "serve"] + (["--config", str(config)] if config else []), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(240):
            if "Models loaded; serving" in log_path.read_text():
                break
            if srv.poll() is not None:
                raise SystemExit(f"server exited:\n{log_path.read_text()}")
            time.sleep(0.5)
        out = subprocess.run([str(BIN), "stream", str(call), "--server", f"http://127.0.0.1:{port}", "--as", "mulaw",
                              "--rate", "8000", "--json", "--language", language],
                             cwd=REPO, capture_output=True, text=True, check=True).stdout
    finally:
        srv.terminate()
        srv.wait(timeout=30)
    finals = []
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        r = field(json.loads(line), "result")
        if r and field(r, "is_final"):
            finals.append(r)
    return finals


def errors_by_turn(turns: list[dict], finals: list[dict]) -> list[tuple[int, int]]:
    """(errors, words) for each turn, from the same per-channel alignment the
    call's WER counts (spoken sentences concatenated in time order against the
    final transcripts in time order), so the groups add up to the whole and
    the VAD's cuts do not move errors between turns."""
    out = [(0, 0)] * len(turns)
    for ch in sorted({t["channel"] for t in turns}):
        idx = sorted((i for i, t in enumerate(turns) if t["channel"] == ch), key=lambda i: turns[i]["offset_ms"])
        ref, owner = [], []
        for i in idx:
            w = norm_words(turns[i]["text"])
            ref += w
            owner += [i] * len(w)
            out[i] = (0, len(w))
        hyp = norm_words(" ".join(field(r, "transcript") or "" for r in
                                  sorted(finals, key=lambda r: field(r, "start_ms") or 0)
                                  if (field(r, "channel") or 0) == ch))
        for k, err in align(ref, hyp):
            if err and owner:
                i = owner[min(k, len(owner) - 1)]
                out[i] = (out[i][0] + 1, out[i][1])
    return out


def sentence_sources() -> dict[str, str]:
    """Normalised sentence key -> its dataset ("sst2", "banking77", ...), for
    the sentences read from CALLSENSE_ASSETS; template sentences are absent."""
    import text
    assets = Path(os.environ.get("CALLSENSE_ASSETS", HERE.parents[2] / "shared/assets"))
    src: dict[str, str] = {}
    for t, s in text.classifier_sentences(assets):
        n = text.normalise(t)
        if n:
            src.setdefault(text.key(n), s)
    return src


def grouped(turns: list[dict], finals: list[dict], by_source: bool) -> dict:
    """WER by what is new to the model in each turn (a held-out accent, or a
    training accent with a held-out variant), by espeak-ng voice and, with
    `by_source`, by where the sentence came from (movie-review phrases of
    SST-2 against call-centre text)."""
    import synth
    import text
    sources = sentence_sources() if by_source else {}
    groups: dict[str, list[int]] = {}
    for t, (e, n) in zip(turns, errors_by_turn(turns, finals)):
        voice, _, variant = t.get("voice", "?").partition("+")
        if voice in synth.HELDOUT_VOICES:
            kind = "held-out accent"
        elif variant in synth.HELDOUT_VARIANTS:
            kind = "training accent, held-out variant"
        else:
            kind = "training voice setting"
        keys = [kind, f"voice {voice}"]
        if by_source:
            s = sources.get(text.key(t["text"]), "templates")
            keys.append("sentences: movie reviews (sst2)" if s.startswith("sst2")
                        else "sentences: call-centre (banking77, clinc150, uss, templates)")
        for k in keys:
            g = groups.setdefault(k, [0, 0])
            g[0] += e
            g[1] += n
    return {k: dict(words=n, wer=round(e / max(1, n), 4)) for k, (e, n) in sorted(groups.items())}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("call")
    ap.add_argument("--model", help="ggml model (default: the engine's own choice, asr.model)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--beam", type=int, help="asr.beam_size (default: the engine's, 1 = greedy)")
    ap.add_argument("--config", help="engine config file for `callsense serve --config` (e.g. config/synth-asr.toml)")
    ap.add_argument("--json-out")
    ap.add_argument("--show", action="store_true", help="include what was spoken and heard")
    ap.add_argument("--by-voice", action="store_true",
                    help="add WER by held-out kind and by espeak-ng voice (each error of the call's alignment "
                         "counted against the spoken turn it falls in)")
    ap.add_argument("--by-source", action="store_true",
                    help="--by-voice plus WER by the sentences' dataset (reads CALLSENSE_ASSETS)")
    a = ap.parse_args()
    call = Path(a.call).resolve()
    meta = json.loads(call.with_suffix(".json").read_text())
    t0 = time.time()
    finals = run_engine(call, Path(a.model).resolve() if a.model else None, a.workers, a.beam,
                        Path(a.config).resolve() if a.config else None, meta.get("language", "en"))
    report = dict(call=str(call), model=a.model or "engine default", config=a.config or "engine defaults",
                  beam_size=a.beam if a.beam is not None else "engine default",
                  utterances=len(finals), channels={})
    tot_e = tot_n = 0
    for ch in (0, 1):
        refs = [t["text"] for t in sorted(meta["turns"], key=lambda t: t["offset_ms"]) if t["channel"] == ch]
        hyps = [field(r, "transcript") or "" for r in sorted(finals, key=lambda r: field(r, "start_ms") or 0)
                if (field(r, "channel") or 0) == ch]
        ref_w = norm_words(" ".join(refs))
        hyp_w = norm_words(" ".join(hyps))
        e = edits(ref_w, hyp_w)
        tot_e += e
        tot_n += len(ref_w)
        report["channels"][meta["channels"][ch]] = dict(
            sentences=len(refs), results=len(hyps), words=len(ref_w), wer=round(e / max(1, len(ref_w)), 4),
            cer=round(cer([" ".join(refs)], [" ".join(hyps)]), 4))
        if a.show:
            report["channels"][meta["channels"][ch]].update(spoken=refs, heard=hyps)
    report["wer"] = round(tot_e / max(1, tot_n), 4)
    if a.by_voice or a.by_source:
        report["by_voice"] = grouped(meta["turns"], finals, a.by_source)
    report["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(report, indent=1))
    if a.json_out:
        Path(a.json_out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
