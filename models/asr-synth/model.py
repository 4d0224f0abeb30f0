"""The Whisper architecture in PyTorch, sized small, with the token and
feature conventions whisper.cpp uses at inference.

Layout and parameter names follow openai-whisper (conv1/conv2 + sinusoidal
positions + pre-LN blocks; decoder with learned positions, cross-attention
and an output projection tied to the token embedding), so `export.py` can
write the state dict under the names whisper.cpp's loader looks up.

Vocabulary. whisper.cpp derives its special tokens from n_vocab: an
English-only model has n_vocab 51864, eot 50256, sot 50257, nosp 50361,
notimestamps 50362. Ids below eot are text tokens, and their strings come
from the model file, so this model carries its own byte-level BPE
(`tokenizer.py`): ids 0-255 are the 256 bytes in GPT-2 order (" " is 220, as
in Whisper), the merges follow. Training uses a compact embedding holding
only the text tokens plus eot/sot/notimestamps/nosp; `export.py` spreads it
to the 51864 rows whisper.cpp expects. The Mandarin model (`LANGS["zh"]`) is
a multilingual one, n_vocab 51865, with its own BPE (`tokenizer-zh.json`)
and the language and task tokens in its prompt.

Unused rows. The output layer has no bias, and whisper.cpp scores all 51864
rows. Dimension 0 of the final decoder LayerNorm is pinned to a constant 1
(weight 0, bias 1): every row's component 0 then acts as that token's logit
bias, and the export gives each unused row the vector (-30, 0, ..., 0), a
logit of exactly -30, so whisper.cpp can never choose it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SAMPLE_RATE, N_FFT, HOP, N_MELS = 16000, 400, 160, 80
# whisper.cpp token ids for an English-only model (n_vocab 51864)
N_VOCAB = 51864
EOT, SOT, NOSP, NOT = 50256, 50257, 50361, 50362
UNUSED_LOGIT = -30.0

CTC_CHARS = " abcdefghijklmnopqrstuvwxyz'"


@dataclass(frozen=True)
class Lang:
    """One model language's whisper.cpp conventions.

    English is an English-only model (n_vocab 51864, prompt [sot,
    notimestamps]). Mandarin is a multilingual model (n_vocab 51865, so
    whisper.cpp shifts eot/sot up by one and the task and no-timestamps
    tokens by one more, for 99 language tokens): its prompt is [sot, <|zh|>,
    <|transcribe|>, notimestamps], and with language "auto" whisper.cpp picks
    the language token the decoder scores highest after [sot], so training
    also teaches <|zh|> there. `extra` are the whisper ids of the prompt
    tokens between sot and notimestamps. The CTC head (training only) spells
    English in letters and Mandarin in toneless-plus-tone pinyin letters."""
    code: str
    n_vocab: int
    eot: int
    sot: int
    nosp: int
    notimestamps: int
    extra: tuple[int, ...]
    ctc_chars: str
    tokenizer: str  # file in this folder

    @property
    def multilingual(self) -> bool:
        return self.n_vocab >= 51865


LANGS = {
    "en": Lang("en", N_VOCAB, EOT, SOT, NOSP, NOT, (), CTC_CHARS, "tokenizer.json"),
    # <|zh|> = sot + 1 + 1 (Whisper's language order: en, zh, ...); <|transcribe|> 50359
    "zh": Lang("zh", 51865, 50257, 50258, 50362, 50363, (50260, 50359), " abcdefghijklmnopqrstuvwxyz12345",
               "tokenizer-zh.json"),
}


def dims_for(lang: str) -> dict:
    return dict(DIMS, n_vocab=LANGS[lang].n_vocab)


def whisper_ids(n_text: int, lang: str = "en") -> list[int]:
    """Compact id (training's embedding row) -> whisper.cpp id."""
    L = LANGS[lang]
    return list(range(n_text)) + [L.eot, L.sot, L.notimestamps, L.nosp] + list(L.extra)


def lang_of_vocab(n_vocab: int) -> str:
    """The language whose model files have `n_vocab` rows."""
    for code, L in LANGS.items():
        if L.n_vocab == n_vocab:
            return code
    raise ValueError(f"n_vocab {n_vocab}: none of {sorted(LANGS)}")


def ctc_targets(text: str, lang: str = "en") -> list[int]:
    chars = LANGS[lang].ctc_chars
    if lang == "zh":
        import text_zh  # pypinyin: only the Mandarin model needs it
        text = text_zh.pinyin(text)
    return [chars.index(c) for c in " ".join(text.lower().split()) if c in chars]


DIMS = dict(n_mels=N_MELS, n_vocab=N_VOCAB, n_audio_ctx=1500, n_audio_state=256, n_audio_head=4,
            n_audio_layer=4, n_text_ctx=224, n_text_state=256, n_text_head=4, n_text_layer=2)


def mel_filters(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS) -> np.ndarray:
    """Slaney-scale, Slaney-normalised triangular filters (the librosa default
    that Whisper's own filterbank uses). Written into the model file, so
    whisper.cpp applies exactly these at inference."""
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0

    def hz2mel(f):
        f = np.asarray(f, dtype=np.float64)
        return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, f / f_sp)

    def mel2hz(m):
        m = np.asarray(m, dtype=np.float64)
        return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)

    fft = np.linspace(0, sr / 2, n_fft // 2 + 1)
    hz = mel2hz(np.linspace(hz2mel(0), hz2mel(sr / 2), n_mels + 2))
    fd = np.diff(hz)
    ramps = hz[:, None] - fft[None, :]
    w = np.zeros((n_mels, n_fft // 2 + 1))
    for i in range(n_mels):
        w[i] = np.maximum(0, np.minimum(-ramps[i] / fd[i], ramps[i + 2] / fd[i + 1]))
    w *= (2.0 / (hz[2:n_mels + 2] - hz[:n_mels]))[:, None]
    return w.astype(np.float32)


_FB = torch.from_numpy(mel_filters())
_WIN = torch.hann_window(N_FFT)  # periodic, as whisper.cpp's hann
_ON_DEVICE: dict = {}


def log_mel(audio: torch.Tensor, frames: int) -> torch.Tensor:
    """16 kHz audio -> [80, frames] log-mel, as whisper.cpp computes it for an
    input followed by silence: power spectrum, filterbank, log10 floored at
    1e-10, clamped to (max - 8), then (x + 4) / 4. Frames past the audio get
    the value digital silence gets (max - 8), as in whisper.cpp's padding."""
    return log_mel_batch(audio[None], frames)[0]


def log_mel_batch(audio: torch.Tensor, frames: int) -> torch.Tensor:
    """[B, samples] -> [B, 80, frames]: `log_mel` of each row (each row is
    zero-padded past its clip, and each row has its own max), on the tensor's
    device, so training can run the features on the GPU."""
    need = frames * HOP
    if audio.shape[1] < need:
        audio = F.pad(audio, (0, need - audio.shape[1]))
    dev = audio.device
    if dev not in _ON_DEVICE:
        _ON_DEVICE[dev] = (_FB.to(dev), _WIN.to(dev))
    fb, win = _ON_DEVICE[dev]
    st = torch.stft(audio[:, :need + N_FFT // 2].float(), N_FFT, HOP, window=win, return_complex=True,
                    center=True, pad_mode="reflect")
    power = st.abs() ** 2
    m = torch.clamp(fb @ power, min=1e-10).log10()[:, :, :frames]
    m = torch.maximum(m, m.amax(dim=(1, 2), keepdim=True) - 8.0)
    return (m + 4.0) / 4.0


def sinusoids(length: int, channels: int, max_timescale: float = 10000.0) -> torch.Tensor:
    inc = math.log(max_timescale) / (channels // 2 - 1)
    inv = torch.exp(-inc * torch.arange(channels // 2))
    t = torch.arange(length)[:, None] * inv[None, :]
    return torch.cat([torch.sin(t), torch.cos(t)], dim=1)


class MultiHeadAttention(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.n_head = heads
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d, bias=False)
        self.value = nn.Linear(d, d)
        self.out = nn.Linear(d, d)

    def forward(self, x, xa=None, causal=False):
        q = self.query(x)
        src = x if xa is None else xa
        k, v = self.key(src), self.value(src)
        b, t, d = q.shape
        h = self.n_head
        q = q.view(b, t, h, d // h).transpose(1, 2)
        k = k.view(b, -1, h, d // h).transpose(1, 2)
        v = v.view(b, -1, h, d // h).transpose(1, 2)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        return self.out(o.transpose(1, 2).reshape(b, t, d))


class ResidualAttentionBlock(nn.Module):
    def __init__(self, d: int, heads: int, cross: bool = False):
        super().__init__()
        self.dropout = 0.0  # residual-branch dropout, training only (set_dropout)
        self.attn = MultiHeadAttention(d, heads)
        self.attn_ln = nn.LayerNorm(d)
        self.cross_attn = MultiHeadAttention(d, heads) if cross else None
        self.cross_attn_ln = nn.LayerNorm(d) if cross else None
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.mlp_ln = nn.LayerNorm(d)

    def forward(self, x, xa=None, causal=False):
        p = self.dropout if self.training else 0.0
        x = x + F.dropout(self.attn(self.attn_ln(x), causal=causal), p)
        if self.cross_attn is not None:
            x = x + F.dropout(self.cross_attn(self.cross_attn_ln(x), xa), p)
        return x + F.dropout(self.mlp(self.mlp_ln(x)), p)


def set_dropout(net: nn.Module, p: float):
    """Dropout on every block's residual branches while training (whisper.cpp
    has none; at inference the blocks are the same)."""
    for mod in net.modules():
        if isinstance(mod, ResidualAttentionBlock):
            mod.dropout = p


class AudioEncoder(nn.Module):
    def __init__(self, n_mels, n_ctx, d, heads, layers):
        super().__init__()
        self.conv1 = nn.Conv1d(n_mels, d, 3, padding=1)
        self.conv2 = nn.Conv1d(d, d, 3, stride=2, padding=1)
        self.register_buffer("positional_embedding", sinusoids(n_ctx, d))
        self.blocks = nn.ModuleList([ResidualAttentionBlock(d, heads) for _ in range(layers)])
        self.ln_post = nn.LayerNorm(d)

    def forward(self, mel):
        # [B, 80, 2*T] -> [B, T, d]; T <= n_ctx is whisper.cpp's audio_ctx
        x = F.gelu(self.conv2(F.gelu(self.conv1(mel)))).permute(0, 2, 1)
        x = x + self.positional_embedding[:x.shape[1]]
        for b in self.blocks:
            x = b(x)
        return self.ln_post(x)


class TextDecoder(nn.Module):
    def __init__(self, n_tokens, n_ctx, d, heads, layers):
        super().__init__()
        self.token_embedding = nn.Embedding(n_tokens, d)
        nn.init.normal_(self.token_embedding.weight, 0, 0.02)
        self.positional_embedding = nn.Parameter(torch.empty(n_ctx, d).normal_(0, 0.01))
        self.blocks = nn.ModuleList([ResidualAttentionBlock(d, heads, cross=True) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)
        self.pin_bias_dim()

    @torch.no_grad()
    def pin_bias_dim(self):
        self.ln.weight[0] = 0.0
        self.ln.bias[0] = 1.0

    def forward(self, tokens, xa):
        x = self.token_embedding(tokens) + self.positional_embedding[:tokens.shape[1]]
        for b in self.blocks:
            x = b(x, xa, causal=True)
        return self.ln(x) @ self.token_embedding.weight.t()


class Whisper(nn.Module):
    """`n_tokens` compact rows: text tokens 0..n_text-1, then eot, sot, not,
    nosp, then the language's `extra` prompt tokens (Mandarin: <|zh|>,
    <|transcribe|>)."""

    def __init__(self, dims: dict, n_text: int, lang: str = "en"):
        super().__init__()
        self.lang = LANGS[lang]
        if dims["n_vocab"] != self.lang.n_vocab:
            raise ValueError(f"dims n_vocab {dims['n_vocab']} is not {lang}'s {self.lang.n_vocab}")
        self.dims = dims
        self.n_text = n_text
        self.encoder = AudioEncoder(dims["n_mels"], dims["n_audio_ctx"], dims["n_audio_state"],
                                    dims["n_audio_head"], dims["n_audio_layer"])
        self.decoder = TextDecoder(n_text + 4 + len(self.lang.extra), dims["n_text_ctx"], dims["n_text_state"],
                                   dims["n_text_head"], dims["n_text_layer"])
        # training-only CTC head on the encoder over letters (the language's
        # ctc_chars, blank last): it teaches the encoder the sounds long before
        # cross-attention finds its alignment. Not exported: whisper.cpp never sees it.
        self.ctc = nn.Linear(dims["n_audio_state"], len(self.lang.ctc_chars) + 1)

    # compact ids of the special tokens
    @property
    def eot(self):
        return self.n_text

    @property
    def sot(self):
        return self.n_text + 1

    @property
    def notimestamps(self):
        return self.n_text + 2

    @property
    def nosp(self):
        return self.n_text + 3

    @property
    def prompt(self) -> list[int]:
        """The compact ids whisper.cpp's prompt holds with timestamps off."""
        return [self.sot] + [self.n_text + 4 + i for i in range(len(self.lang.extra))] + [self.notimestamps]

    def whisper_ids(self) -> list[int]:
        """Compact id -> whisper.cpp id."""
        return whisper_ids(self.n_text, self.lang.code)

    def forward(self, mel, tokens, detach_ctc: bool = False):
        """Token logits and CTC logits; with `detach_ctc` the CTC loss trains
        only its head (a fresh head's noise stays out of a trained encoder)."""
        xa = self.encoder(mel)
        return self.decoder(tokens, xa), self.ctc(xa.detach() if detach_ctc else xa)

    @torch.no_grad()
    def greedy(self, mel: torch.Tensor, max_tokens: int = 120) -> list[list[int]]:
        """Greedy decoding as whisper.cpp does it for the engine (prompt
        `self.prompt`, eot suppressed at the first step)."""
        xa = self.encoder(mel)
        b = mel.shape[0]
        toks = torch.tensor([self.prompt] * b, device=mel.device)
        done = [False] * b
        out = [[] for _ in range(b)]
        for step in range(max_tokens):
            lg = self.decoder(toks, xa)[:, -1]
            lg[:, self.sot:] = -1e9  # sot, notimestamps, nosp and the language's prompt tokens
            if step == 0:
                lg[:, self.eot] = -1e9
                lg[:, 220] = -1e9  # suppress_blank: a lone space
            nxt = lg.argmax(-1)
            nx = nxt.tolist()
            for i in range(b):
                if not done[i]:
                    if nx[i] == self.eot:
                        done[i] = True
                    else:
                        out[i].append(nx[i])
            if all(done):
                break
            toks = torch.cat([toks, nxt[:, None]], 1)
        return out
