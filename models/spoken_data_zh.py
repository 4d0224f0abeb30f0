"""Self-written Mandarin (simplified) *spoken* call-centre training data for the
callsense-zh text classifier.

Everything here is original text written for this project: templates, a small
compositional grammar and paraphrase variants.  No dataset or test split was
copied or paraphrased, and the held-out dev sets (models/spoken/) were never
opened while writing it.  Standard library only.

API
---
    generate(seed: int = 0, per_intent: int = 600) -> list[dict]
        each dict = {"text", "sentiment", "intent", "category"}
        deterministic for a given seed (one random.Random(seed) drives all).

    python spoken_data_zh.py [--seed 0] [--per-intent 600] [--out FILE.jsonl]
        prints counts per intent x sentiment and per category, diversity
        statistics and 40 random samples; --out writes JSON lines.

Design
------
Each utterance is built in three layers:

1. **Content** (per intent, per category).  For every intent there are
   structured parts: neutral request cores (`req`, ~40-60 templates each with
   slots such as {c_obj} {money} {order} {d}), intent-specific grievance
   statements (`ctx`, facts that carry the grievance: elapsed time, repeated
   calls, broken promises, still-not-done), hand-made grievance requests
   (`ctx_req`), neutral requests that merely contain negative words (`nnw`),
   sarcasm events (`sarc`), code-switched cores (`cs`), short turns, neutral
   story openers for long rambling turns, and positive cores.  They are
   combined with ~90 generic grievance clauses (broken promise, repetition,
   elapsed time, still not done, passed around, paying for nothing,
   disappointment, resignation, threats), ~30 sarcasm frames, ~25
   thanks-in-complaint frames, praise frames and caller backgrounds.
   product_defect cores are generated from (device, failure) pairs so the
   device and the failure always match.
2. **Speaker style** (`colloquialize`): openers (喂/你好/那个/呃), false starts
   and repeats (我想 我想问一下), fillers between clauses (就是/然后/那个),
   sentence-final particles (吧/呗/啊/呢), northern/southern variants
   (怎么->咋, 什么->啥, 弄->整/搞, 挺->蛮, 知道->晓得, 有+V), and a
   code-switch transform (查一下->check一下, 订单->order, 退款->refund ...).
3. **ASR surface** (`whisper_noise`, separate, probabilistic, label
   preserving): full-width punctuation (，。？) vs spaces vs none vs ASCII
   commas; numbers already come out as Arabic digits (mostly, grouped like
   2023 0415 8876) or Chinese numerals (三天, 幺三八); homophone errors
   (退款->推款, 套餐->套参, 宽带->宽代, 登录->登陆 ...); dropped characters.

Categories: calm_complaint, grievance_request, thanks_in_complaint, sarcasm,
rambling, plain_request, neutral_negative_words, positive, short,
code_switching, backchannel, identity, out_of_scope.  Every intent gets a
planned mix of sentiments (default 45 % negative / 40 % neutral / 15 %
positive, adjusted where that makes no sense, see SENT_RATIO) and, within a
sentiment, of categories (CAT_WEIGHTS).  Duplicates (compared without
punctuation and spaces) are avoided by re-drawing up to 12 times, so only the
small closed sets (short turns, back-channels, plain thanks) repeat.
Rambling turns (60-150 characters) draw a caller background and a story, then
pick a request/grievance whose domain (telecom, bank, shop, utility,
insurance, membership, travel, device; keyword-detected) fits the story.
For the problem intents (product_defect, delivery_problem, payment_problem)
positive turns come only from hand-written praise + problem lines, kept at
~6 %.

Labelling rules
---------------
Sentiment (the customer's, in this turn):
* negative - grievance, whether or not emotion words are used: broken
  promises, repeated calls, elapsed time (都十天了, 从3号等到现在), still not
  done (还是没到账), being passed around, paying for nothing, disappointment
  (挺失望的), resignation (我就想赶紧解决), threats (投诉到12315, 换别家),
  recurrence markers (又坏了, 第三次), sarcasm (真行啊 又让我等了四十分钟),
  thanks wrapped round a complaint (谢谢啊 但是这都第三次坏了), lodging a
  complaint (我要投诉...), impatient short turns (还是不行, 转人工 转人工).
* neutral - plain requests and questions; first-time problem reports worded
  without grievance (我家宽带灯一直闪红灯 帮我看一下); requests that merely
  contain negative words (投诉流程怎么走, 解约要违约金吗, 退款一般几天到账);
  back-channels, identity details, out-of-scope small talk.  A formulaic
  politeness word (麻烦你/谢谢 at the end of a request) does not make it
  positive.
* positive - thanks, praise, satisfaction, relief, litotes (还不错,
  没什么问题了).  A request accompanied by real praise keeps its intent and
  is positive.
Intent:
* A request keeps its intent whatever its sentiment; a grievance statement
  takes the intent of its topic (退款没到账 -> refund_request, 快递十天没到 ->
  delivery_problem); complaint = service/staff/process (no callback, rude or
  contradictory agents, long holds, missed appointments, passed around,
  unwanted sales calls); product_defect = the product itself failing (开不了机,
  闪退, 老掉线, 卡刷不了) incl. "still failing after a fix".
* order_status = where is it / has it shipped (incl. not shipped yet, no
  tracking); delivery_problem = in transit too long, lost, damaged, wrong
  address, marked delivered but not received.
* plan_change = upgrade / downgrade / switch plan / add a data pack / change
  a credit limit / add or remove roaming or riders; cancel_service = ending
  a whole service, subscription, account or contract.
* gratitude = thanking / praising is the point of the turn (all plain thanks
  positive; a closing thanks with a grievance tail is gratitude/negative).
  Sarcastic "thanks" is not gratitude (-> the topic's intent or complaint).
* other = back-channels, identity details, out-of-scope, bare reactions
  (还是不行 / 算了 with no topic -> other/negative; 太好了 那我就放心了 ->
  other/positive).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from collections import Counter

try:
    from classifier_data import INTENT_LABELS, SENTIMENT_LABELS
except ImportError:  # run from another working directory
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from classifier_data import INTENT_LABELS, SENTIMENT_LABELS

CATEGORIES = [
    "calm_complaint", "grievance_request", "thanks_in_complaint", "sarcasm",
    "rambling", "plain_request", "neutral_negative_words", "positive", "short",
    "code_switching", "backchannel", "identity", "out_of_scope",
]

# ===========================================================================
# Numbers (Arabic mostly, Chinese numerals sometimes, as Whisper writes them)
# ===========================================================================
_CN_DIG = "零一二三四五六七八九"


def cn_int(n: int, liang: bool = True) -> str:
    """Chinese numeral for 0 <= n < 100000 (十五, 一百零五, 两千)."""
    if n == 0:
        return "零"
    s, zero, started = "", False, False
    for unit, ch in ((10000, "万"), (1000, "千"), (100, "百"), (10, "十")):
        q, n = divmod(n, unit)
        if q:
            if zero:
                s += "零"
                zero = False
            if not (unit == 10 and q == 1 and not started):
                s += _CN_DIG[q]
            s += ch
            started = True
        elif started:
            zero = True
    if n:
        if zero:
            s += "零"
        s += _CN_DIG[n]
    if liang:
        if s == "二":
            s = "两"
        elif len(s) > 1 and s[0] == "二" and s[1] in "百千万":
            s = "两" + s[1:]
    return s


def count(rng: random.Random, n: int, p_cn: float = 0.35) -> str:
    """A count (天, 遍, 个月 ...): '3' or '三' (2 -> '两')."""
    return cn_int(n) if rng.random() < p_cn else str(n)


def ordinal(rng: random.Random, n: int) -> str:
    return cn_int(n, liang=False) if rng.random() < 0.6 else str(n)


def digit_string(rng: random.Random, length: int, first: str = "") -> str:
    return first + "".join(rng.choice("0123456789") for _ in range(length - len(first)))


def speak_digits(rng: random.Random, digits: str, yao: bool = True) -> str:
    """How a long number surfaces: 2023 0415 8876 / 202304158876 / 二零二三..."""
    r = rng.random()
    if r < 0.5:
        return digits
    if r < 0.85:
        step = 4 if len(digits) != 11 else None
        if step is None:  # phone: 3-4-4
            return " ".join([digits[:3], digits[3:7], digits[7:]])
        return " ".join(digits[i:i + step] for i in range(0, len(digits), step))
    table = dict(zip("0123456789", "零幺二三四五六七八九" if yao else "零一二三四五六七八九"))
    return "".join(table.get(c, c) for c in digits)


# ===========================================================================
# Slots
# ===========================================================================
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙",
            "马", "朱", "胡", "郭", "何", "林", "罗", "高", "梁", "郑", "谢", "宋"]
SURNAME_DESC = {
    "王": "三横一竖的王", "李": "木子李", "张": "弓长张", "刘": "文刀刘", "陈": "耳东陈",
    "杨": "木易杨", "黄": "草头黄", "吴": "口天吴", "周": "周末的周", "徐": "双人徐",
    "胡": "古月胡", "林": "双木林", "郭": "郭靖的郭", "何": "何必的何", "朱": "朱红的朱",
    "孙": "孙悟空的孙", "马": "马路的马", "高": "高低的高",
}
GIVEN = ["伟", "芳", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
         "明", "超", "秀英", "海燕", "建国", "志强", "丽华", "晓东", "雪梅", "子涵",
         "浩然", "佳怡", "文博", "玉兰", "国华", "一鸣", "欣怡"]
CITIES = ["北京", "上海", "广州", "深圳", "成都", "杭州", "武汉", "西安", "南京", "重庆",
          "天津", "苏州", "长沙", "郑州", "沈阳", "青岛", "厦门", "昆明", "哈尔滨", "合肥",
          "济南", "福州", "南宁", "石家庄", "大连", "无锡", "佛山", "东莞", "宁波", "贵阳"]
DISTRICTS = ["朝阳区", "海淀区", "浦东新区", "天河区", "南山区", "武侯区", "西湖区",
             "江汉区", "雁塔区", "鼓楼区", "渝北区", "和平区", "高新区", "经开区", "新城区"]
ROADS = ["建设路", "人民路", "解放路", "中山路", "长江路", "幸福路", "文化路", "花园路",
         "滨河路", "光明街", "和平街", "东风路"]
MONEY = [8, 10, 12, 15, 18, 19, 20, 25, 29, 30, 36, 38, 39, 45, 49, 50, 58, 59, 66, 68,
         78, 88, 98, 99, 100, 120, 128, 129, 150, 168, 198, 199, 200, 238, 258, 299,
         300, 368, 399, 450, 500, 680, 800, 899, 1200, 1580, 2000, 2680, 3999]


def _money(rng):
    v = rng.choice(MONEY)
    num = count(rng, v, 0.3)
    unit = rng.choice(["块", "块", "块钱", "元", "元", "块"])
    if v >= 100 and rng.random() < 0.15 and v % 100 == 0:
        return cn_int(v // 100) + "百" + ("块" if rng.random() < 0.5 else "")
    return num + unit


def _order(rng):
    return speak_digits(rng, digit_string(rng, rng.choice([10, 12, 12, 14, 16]),
                                          rng.choice(["", "2023", "2024", "3", "8"])))


def _phone(rng):
    return speak_digits(rng, "1" + rng.choice("3456789") + digit_string(rng, 9), yao=True)


def _last4(rng):
    return speak_digits(rng, digit_string(rng, 4))


def _idlast4(rng):
    s = digit_string(rng, 4)
    if rng.random() < 0.2:
        s = s[:3] + "X"
    return s if rng.random() < 0.8 else speak_digits(rng, s)


def _name(rng):
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _email(rng):
    user = rng.choice(["wang", "li", "zhang", "chen", "liu", "xiaoyu", "abc", "tom", "lucy",
                       "happy", "sunny"]) + digit_string(rng, rng.choice([2, 3, 4]))
    dom = rng.choice(["qq.com", "163.com", "126.com", "gmail.com", "sina.com", "outlook.com"])
    return user + "@" + dom if rng.random() < 0.7 else user + " at " + dom.replace(".", " dot ")


# ---- domain vocabularies ---------------------------------------------------
C_OBJ = ["宽带", "家里的宽带", "这个手机号", "副卡", "这张信用卡", "那张副卡", "视频会员",
         "会员的自动续费", "连续包月", "彩铃", "视频彩铃", "这份保险", "这个意外险",
         "燃气的自动代扣", "电费的代扣", "外卖会员", "超级会员", "网盘会员", "音乐会员",
         "家里的固话", "IPTV", "电视业务", "酒店会员", "话费自动充值", "短信提醒服务",
         "这个增值业务", "那个天气预报短信", "车险的自动续保", "健身房的月卡", "云存储"]
ACCT = ["账号", "这个账户", "会员账号", "手机银行", "这个号", "APP账号", "信用卡账户", "燃气户头"]
VAS = ["彩铃", "视频彩铃", "天气短信", "游戏包", "手机报", "来电提醒", "音乐包", "阅读包"]
APPS = ["你们的APP", "手机银行", "掌上营业厅", "外卖APP", "小程序", "网上银行", "视频APP",
        "这个软件", "客户端", "你们家APP"]
R_ITEM = ["那件衣服", "这双鞋", "那个充电宝", "买的耳机", "那台空气炸锅", "那单外卖", "机票",
          "酒店", "会员费", "年费", "这个月的保费", "那个网课", "游戏充值", "多充的话费", "押金",
          "那个行李箱", "预存的话费", "电动牙刷", "那箱水果", "那套床上用品", "火车票", "演唱会门票"]
ITEM = ["一件羽绒服", "两箱牛奶", "一台空气炸锅", "手机壳", "一双运动鞋", "一个行李箱", "猫粮",
        "打印机", "一套茶具", "几本书", "耳机", "洗发水", "电动牙刷", "奶粉", "一箱橙子",
        "新手机", "充电器", "显示器", "一个书桌", "电饭煲", "窗帘", "儿童座椅", "护肤品", "一箱纸巾"]
COURIER = ["顺丰", "中通", "韵达", "圆通", "京东", "邮政", "申通", "极兔"]
STAFF = ["客服", "装维师傅", "营业员", "快递员", "外卖小哥", "上门的师傅", "客户经理",
         "理赔员", "前台", "业务员", "安装师傅", "营业厅的工作人员"]
DEPT = ["售后部门", "技术部门", "信用卡中心", "理赔部门", "投诉部门", "财务那边", "维修那边",
        "我的客户经理", "宽带那边", "会员中心"]
TOPIC = ["退款", "理赔", "宽带", "信用卡", "大客户", "企业业务", "售后", "账单"]
R_DEV = ["空调", "热水器", "洗衣机", "冰箱", "燃气灶", "光猫", "路由器", "手机", "电视",
         "笔记本", "油烟机", "智能门锁", "燃气表", "电表", "机顶盒", "净水器", "扫地机器人"]
BILL_ITEM = ["月租", "年费", "手续费", "滞纳金", "服务费", "流量费", "信息费", "管理费",
             "分期手续费", "会员费", "配送费", "保费", "燃气费", "电费", "水费", "超套流量费"]
PROMO = ["充一百送五十", "老用户回馈", "满两百减三十", "新人首单立减", "积分翻倍", "开卡送礼",
         "宽带续约送一个月", "会员日五折", "邀请好友得红包", "里程兑换", "信用卡消费返现",
         "升级套餐送流量", "酒店会员连住优惠", "开通自动续费首月一块钱"]
PLAN = ["五十九的套餐", "一百二十九的套餐", "5G套餐", "不限量套餐", "融合套餐", "千兆宽带",
        "亲情套餐", "年卡", "季卡", "家庭版会员", "基础套餐", "学生套餐", "199元的套餐"]
SUGGEST = ["回访电话能不能晚上打", "APP里的客服入口能不能放显眼一点", "营业厅能不能多开几个窗口",
           "上门前能不能提前一个小时通知", "语音导航能不能简单一点", "推销电话能不能少打一些",
           "账单能不能写得再清楚一点", "老年人能不能有专门的服务通道", "排队的时候能不能告诉大概要等多久",
           "师傅上门能不能带个鞋套"]
PRODUCT_Q = ["这个套餐", "你们家的宽带", "这款手机", "这张信用卡", "这个保险", "那个理财",
             "超级会员", "家庭版会员", "这款路由器", "这个分期", "那个意外险", "你们的储蓄卡",
             "这款耳机", "这个流量包", "你们的企业宽带", "这个酒店套餐"]

# (device, owner, failures).  Failures always fit their device.
DEFECTS = [
    ("手机", "我的", ["开不了机", "充不进电", "老是自动重启", "屏幕点了没反应", "一直发烫",
                    "信号只有一格", "打电话对方听不到声音", "摄像头打不开", "卡在开机画面", "耗电特别快"]),
    ("路由器", "家里的", ["老掉线", "WiFi信号特别弱", "指示灯全灭了", "连上了也上不了网", "隔一会就断一下"]),
    ("光猫", "家里的", ["一直亮红灯", "LOS灯在闪红灯", "通电了没反应", "指示灯一直闪"]),
    ("宽带", "我家", ["老掉线", "网速特别慢", "一到晚上就断", "连不上网", "测速才几兆"]),
    ("网", "家里的", ["老掉", "时有时无", "特别卡", "一到晚上就断"]),
    ("机顶盒", "家里的", ["卡在开机画面", "遥控器按了没反应", "一直提示网络异常", "看着看着就黑屏"]),
    ("信用卡", "我的", ["刷不了", "在ATM上读不出来", "芯片读不出来", "插进POS机没反应"]),
    ("银行卡", "我这张", ["在ATM上读不出来", "好像消磁了 刷不了", "插进去就被退出来"]),
    ("APP", "你们的", ["一打开就闪退", "登录进去是白屏", "一直转圈加载不出来", "更新以后打不开了",
                     "点支付没反应", "老是卡死"]),
    ("小程序", "你们的", ["一直闪退", "打开是空白的", "页面加载不出来"]),
    ("电表", "我家", ["屏幕不亮了", "走字特别快", "一直显示报警"]),
    ("燃气表", "我家", ["不走字了", "显示屏一直报错", "充了气也打不着火"]),
    ("热水器", "家里的", ["打不着火", "水一直不热", "一开就报E1"]),
    ("空调", "家里的", ["不制冷", "外机有异响", "一开就跳闸", "一直滴水"]),
    ("冰箱", "新买的", ["不制冷", "一直嗡嗡响", "冷藏室结冰"]),
    ("耳机", "我的", ["左边没声音", "连不上蓝牙", "充不进电", "声音断断续续"]),
    ("手表", "我的", ["连不上手机", "屏幕失灵", "心率测不出来"]),
    ("电视", "家里的", ["有声音没画面", "老是自动关机", "开机就一条横线"]),
    ("扫地机器人", "我的", ["不回充了", "一直原地打转", "开机就报错"]),
    ("手机卡", "我的", ["插上显示无服务", "老是没信号", "打不了电话"]),
    ("固话", "家里的", ["拿起来没有拨号音", "打出去对方听不见", "一直有杂音"]),
    ("充电宝", "买的", ["充不进电", "用一会就没电了", "插上手机没反应"]),
    ("门锁", "家里的", ["指纹识别不了", "一直报警", "密码按了没反应"]),
    ("洗衣机", "家里的", ["脱水的时候晃得厉害", "不排水", "一开门就断电"]),
    ("笔记本", "我的", ["开机蓝屏", "键盘有几个键没反应", "充电灯不亮"]),
    ("会员视频", "我的", ["一播放就卡", "只有声音没画面", "显示播放失败"]),
    ("电动车", "刚买的", ["充不进电", "跑两公里就没电了"]),
    ("净水器", "家里的", ["一直出水很慢", "滤芯灯一直闪"]),
]
DEFECT_CS = {"手机": "iPhone", "路由器": "router", "APP": "APP", "耳机": "AirPods",
             "笔记本": "MacBook", "宽带": "WiFi", "网": "WiFi", "信用卡": "credit card"}


def _pair(rng, ctx):
    if "pair" not in ctx:
        dev, owner, fails = rng.choice(DEFECTS)
        ctx["pair"] = (dev, owner, rng.choice(fails))
    return ctx["pair"]


def _slot_money_plain(rng):
    return count(rng, rng.choice([v for v in MONEY if v < 500]), 0.3)


SLOTS = {
    "d": lambda r: count(r, r.randint(3, 30)),
    "d2": lambda r: count(r, r.randint(2, 7)),
    "dd": lambda r: count(r, r.randint(10, 45)),
    "wk": lambda r: count(r, r.randint(2, 4)),
    "mon": lambda r: count(r, r.randint(2, 6)),
    "hrs": lambda r: count(r, r.randint(1, 4)),
    "mins": lambda r: count(r, r.choice([15, 20, 25, 30, 40, 45, 50, 60, 90])),
    "ord": lambda r: ordinal(r, r.choice([2, 3, 3, 3, 4, 4, 5, 6])),
    "times": lambda r: r.choice(["两", "三", "四", "五", "好几", "2", "3", "4", "N"]
                                ) if r.random() < 0.9 else "十几",
    "date": lambda r: ordinal(r, r.randint(1, 28)),
    "month": lambda r: ordinal(r, r.randint(1, 12)),
    "hour": lambda r: ordinal(r, r.randint(8, 11)),
    "yrs": lambda r: count(r, r.randint(3, 15)),
    "money": _money,
    "num": _slot_money_plain,
    "bw": lambda r: r.choice(["100", "200", "300", "500", "1000", "一百", "三百", "五百"]),
    "gb": lambda r: r.choice(["10", "20", "30", "50", "100", "十", "二十", "三十"]),
    "order": _order,
    "phone": _phone,
    "last4": _last4,
    "idlast4": _idlast4,
    "d6": lambda r: speak_digits(r, digit_string(r, 6)),
    "code6": lambda r: speak_digits(r, digit_string(r, 6), yao=True),
    "name": _name,
    "surname": lambda r: r.choice(SURNAMES),
    "email": _email,
    "year": lambda r: str(r.randint(1955, 2004)) if r.random() < 0.7 else "".join(
        "零一二三四五六七八九"[int(c)] for c in str(r.randint(1955, 2004))),
    "city": lambda r: r.choice(CITIES),
    "district": lambda r: r.choice(DISTRICTS),
    "road": lambda r: r.choice(ROADS),
    "plate": lambda r: r.choice("京沪粤川浙苏鄂陕") + r.choice("ABCDE") + digit_string(r, 5),
    "c_obj": lambda r: r.choice(C_OBJ),
    "acct": lambda r: r.choice(ACCT),
    "vas": lambda r: r.choice(VAS),
    "app": lambda r: r.choice(APPS),
    "r_item": lambda r: r.choice(R_ITEM),
    "item": lambda r: r.choice(ITEM),
    "courier": lambda r: r.choice(COURIER),
    "staff": lambda r: r.choice(STAFF),
    "dept": lambda r: r.choice(DEPT),
    "topic": lambda r: r.choice(TOPIC),
    "rdev": lambda r: r.choice(R_DEV),
    "bill_item": lambda r: r.choice(BILL_ITEM),
    "promo": lambda r: r.choice(PROMO),
    "plan": lambda r: r.choice(PLAN),
    "pq": lambda r: r.choice(PRODUCT_Q),
    "suggest": lambda r: r.choice(SUGGEST),
}
PAIR_SLOTS = {"dev", "odev", "fail"}
# slots that keep one value within a turn (story and request talk about the same thing)
STICKY_SLOTS = {"rdev", "item", "r_item", "courier", "app", "yrs"}

_SLOT_RE = re.compile(r"\{(\w+)\}")


def fill(template: str, rng: random.Random, ctx: dict | None = None) -> str:
    """Replace {slot}s.  ctx keeps a (device, failure) pair consistent."""
    ctx = {} if ctx is None else ctx

    def rep(m):
        name = m.group(1)
        if name in PAIR_SLOTS:
            dev, owner, fail = _pair(rng, ctx)
            if name == "dev":
                return dev
            if name == "odev":
                return owner + dev
            return fail
        if name in STICKY_SLOTS:
            if name not in ctx:
                ctx[name] = SLOTS[name](rng)
            return ctx[name]
        return SLOTS[name](rng)

    return _SLOT_RE.sub(rep, template)


# ===========================================================================
# Generic grievance clauses (topic-free; grouped by how the grievance is shown)
# ===========================================================================
GRIEV = {
    "broken_promise": [
        "上周说好给我回电话 到现在也没人打",
        "你们说二十四小时之内给我回复 现在都{d2}天了",
        "上次的客服答应今天给我处理好",
        "说好的{d2}个工作日 早就过了",
        "你们的人说会有专人联系我 到现在谁也没联系过我",
        "上次说帮我登记了 结果系统里根本没有记录",
        "说好的回访 一个电话都没有",
        "你们承诺的时间早就过了",
        "我前天打的电话 说今天之内肯定有结果",
        "上回说是系统升级 让我过两天再看 现在还是一样",
        "说好了给我加急的",
        "你们自己说的周五之前搞定",
        "电话里答应得好好的 后面就没下文了",
    ],
    "repetition": [
        "这是我第{ord}次打过来了",
        "我都跟你们说过{times}遍了",
        "同样的问题我已经反映{times}次了",
        "每次打过来都要从头再说一遍",
        "这个问题我上个月就报过了",
        "我这周已经打了{times}个电话了",
        "每个客服说的都不一样",
        "上次那个客服也是这么跟我说的",
        "你们说的这个办法我早就试过了",
        "我把情况跟你们讲了不下{times}遍",
        "我今天已经是第{ord}个电话了",
    ],
    "elapsed": [
        "都{d}天了",
        "从{date}号等到现在",
        "等了快一个月了",
        "已经{wk}个礼拜了",
        "我等了一整天了",
        "拖了快{mon}个月了",
        "我在电话里等了{mins}分钟才接通",
        "从上个月拖到这个月",
        "前前后后折腾了{wk}个星期",
        "过了半个多月了",
        "一晃都{dd}天了",
    ],
    "still_not_done": [
        "到现在还是没解决",
        "到现在也没人管",
        "问题一直拖着没人处理",
        "到现在一点进展都没有",
        "到现在连个准话都没有",
        "到今天还是老样子",
        "到现在还在处理中",
        "到现在也没个结果",
    ],
    "passed_around": [
        "让我找这个找那个",
        "转了{times}个部门了",
        "营业厅让我打客服 客服又让我去营业厅",
        "每个人都说不归他管",
        "让我等通知 等了也没通知",
        "一会儿让我交材料 一会儿又说不用交",
        "你们推来推去的 谁也不负责",
        "商家让我找你们 你们又让我找商家",
        "让我在APP上弄 APP上又提示联系客服",
    ],
    "paying": [
        "钱每个月照扣",
        "该交的钱我一分没少交",
        "钱交了 东西没有",
        "我这钱花得冤枉",
        "钱扣得比谁都快",
        "月租一分不少 服务一点没有",
        "我是按时交费的",
    ],
    "disappointment": [
        "说实话挺失望的",
        "我用了你们家{yrs}年了 没想到会这样",
        "本来挺信任你们的",
        "我是真没想到你们会这样处理",
        "我身边好几个朋友都是我推荐过来的 现在我都不好意思了",
        "跟当初说的完全不一样",
        "这跟你们宣传的差得太远了",
        "我对你们的处理结果不太满意",
        "我一直觉得你们家还算靠谱",
    ],
    "resignation": [
        "我就想赶紧解决",
        "我也不想多说了",
        "你就给我个准话吧",
        "我现在只想要个结果",
        "别的我也不想听了",
        "我也没精力跟你们耗了",
        "我不想再打第二个电话了",
        "我不想听解释 就想知道什么时候能好",
        "我请了半天假就为了等这个",
        "你就直接告诉我能不能办",
        "道歉就不用了 给我解决问题就行",
    ],
    "threat": [
        "再不处理我就投诉到12315",
        "再这样我就换别家了",
        "不行我就去工信部投诉",
        "再不给我解决我就去银保监投诉",
        "我会去消协反映的",
        "我就只能去网上发帖了",
        "实在不行我就走法律程序",
        "你们不处理我就去营业厅当面说",
        "再不给我办我就打市长热线",
        "合约一到期我肯定不续了",
        "今天不给我个说法我就一直打",
        "我已经在黑猫投诉上写了",
    ],
}
GRIEV_ALL = [(g, t) for g, ts in GRIEV.items() for t in ts]
GRIEV_LEAD = [t for g in ("broken_promise", "repetition", "elapsed", "passed_around",
                          "disappointment") for t in GRIEV[g]]
GRIEV_LEAD_NOTIME = [t for g in ("repetition", "passed_around", "disappointment") for t in GRIEV[g]]
_TIME_RE = re.compile(r"天|礼拜|星期|周|月|号|分钟|小时|上午|下午|今天")
GRIEV_TAIL = [t for g in ("still_not_done", "paying", "disappointment", "resignation",
                          "threat") for t in GRIEV[g]]

# ===========================================================================
# Frames
# ===========================================================================
SARC_PRE = [
    "真行啊", "你们可真厉害", "太好了", "好家伙", "呵呵", "厉害厉害", "我可真是谢谢你们了",
    "不愧是大公司", "这效率可以啊", "真是长见识了", "这服务真是绝了", "你们真会做生意",
    "佩服佩服", "真棒啊", "真是太好了", "可以啊", "行 真行", "哎呦不错哦", "真是服务到家了",
    "你们这服务水平 没谁了", "真是贴心啊", "好 很好", "我真是开眼了",
]
SARC_POST = [
    "你们可真行", "真是服务到家了", "这效率我是服了", "真是谢谢你们了啊", "真是好样的",
    "挺好 真挺好", "这速度绝了", "你们也是够可以的", "真是一流的服务", "我还能说什么呢",
    "真不愧是你们", "这可真是贴心",
]
SARC_GENERIC = [
    "又让我等了{mins}分钟", "电话打了{times}遍 一个解决的都没有", "一个问题我说了{times}遍",
    "每次都说在处理", "三个客服三个说法", "回电话说了{times}次 一次没回", "工单一放就是一个月",
]

THANKS_PRE = [
    "谢谢啊 但是{g}", "谢谢你 不过{g}", "好的谢谢 但是我还是得说 {g}",
    "你态度挺好的 我知道不是你的问题 但是{g}", "辛苦你了 可是{g}", "感谢你的耐心 但是{g}",
    "谢谢你们的道歉 可是{g}", "你人挺好的 但是{g}", "我也不想为难你 但是{g}",
    "谢谢你听我说 可{g}", "谢谢啊 你说得挺清楚 问题是{g}", "麻烦你了啊 不过说实话 {g}",
    "嗯 谢谢 但是{g}", "谢谢你帮我查 但是{g}", "你们的道歉我收到了 可是{g}",
    "感谢感谢 只是{g}", "上次的客服也很客气 但是{g}", "我知道你们也挺忙的 可是{g}",
]
THANKS_POST = [
    "{g} 不过还是谢谢你啊", "{g} 跟你说也没用 谢谢你了", "{g} 行吧 谢谢",
    "{g} 还是谢谢你听我说这么多", "{g} 好吧 谢谢你了", "{g} 谢谢你 但我是真的不想再打了",
    "{g} 辛苦你了 但这事必须给我解决",
]

PRAISE_PRE = [
    "你们家服务一直挺好的", "我用你们家好多年了 一直挺满意的", "上次那个客服特别耐心",
    "你们APP现在挺好用的", "师傅上次来装得又快又好", "朋友推荐我来的 说你们服务好",
    "你们的网一直挺稳定的", "上次的问题你们处理得特别快", "你们家东西质量挺不错的",
    "我对你们一直挺放心的", "你好 你声音真好听", "你们这个电话一打就通 挺好的",
    "说实话你们比我之前用的那家强多了", "用了一段时间了 还不错",
    "之前的体验一直挺好", "你们的客服都挺专业的", "你们的套餐挺划算的",
    "上回理赔特别顺利", "你们家快递一直很快",
]
PRAISE_POST = [
    "你们效率真高 谢谢", "谢谢啦 辛苦了", "你们服务真不错", "谢谢你 你人真好",
    "太好了 谢谢", "你们真是挺贴心的", "谢谢 你讲得特别清楚", "挺满意的 谢谢",
    "给你们点个赞", "一会我给你打个五星", "谢谢 你比我想的还快",
]

# neutral caller backgrounds for rambling turns
BG_NEU = [
    "我是你们家的老用户了 用了快{yrs}年了",
    "我平时上班比较忙 一直没顾上打这个电话",
    "这个号是我帮我妈办的",
    "我是帮我家老人打的 他们不太会弄手机",
    "我前段时间出差了 今天刚回来",
    "我们家刚搬过来没多久",
    "我是开小店的 每天都要用手机收款",
    "我上个月刚办的业务",
    "我今天是第一次打你们这个电话",
    "我在外地上学 这个是家里给我办的",
    "我先说一下情况啊",
    "是这样的 我跟你说一下前因后果",
    "我这个事情有点复杂 我慢慢说",
    "那个 我是用我老公的名字办的",
    "我刚下班回来 才有空打电话",
    "我现在在{city}",
    "我家里有老人小孩 平时用得比较多",
    "我用的是公司给配的手机",
]
LINK = ["所以", "所以我想问一下", "所以就想", "我现在就是想", "就是想问问", "你看", "那个",
        "所以打电话过来", "所以麻烦你", "我就想", "然后", "我打电话就是"]


def _choice_fill(rng, lst, ctx=None):
    return fill(rng.choice(lst), rng, ctx)


# ===========================================================================
# Per-intent content
#   req       neutral request cores (the intent, no grievance)
#   ctx       grievance statements of this topic (facts carry the grievance)
#   ctx_req   hand-made grievance + request turns
#   nnw       neutral requests that merely contain negative words
#   sarc      sarcasm events of this topic
#   cs        code-switched cores (neutral)
#   short_neu / short_neg   very short turns
#   story     neutral story pieces for long rambling turns
#   pos       positive cores (praise/satisfaction + the intent)
# ===========================================================================
I = {}

I["cancel_service"] = dict(
    req=[
        "我想把{c_obj}取消掉", "帮我把{c_obj}退订一下", "{c_obj}我不想要了 帮我取消吧",
        "{c_obj}怎么取消", "我想问一下{c_obj}在哪里取消", "能不能帮我把{c_obj}停掉",
        "麻烦帮我取消{c_obj} 下个月开始就不要扣了", "我想办理{c_obj}的退订",
        "{c_obj}到期以后我就不续了", "我准备把{c_obj}关掉 需要我这边准备什么",
        "下个月开始{c_obj}就不用了", "我要注销{acct}", "我想把{acct}注销掉",
        "{acct}注销要怎么操作", "我想销户", "我要退网", "我想把这个号销掉",
        "我家老人那个号码不用了 能帮我销掉吗", "我搬去{city}了 原来家里的宽带用不上了 帮我拆机",
        "我要搬家了 老房子的宽带想销户", "我想把{c_obj}的自动续费关了", "自动续费在哪里关",
        "这张信用卡我不用了 帮我销卡", "我想退保 现在退保怎么操作", "保单我不打算续了 帮我登记一下",
        "我想解除合约", "合约到期了 我不打算续约", "我想提前解约 要怎么办", "我想取消订阅",
        "帮我把那个包月取消了", "我名下的{c_obj}帮我停了吧", "我想终止这个服务",
        "我不打算续费了 帮我把会员关了", "我要取消会员", "这个业务我用不上 帮我退了",
        "那个{vas}我没用过 帮我退掉", "我要退订{vas}", "我要把{app}的会员取消",
        "{app}的会员怎么取消自动续费", "公司那条宽带专线不用了 我想撤掉",
        "能在电话里直接给我办注销吗", "注销需要本人去营业厅吗", "我想把副卡停了 主卡留着",
        "我出国定居了 这个号码想销号", "信用卡我想销户 里面还有一点溢缴款",
        "我想把这个账户关闭", "我不需要这个保险了 想退掉", "把我{c_obj}取消了吧 用不上",
        "我跟家里人商量了 还是把{c_obj}退了", "我想把{c_obj}和{c_obj}都取消掉",
        "帮我查一下我现在开了哪些业务 不用的都取消", "这个月底我就不用了 帮我预约销户",
        "我想取消明年的续保", "房子卖了 燃气的户头想销掉", "宽带合约什么时候到期 到期我就不续了",
        "外卖会员的连续包月帮我关一下", "网盘的自动续费帮我停一下", "我要把{phone}这个号注销",
        "我想停掉{c_obj} 从下个月开始", "你帮我看看{c_obj}现在能不能直接退",
    ],
    ctx=[
        "我上个月就说要取消了 这个月又扣了{money}", "我都申请注销{times}次了 到现在还没销掉",
        "营业厅说要打电话办 电话里又说要去营业厅办", "退订了还在扣钱",
        "这个自动续费我压根没开过 每个月扣我{money}", "销个户让我跑了{times}趟营业厅了",
        "每次我一说要取消 你们就给我推优惠", "APP里那个取消的按钮找了半天也找不到",
        "网{mon}个月前就不用了 钱还在照扣", "从{date}号就说在处理 到现在还没注销",
        "上次客服说已经帮我取消了 结果这个月还在扣", "当初办的时候说随时可以退 现在又说有合约",
        "设备都还回去了 账单还在出", "我人都不在这个城市了 还在给我算月租",
        "申请销卡{wk}个礼拜了 状态一直是处理中", "说好的到期自动停 结果又给我自动续上了",
        "{c_obj}我{mon}个月前就退订了 这个月账单上还有",
    ],
    ctx_req=[
        "上个月就说要取消 今天必须给我取消掉", "别再给我推优惠了 我就是要销户",
        "挽留的话就别说了 直接帮我注销", "这是我最后一次打电话说这个事了 把{c_obj}给我停了",
        "扣了我{mon}个月的冤枉钱了 赶紧帮我把这个业务退掉", "你们服务一直这样 我还是把{c_obj}退了吧",
        "我没开过的东西每个月都扣钱 全部给我取消", "营业厅去了{times}趟都没办成 今天电话里给我把户销了",
    ],
    nnw=[
        "提前解约要付违约金吗", "合约没到期的话能销户吗 有什么损失吗", "注销以后余额会不会清零",
        "现在退保的话损失大不大", "销卡会不会影响征信", "取消会员以后剩下的天数还能用吗",
        "欠费的号码能直接销户吗", "如果不续约 会有什么罚款吗", "注销失败一般是什么原因",
        "号码销掉以后别人会不会用到", "宽带退了的话光猫要还吗 丢了怎么算",
        "取消自动续费以后 已经扣的钱还能退吗", "停机和销户有什么区别",
        "销户以后之前的欠费还要补吗", "退保的话手续费扣多少",
    ],
    sarc=[
        "想销个户比开户难一百倍", "取消个会员让我跑了三个地方", "退订了照样扣 这钱赚得可真轻松",
        "开通一秒钟 取消要半个月", "取消的按钮藏得比宝贝还深", "我人都搬走了 月租还在给我算",
    ],
    cs=[
        "帮我cancel一下{app}的VIP会员", "我要cancel这个订阅", "自动续费怎么关 每个月都在扣我的Apple ID",
        "我想把家里的WiFi宽带退掉", "我的account想注销 怎么弄", "5G套餐我不要了 帮我销号",
        "那个VIP我不续了 帮我关掉自动续费", "这个subscription怎么退订",
    ],
    short_neu=["退订", "销户", "我要销户", "取消会员", "退网", "帮我取消", "不续了", "注销账号",
               "关掉自动续费", "我要退保"],
    short_neg=["赶紧给我销了", "别挽留了 销户", "我说了要退订 退订", "不用了 全都给我取消",
               "销户 现在就销", "又扣了 马上给我停掉"],
    story=[
        "我这个宽带是前年办的 当时签了两年合约", "我现在工作调到外地了 家里基本没人住",
        "家里人都换成别家的网了 这边一直闲着", "这个会员是之前追剧的时候开的 现在也不怎么看了",
        "老人家前段时间住进养老院了 手机号就用不上了", "我在APP里找了一圈没找到入口",
        "我女儿给我开了好几个会员 我也不会用",
    ],
    pos=[
        "你们服务其实挺好的 就是我要出国了 {c_obj}只能先取消了",
        "用了这么多年挺满意的 可惜要搬走了 帮我把宽带销了吧",
        "你们家会员挺好用的 只是最近实在没时间看 先帮我取消自动续费",
        "说实话用得挺舒服的 就是公司给配了手机 这个号就先销了",
    ],
)

I["refund_request"] = dict(
    req=[
        "我想申请退款", "{r_item}我想退款", "{r_item}能退吗", "我想把{r_item}退了 钱退回原来的卡上",
        "订单号{order} 帮我办一下退款", "我申请了退款 帮我查一下进度", "退款是退到余额还是原路退回",
        "我想问一下退款退到哪一步了", "这个押金怎么退", "多交的那部分钱能退给我吗",
        "我那个订单取消了 钱帮我退一下", "东西已经寄回去了 退款帮我看一下处理到哪了",
        "我想退掉{r_item} 还没用过", "退票的话能退多少钱", "这个能不能七天无理由退",
        "酒店我不住了 能全额退吗", "航班取消了 我要退票退款", "上个月多扣的{money}能退给我吗",
        "会员刚开就不想用了 能退吗", "买重复了 想退一个", "尺码不合适 我想退了",
        "那个课还没上 能把钱退回来吗", "我想把预存款退出来", "外卖没送到 钱能退吗",
        "退保的钱会退到哪张卡", "帮我把运费也退了吧", "退款能退到微信吗",
        "退款申请提交了 大概什么时候审核", "麻烦帮我走一下退款流程", "我要退货退款",
        "刚买完就降价了 能退差价吗", "我先申请退款 东西明天寄回去可以吗", "充错了话费 能退回来吗",
        "押金{money} 怎么申请退", "不好意思 我想退款", "退货地址是哪里 我寄回去退款",
        "订单还没发货 直接退款可以吗", "我买的{r_item}想申请仅退款", "帮我看看{order}这单能不能退",
        "我想把这单退了 钱退到信用卡", "机票我想退 帮我算一下能退多少", "我取消了预订 押金什么时候退",
        "我想申请售后退款", "商品和描述的不一样 我想退", "这个月的保费我多交了 想退回来",
        "能不能把服务费退给我", "退款的话需要我提供什么", "我想问下退款是全额的吗",
        "麻烦给我退一下{money}", "我在APP上点不了退款 能帮我申请吗", "年费能退吗 我一次都没刷过",
        "演唱会延期了 门票能退吗", "同一个东西我下了两单 退掉一单", "帮我把那{money}退回来",
    ],
    ctx=[
        "退货都寄回去{d}天了 钱还没退", "退款申请提交了{wk}个礼拜了 一直显示审核中",
        "说好的三到五个工作日到账 现在都两个礼拜了", "你们客服上次说已经退了 我查了卡上根本没有",
        "东西你们仓库都签收了 钱还是没退", "从{date}号等到现在 一分钱都没退回来",
        "每次问都说在走流程", "退款被驳回了 也没告诉我为什么", "说给我退全款 结果只退了{money}",
        "航班是你们取消的 退票还要扣我手续费", "我都打了{times}次电话问退款了",
        "钱扣得那么快 退的时候就这么慢", "上周就说退款已经审批了 到现在也没看到钱",
        "退款状态显示成功 银行那边根本没收到", "订单都取消{d}天了 钱还冻结着",
    ],
    ctx_req=[
        "退货都寄回去{d}天了 钱什么时候退给我", "东西都退回去了 你就告诉我钱哪天能到",
        "说好的退款到现在没到 今天能不能给我退", "扣了我两次钱 多的那笔赶紧退给我",
        "退款拖了{wk}个礼拜了 我就想知道钱到底哪天到账", "你们取消的订单 凭什么钱还不退给我",
        "已经申请了{times}次退款了 这次能不能直接给我办了",
    ],
    nnw=[
        "退款一般几天到账", "退货的话运费谁出", "如果商品有质量问题能全额退吗",
        "退款失败了一般是什么原因", "没收到货的话可以直接退款吗", "退票有手续费吗 扣多少",
        "东西拆封了还能退吗", "坏了的话是退款还是换货", "退款不成功会怎么处理",
        "信用卡付的钱退款会不会有利息", "要是超过七天了还能退吗", "退款被拒了还能再申请吗",
    ],
    sarc=[
        "退个款比登天还难", "扣钱一秒钟 退钱一个月", "退款走了{d}天还在路上 这钱是走着来的吧",
        "说好的极速退款 极速了{wk}个礼拜", "收钱的时候可积极了 退钱就找不到人了",
    ],
    cs=[
        "我想申请refund", "那个refund什么时候到账", "我的order退款了吗 帮我check一下",
        "退款能退到PayPal吗", "我在APP上点了退款 状态一直是pending", "帮我把这单cancel掉 钱退回来",
        "refund能原路返回吗", "那个deposit押金怎么退",
    ],
    short_neu=["退款", "我要退款", "退钱", "我想退货", "能退吗", "我想退票", "申请退款", "退差价"],
    short_neg=["我的钱呢", "钱还没退", "钱还是没到", "退款还是没到", "赶紧退钱", "钱到底退不退"],
    story=[
        "我上个月在你们APP上买了{item}", "我{date}号订了你们的酒店 后来行程改了",
        "我买了会员以后才发现手机不支持", "东西收到以后试了一下 尺码偏小",
        "我{date}号下的单 后来在别的地方买到了", "当时快递员上门取件 我拿了回执",
        "我爸不小心点了个课程 扣了{money}",
    ],
    pos=[
        "你们家退货一直挺方便的 这次也想退一下{r_item}", "上次退款特别快 这单也想麻烦你们退一下",
        "东西挺好的 就是尺码不合适 帮我退一下吧", "你们售后态度挺好的 这个{r_item}帮我退了就行",
    ],
)

I["complaint"] = dict(
    req=[
        "我想反馈一个问题", "我想提个意见", "投诉的话找哪个部门", "我上次提交的投诉有结果了吗",
        "我想给你们提个建议 排队的时候能不能告诉大概要等多久", "能帮我记录一下我的意见吗",
        "你们有没有投诉的邮箱", "我想反映一下你们营业厅的情况", "投诉以后多久会有人联系我",
        "我想对上次的服务做个反馈", "上次的投诉单号是{order} 帮我看看处理到哪了",
        "我想反馈一下 你们的营业厅周末能不能多开一个窗口", "我想问问服务评价在哪里填",
        "营业厅的叫号机好像坏了 跟你们说一下", "我想建议你们APP上加一个人工客服入口",
        "我想提个建议 上门之前能不能提前打个电话", "你们有没有监督电话",
        "我想了解一下你们对工作人员有什么服务规范", "我的意见你们会转给相关部门吗",
        "我想补充一下上次投诉的材料", "我想给你们的服务提点建议",
        "我想反馈一下{staff}的服务", "我想对{date}号上门的{staff}做个评价", "我想问一下上次反映的问题有没有人跟进",
        "你们的服务监督电话是多少", "我想了解一下投诉的处理时限", "我想补充一下投诉单{order}的情况",
        "上次的工单{order}现在是谁在负责", "我想提个建议 {suggest}", "我有个建议 {suggest}",
        "我想撤销之前的投诉 问题已经解决了", "我想确认一下你们收到我的反馈了没有", "我想查一下我的投诉记录",
        "能不能把我的号码加到免打扰名单里", "我想登记一下不再接收营销电话", "我上次反馈的事情 想问问处理结果",
        "我想对上次的处理结果做个回访评价", "我想反映一下{city}那个营业厅的情况", "我想给{staff}的服务打个分",
    ],
    ctx=[
        "上周说好给我回电话 到现在也没人打", "你们的师傅约的{hour}点上门 我请了假在家等 人一直没来",
        "我在营业厅排了{hrs}个小时的队", "刚才那个客服话没说完就把电话挂了",
        "你们客服说话的态度让人很不舒服", "打了{times}次电话 每次都让我重新说一遍",
        "我打你们热线等了{mins}分钟才接通", "你们的工作人员给我办了我没要的业务",
        "营业员说这个套餐没有合约 结果有", "上门的师傅装完就走了 地上的线头都没收拾",
        "说好二十四小时内处理 现在{d2}天了没人联系我", "客服让我找营业厅 营业厅让我找客服",
        "工单提交了{d}天了 状态一直没变", "我说的问题你们的人压根没听 就在那念话术",
        "销售打电话的时候说得好好的 办了以后完全不是那么回事", "一天给我打{times}个推销电话",
        "我问了三个客服 三个人说的都不一样", "你们说会有专人跟进 结果谁也没联系过我",
        "你们的人上门没带工具 又约了下次", "我上次投诉的事情到现在也没给我答复",
        "在线客服一直是机器人回复 问什么都答非所问", "营业厅的人让我自己回家去网上弄",
        "上次答应给我的补偿到现在也没兑现", "快递员每次都不打电话 直接扔驿站",
        "你们的{staff}跟我说话爱搭不理的", "我已经说了不需要 你们的人还是一直打电话推销",
        "预约的时间到了 你们的人迟到了两个小时也没打招呼", "{staff}当着我的面跟别人打电话聊天",
        "我都跟你们说过不要打这个号码了 还是天天打", "营业厅的人说系统坏了让我明天再来 我已经来了{times}趟",
        "你们的客服随口答应的事情 后面的人都不认", "我没有授权 你们就给我开了业务",
    ],
    ctx_req=[
        "我要投诉你们的{staff}", "我要投诉 工号{order}的那个客服", "上周说好给我回电话 到现在也没人打 我要投诉",
        "这个事情你们得给我个说法", "我要投诉你们这个服务 把我的投诉记下来", "你们的{staff}态度这样 我要求给我一个解释",
        "我要投诉上门的师傅 约好的时间一直不来", "我要实名投诉你们营业厅", "这个投诉我要求有人专门跟进",
        "我要投诉 你们的客服一直不给我转人工", "你把我的投诉升级一下 我要找你们负责人",
        "推销电话别再打了 我要投诉", "你们把我的话记下来 我要投诉这个处理结果",
    ],
    nnw=[
        "投诉流程怎么走", "我想问一下投诉一般多久有回复", "投诉的话需要提供什么材料",
        "我想问问如果对处理结果不满意还能怎么办", "投诉能匿名吗", "投诉单号在哪里能查到",
        "被推销电话打扰的话在哪里登记", "服务不好的话在哪里评价", "想问一下你们的投诉电话是多少",
        "如果师傅迟到了一般怎么处理", "客服说错了的话以哪个为准",
    ],
    sarc=[
        "又让我等了{mins}分钟", "说好的回电 回到今天也没回", "三个客服三个说法 你们可真统一",
        "约好上午来 下午五点了还没见人影", "你们这排队效率 我半天假都不够用",
        "每个人都说不归他管 那归谁管", "推销电话倒是一天不落",
    ],
    cs=[
        "我要complain你们的服务", "你们的customer service态度也太那个了", "上次的case到现在都没人follow",
        "我想给你们提个feedback", "说好的callback一直没打给我", "我要投诉 帮我开个case",
        "我想投诉一下 你们的manager在吗",
    ],
    short_neu=["我想反馈个问题", "提个建议", "投诉怎么投", "我想提个意见"],
    short_neg=["我要投诉", "投诉", "我要投诉你们", "把你们领导叫来", "给我个说法", "你们这服务"],
    story=[
        "我上周三打过你们电话 说的是家里网的事", "我{date}号去的你们营业厅", "那天我约了上午的安装",
        "上个月有个业务员打电话给我推荐套餐", "我之前在线上留言过", "我那天请了半天假在家等",
        "我去营业厅办业务的时候前面就两个人",
    ],
    pos=[],
)

I["product_defect"] = dict(
    req=[
        "{odev}{fail}", "{odev}{fail} 帮我看一下", "{odev}{fail} 是怎么回事", "{odev}{fail} 该怎么办",
        "{odev}最近{fail}", "我那个{dev}{fail} 是不是坏了", "{dev}从昨天开始就{fail}",
        "{dev}今天早上突然{fail}", "{odev}{fail} 重启过了也一样", "我们家{dev}好像坏了 {fail}",
        "你好 我的{dev}{fail}", "{dev}{fail} 你帮我查一下是什么原因", "我想问一下{dev}{fail}怎么处理",
        "{odev}突然{fail} 是不是哪里设置有问题", "{dev}{fail} 是我这边的问题还是你们那边的问题",
        "昨天晚上开始{odev}就{fail}", "我发现{odev}{fail}", "那个 {dev}{fail}",
        "{odev}{fail} 你们能远程看看吗", "家里{dev}{fail} 别的都正常",
        "打扰一下 {dev}{fail}", "{dev}{fail} 需要我这边怎么操作",
        "宽带灯一直闪红灯 帮我看一下", "网速特别慢 测速才几兆", "信号特别差 打电话一直断",
        "家里的网一直连不上", "刷卡的时候POS机读不出我的卡", "APP一点开就闪退",
        "手机银行登录以后页面是空白的", "燃气表显示欠气 但我刚充过", "电视盒子一直显示无信号",
    ],
    ctx=[
        "{odev}这都第{ord}次{fail}了", "刚修好没{d2}天 {dev}又{fail}", "买回来不到一个月{dev}就{fail}",
        "{dev}从{date}号开始就{fail} 到现在也没好", "报修了{times}次了 {dev}还是{fail}",
        "换了新的{dev}还是{fail}", "按你们说的重启了 {dev}还是{fail}", "师傅来看过说好了 第二天{dev}又{fail}",
        "这已经是换的第二台了 还是{fail}", "每个月钱照交 {dev}三天两头{fail}",
        "{dev}{fail}这个毛病 我跟你们说过{times}遍了", "{odev}隔三岔五就{fail}",
        "{dev}{fail} 已经一个礼拜了", "{dev}{fail} 我家孩子上网课都上不了", "{dev}还在保修期就{fail}",
    ],
    ctx_req=[
        "{odev}这都第{ord}次{fail}了 你们给我换个新的", "刚修好又{fail} 这次你们得彻底给我弄好",
        "{dev}{fail} 报了{times}次了 今天必须给我解决", "换了两台都{fail} 你们这到底什么质量 给我个处理方案",
        "按你们说的都试过了 {dev}还是{fail} 别再让我重启了",
    ],
    nnw=[
        "要是手机开不了机 一般是什么原因", "网断了的话我自己能先怎么排查", "APP闪退是不是要卸载重装",
        "卡坏了的话补办要多久", "路由器坏了是不是要换新的", "摔过的手机还能保修吗",
        "信号不好是不是跟地方有关系", "热水器打不着火一般是什么问题",
        "光猫亮红灯是什么意思", "我想问一下如果充不进电要怎么检测",
    ],
    sarc=[
        "又坏了", "新买的{dev} 用了三天就{fail}", "这质量真是没谁了 一个月坏{times}次",
        "又断网了", "这网速真快啊 一个网页加载一分钟", "刚修好就又{fail}", "{dev}又{fail}了",
    ],
    cs=[
        "我的iPhone开不了机", "这个APP老闪退", "家里的WiFi老是断", "router的灯一直在闪",
        "我的AirPods左边没声音", "更新了新的version以后就打不开了", "APP一直crash",
        "MacBook开机就蓝屏", "5G信号特别差 老是跳到4G", "WiFi连上了但是没有网",
        "我的credit card刷不了",
    ],
    short_neu=["开不了机", "网断了", "没信号", "APP闪退", "连不上网", "刷不了卡", "没声音", "黑屏了"],
    short_neg=["又断网了", "还是连不上", "又坏了", "又闪退了", "还是开不了机", "又没信号了"],
    story=[
        "我是在你们官方店买的{dev}", "平时就是正常用 没摔过也没进水", "我家里好几台设备都连着",
        "我白天在家办公 对网要求比较高", "昨天晚上下了场雨", "{dev}是去年这个时候装的",
        "我已经按说明书上的步骤弄过一遍",
    ],
    pos=[
        "你们家的东西我一直挺信得过的 这次{odev}{fail} 帮我看看",
        "之前用着一直挺好的 就是今天{odev}{fail}", "你们客服挺专业的 我这个{dev}{fail} 你帮我看看",
    ],
)

I["repair_request"] = dict(
    req=[
        "能派个师傅上门看一下吗", "我想预约一下维修", "{rdev}坏了 想报修", "维修网点在哪里",
        "能不能约明天上午上门", "帮我登记一下报修", "我想改一下上门维修的时间", "师傅大概几点能到",
        "寄修的话怎么寄", "我想申请保修", "能不能换个时间 周六上门", "帮我安排个工程师看一下{rdev}",
        "燃气灶要检修 怎么预约", "空调要加氟 能安排吗", "屏幕碎了 能换屏吗", "我想把手机送修",
        "电表坏了 要换一个 帮我派人来", "我想查一下维修进度", "维修单号{order} 修好了吗",
        "{rdev}要维修 最快什么时候能来", "我家{rdev}需要上门检测", "麻烦约个师傅来修{rdev}",
        "能不能约下午{hour}点以后", "我想约一下{rdev}的上门安装和调试", "维修的话需要带发票吗",
        "我想问一下离{city}最近的售后点", "能上门取件去修吗", "我想申请延保期内的维修",
        "帮我把维修预约改到周末", "我想给{rdev}做个保养", "你们师傅上门的时候顺便帮我看下{rdev}",
        "我这边{rdev}需要换个零件 怎么预约", "师傅来之前能先打个电话吗", "我想预约光猫上门更换",
        "帮我约个时间 我白天不在家 只能晚上", "维修需要我提前准备什么", "我想取消明天的维修预约",
        "维修好了是寄回来还是我去拿", "帮我下个维修单", "家里的{rdev}能不能上门修", "我想预约换滤芯",
        "燃气表要更换电池 能派人来吗", "{rdev}坏了 在保修期内 帮我安排维修",
    ],
    ctx=[
        "报修{d}天了 师傅还没来", "约好今天上午 我在家等了一上午 人一直没来", "维修送去{wk}个礼拜了还没修好",
        "师傅来了说没带配件 又约到下周", "修了{times}次了还是老毛病", "保修期内还收了我{money}检测费",
        "每次约都说排不上", "说好的三天之内上门 今天都第{ord}天了", "维修单显示已完成 可根本没人来过",
        "师傅说要换主板 换了以后问题一样", "寄修寄过去{d}天了一点消息都没有",
        "预约了{times}次 每次都是临时取消", "师傅电话一直打不通",
    ],
    ctx_req=[
        "报修{d}天了还没人来 今天能不能派个人过来", "修了{times}次都没修好 这次给我换个靠谱的师傅",
        "等了一上午了 你帮我问问师傅到底几点来", "维修拖了{wk}个礼拜了 我要求今天给我个上门时间",
        "每次约好都爽约 这次能不能给我确定一个时间",
    ],
    nnw=[
        "保修期内能免费修吗", "上门维修收不收费", "修不好的话能换新的吗", "维修的时候坏的零件会还给我吗",
        "过了保修期修一次大概多少钱", "人为损坏的话保修吗", "如果修坏了你们负责吗",
        "进水了还能修吗", "维修期间有没有备用机",
    ],
    sarc=[
        "你们修个东西可真快 一修就是一个月", "师傅真是准时啊 说上午来 下午五点还没影",
        "修了{times}次 越修越坏", "报修电话一打就通 师傅一等就是一个礼拜",
    ],
    cs=[
        "我想book一个上门维修", "帮我check一下维修进度", "维修的status怎么一直没变",
        "iPhone屏幕碎了 想预约换屏", "能不能约个engineer上门", "维修的ticket号是{order}",
    ],
    short_neu=["报修", "我要报修", "预约维修", "派个师傅", "上门修", "维修进度"],
    short_neg=["师傅还没来", "怎么还没来修", "到底什么时候来修", "还没修好"],
    story=[
        "我家{rdev}是前年买的 还在保修期", "我白天要上班 只有周末在家", "上次师傅来看过一次",
        "{rdev}是装修的时候你们一起装的", "我住的是老小区 没有电梯", "我把发票和保修卡都找出来了",
    ],
    pos=[
        "上次你们师傅修得特别好 这次{rdev}又想麻烦你们看看", "你们售后挺靠谱的 帮我约个时间修一下{rdev}",
        "之前那个师傅特别专业 能不能还约他来", "你们的维修一直挺及时 这次也帮我安排一下",
    ],
)

I["order_status"] = dict(
    req=[
        "我的订单到哪了", "帮我查一下订单 单号{order}", "我{date}号买的东西什么时候发货",
        "快递现在到哪里了", "东西大概几号能到", "我点的外卖现在到哪了", "订单显示已发货 物流在哪看",
        "帮我查下物流", "能不能帮我催一下发货", "我的信用卡寄出来了吗", "新办的信用卡大概多久能寄到",
        "预售的那个什么时候发", "订单号是{order} 麻烦看下状态", "我买的{item}发货了吗",
        "我想确认一下订单有没有下单成功", "酒店订单确认了吗", "机票出票了吗", "换货的新机发出来了吗",
        "今天能送到吗", "用的是哪家快递", "能不能周末再送", "我想查一下我的{item}到哪了",
        "我的SIM卡寄了吗", "光猫什么时候给我寄过来", "帮我看看单号{order}现在在哪",
        "我网上办的号卡什么时候能收到", "下单的时候说三天内发货 想确认一下", "外卖大概还有多久到",
        "订单状态显示已出库 是什么意思", "快递单号能发给我吗", "我那个{courier}的单号查不到信息",
        "请问{item}今天能不能发出去", "帮我看看订单是不是已经付款成功了", "新会员卡什么时候寄出",
        "我的保单寄出了吗", "发票什么时候随货寄出", "我想改一下收货时间", "配送大概几点到",
        "我订的{item}从哪个仓发货", "帮我查一下{phone}这个手机号下的订单", "我下单成功了吗 没收到短信",
        "预计送达时间是几号", "我想看看我的订单进度", "能查到快递员的电话吗",
    ],
    ctx=[
        "说好{d2}天发货 都一个礼拜了还没动静", "下单{d}天了还显示待发货", "订单一直显示处理中",
        "付完款{d}天了 连个物流单号都没有", "每次问都说快了快了", "说是今天发货 又推到了明天",
        "信用卡说七个工作日寄出 现在都{wk}个礼拜了", "预售说月初发 现在都月底了",
        "订单页面一直显示已揽件 {d}天没更新", "酒店订单下了{d2}天了还没确认",
    ],
    ctx_req=[
        "下单{d}天了还没发货 你就告诉我到底哪天发", "说好的发货时间早过了 帮我查一下到底在哪",
        "都问了{times}次了 这次能不能给我一个准确的发货时间", "我的卡拖了{wk}个礼拜还没寄 今天帮我查清楚",
    ],
    nnw=[
        "要是一直没发货的话怎么办", "物流不更新一般是什么原因", "没有单号的话还能查吗",
        "如果地址填错了会不会送不到", "下雨的话会不会延迟配送", "订单异常是什么意思",
    ],
    sarc=[
        "说好的当天发货 发了一个礼拜", "付钱的时候那么快 发货的时候就没人了",
        "物流信息比我还淡定 {d}天不带动一下", "预售预到下个月去了",
    ],
    cs=[
        "那个order到哪了", "帮我check一下物流", "我的package什么时候发", "tracking number能发给我吗",
        "order status一直是processing", "我的order号是{order}", "帮我follow一下这个订单",
    ],
    short_neu=["查订单", "我的快递到哪了", "发货了吗", "订单到哪了", "什么时候到", "查物流"],
    short_neg=["怎么还没发货", "到底发没发", "还没发货", "物流还是没动"],
    story=[
        "我{date}号在你们官网下的单", "当时页面上写的是现货", "这个是买给我妈的生日礼物",
        "我选的是{courier}配送", "我下单的时候备注了要尽快", "我这周末要出远门",
    ],
    pos=[
        "上次买的东西特别好 这次又下了一单 想问问什么时候发", "你们家发货一直挺快的 想问下这单到哪了",
        "你们的东西挺好用的 我又给朋友买了一个 帮我查下发货没", "之前的快递都挺准时的 这单帮我看一下",
    ],
)

I["delivery_problem"] = dict(
    req=[
        "快递显示签收了 但我没收到", "包裹送错地址了", "收到的东西外包装破了 里面的杯子碎了",
        "外卖少送了一份饮料", "快递放到驿站了 但是驿站说找不到", "我的包裹好像丢了", "送来的东西不是我买的",
        "快递员没打电话直接放门口了 我没看到", "东西少了一件", "外卖送来汤洒了", "快递显示派送中 但是人没来",
        "能不能重新派送一下", "包裹可能被别人拿走了", "我的信用卡寄到老地址去了", "快递送到隔壁小区去了",
        "收到的{item}压坏了", "外卖送错了 不是我点的", "快递显示退回了 我没拒收啊", "箱子里是空的",
        "我的快递被放到了快递柜 但是取件码没收到", "单号{order}显示签收 但家里没人收过",
        "收件人写的是我 但送到了别人家", "包裹外面全是水 里面东西湿了", "配送员把我的件放在楼下了",
        "外卖送到了 但是少了一份主食", "快递被送到了{city} 我人在{city}", "东西到了 可是型号不对",
        "我收到的是别人的包裹", "快递说投递失败 我一直在家", "保价的包裹丢了怎么处理",
        "蛋糕送到的时候已经压扁了", "生鲜送到的时候已经化了", "信用卡显示已妥投 我没收到",
        "快递停在中转站不动了", "快递员让我自己去网点拿", "驿站说我的件被别人取走了",
        "东西寄到了 但是发票没有", "我定的是送货上门 结果放在了门卫", "冰箱送到了 送货的人说不管搬上楼",
    ],
    ctx=[
        "快递都{d}天了还没到", "说好次日达 {d2}天了还没到", "物流显示签收了 我家一直有人 根本没人来过",
        "第{ord}次送错了", "每次都直接扔门口", "外卖送了一个半小时 送到都凉了",
        "打快递员电话一直不接", "让我找商家 商家让我找快递", "包裹在中转站待了{d}天没动",
        "第{ord}次收到压坏的东西了", "快递丢了{wk}个礼拜了 一直说在找", "上次也是少送了东西",
        "外卖超时了{mins}分钟 骑手一个电话都没打",
    ],
    ctx_req=[
        "快递都{d}天了还没到 你们到底给不给我找", "签收了我没收到 你们给我查清楚是谁签的",
        "东西又压坏了 给我补发一个", "外卖送了一个多小时 东西都凉了 你们看怎么处理",
        "包裹丢了{wk}个礼拜了 要么补发要么退钱", "又送错地址了 这次能不能给我送对",
    ],
    nnw=[
        "快递丢了一般怎么赔", "东西坏了签收以后还能申请理赔吗", "如果我不在家快递会放哪",
        "包裹破损的话要拍照吗", "送错了的话是你们来取还是我寄回去", "外卖洒了一般怎么处理",
        "丢件的话保价能赔多少",
    ],
    sarc=[
        "次日达真快啊 第五天了还没到", "你们快递可真行 签收了东西不见了", "这包装真结实 杯子碎成了八瓣",
        "外卖送到都能当冰镇的吃了", "快递绕着全国走了一圈 就是不到我家",
    ],
    cs=[
        "我的package显示delivered 但是我没收到", "外卖order少了一份", "快递送错address了",
        "tracking显示签收了 东西不在", "那个parcel丢了怎么办", "快递小哥没call我直接放门口了",
    ],
    short_neu=["快递没收到", "送错了", "包裹丢了", "东西坏了", "少了一件", "外卖送错了"],
    short_neg=["又送错了", "还是没到", "东西又坏了", "快递呢"],
    story=[
        "我家是电梯房 门口有监控", "我今天一整天都在家", "我网购挺多的 一般都是{courier}送",
        "我点的是中午的外卖", "这个快递是寄给我爸妈的", "我下单的时候地址写得很清楚",
    ],
    pos=[
        "你们快递一直挺准时的 这次不知道为什么显示签收了 帮我查一下",
        "你们服务挺好的 就是这次外卖少了一份饮料 帮我看看", "平时送货都挺好的 这次东西有点压坏了",
        "你们的快递小哥一直挺负责的 不过这次{item}好像送错地址了", "我挺喜欢你们家的 就是这回{item}少了一件",
        "你们家生鲜一直很新鲜 这次{item}到的时候包装破了 帮我处理一下", "你们平时配送都挺快的 这单显示签收了 我没看到东西",
    ],
)

I["billing_question"] = dict(
    req=[
        "我这个月话费怎么比平时多了{money}", "帮我查一下这个月的账单", "账单上有一笔{money}的扣费 我不知道是什么",
        "这个月租是怎么算的", "信用卡账单什么时候出", "这期最低还款是多少", "年费是怎么收的",
        "为什么扣了我{money}的服务费", "这笔消费我不记得", "账单日能不能改到月底", "阶梯电价是怎么算的",
        "燃气费这个月比上个月高了不少 想问问原因", "能帮我开一下发票吗", "这个{bill_item}是什么",
        "同一笔钱好像被扣了两次", "还款日是几号", "这笔{money}是哪里来的扣费", "会员自动扣了{money} 是什么项目",
        "我的账户余额还有多少", "我现在欠费多少", "水费是按月收还是按季度收", "保费是怎么计算的",
        "我想要一份详细的话费清单", "上个月的电子账单能发给我吗", "这个{bill_item}每个月都要交吗",
        "账单上写的{bill_item}{money} 是什么意思", "宽带费是包年还是按月扣", "流量超了是怎么收费的",
        "能不能帮我看一下话费的构成", "这期账单的明细在哪里看", "分期每个月要还多少",
        "我想查一下去年全年的缴费记录", "我交的{money}里面包含哪些", "为什么这个月电费是估抄的",
        "我这个套餐里的{bill_item}怎么还单独收", "账单上有一笔境外的消费 帮我看看是什么",
        "我想开个增值税专票", "话费是预扣还是后扣", "这个月的账单金额是{money}吗",
        "燃气费可以按月出账单吗", "信用卡的利息是怎么算的", "我想知道每个月固定扣款是哪几项",
        "手机号{phone} 帮我查一下这个月消费", "我看到有一笔信息费 是什么业务", "发票抬头能改吗",
    ],
    ctx=[
        "我根本没开过这个业务 每个月扣我{money}", "这笔费用上次说是系统问题会取消 这个月又出来了",
        "每个月都莫名其妙多扣{money}", "同一笔钱扣了我两次 已经反映过{times}次了", "从{month}月份开始话费就不对",
        "说好的免年费 结果还是收了", "上次说帮我减免的{bill_item} 这个月账单上还有",
        "我一个月也用不了几度电 电费比邻居家多一倍", "套餐里明明包含的 还单独收了我{money}",
        "这个{bill_item}之前从来没收过 也没人通知我", "我每个月按时交 还给我算了滞纳金",
        "账单对不上 问了{times}个客服都说不清楚",
    ],
    ctx_req=[
        "这个扣费我根本不认 你给我查清楚这{money}是什么", "每个月都多扣钱 你把明细一项一项给我说清楚",
        "说好免年费的 为什么又扣了 今天给我说明白", "多收的{bill_item}问了{times}次了 到底什么时候给我处理",
    ],
    nnw=[
        "逾期了会影响征信吗", "滞纳金是怎么算的", "如果忘记还款了怎么办", "欠费停机以后多久会销号",
        "扣错了的话一般怎么处理", "账单有问题的话在哪里申诉", "超出套餐会不会扣很多钱", "不交年费会怎么样",
        "如果我对账单有异议 要走什么流程",
    ],
    sarc=[
        "你们这扣费可真准时 服务就不准时了", "我啥也没用 你们钱倒是收得挺勤快",
        "没开的业务扣得比开了的还准", "账单比我自己还了解我 还能多出来{money}",
    ],
    cs=[
        "我的bill上面有一笔不认识的charge", "帮我check一下这个月的账单", "能开个invoice吗",
        "这个fee是什么", "我的statement里面多了{money}", "帮我把账单发到我的email",
    ],
    short_neu=["查账单", "查话费", "开发票", "账单明细", "还款日几号", "欠费多少"],
    short_neg=["怎么又多扣了", "又乱扣费", "这钱我不认", "又多收了"],
    story=[
        "我每个月的套餐费一直是固定的", "我这个号平时就打打电话", "我上个月出国了 手机一直关机",
        "我家就我一个人住 平时用电很少", "我有好几张你们的卡 账单都是分开的", "我一般都是自动扣款的",
    ],
    pos=[
        "你们的电子账单做得挺清楚的 就是有一项我想问问", "你们家费用一直挺透明的 想确认一下这个月的扣费",
        "用着挺好的 就是想问问这个月账单里的{bill_item}", "你们APP查账单挺方便的 我就是看不懂其中一项",
    ],
)

I["payment_problem"] = dict(
    req=[
        "付款的时候一直显示支付失败", "转账转不出去 提示交易受限", "充值了话费没到账", "钱扣了 订单显示未支付",
        "还信用卡的钱显示还款中", "绑定的银行卡付不了款", "交电费的时候钱扣了但是没缴上", "转账显示处理中 对方那边显示没收到",
        "这个月的自动扣款没扣成功", "刷卡被拒了 卡里是有钱的", "我付了{money} 但是显示没有付款", "在国外消费刷不了",
        "还款还了但是账单还显示欠款", "缴燃气费提示缴费失败", "保费扣款失败了 怎么补缴", "ATM取钱没出钞但是扣款了",
        "扫码付款的时候提示风控拦截", "给{name}转的{money}被退回来了", "话费充值显示成功 但是余额没变",
        "线上缴费一直跳转不到支付页面", "绑卡的时候提示银行卡信息有误", "分期付款的时候提示额度不足 但我额度是够的",
        "水费在APP上交了 但是还显示未缴", "订单付款超时了 钱已经扣了", "二维码付款一直提示交易异常",
        "跨行转账钱扣了对方没收到", "代扣协议签了 但是没有自动扣", "我用信用卡还款 提示超过单笔限额",
        "同一个订单扣了两次钱", "付款显示银行处理中", "我的卡在网上支付被拒绝了", "充值卡充不进去",
        "转账的时候提示收款人账户异常", "交学费的时候付款失败了", "手机银行转账一直提示系统繁忙",
        "我想问一下这笔{money}的付款到底成功没有", "给家里交的燃气费没到账", "付款时一直收不到支付验证码",
        "外币支付显示失败 但是钱冻结了",
    ],
    ctx=[
        "钱扣了{d}天了 订单还是未支付", "转账{d}天了对方还没收到", "充值的钱{d}天都没到账",
        "同一笔钱付了两遍 一个都没成功", "已经换了{times}张卡了 都付不了", "问了好几次都说是系统问题",
        "卡里的钱被冻结{d2}天了", "燃气费交了没到账 现在家里已经停气了", "自动扣款连续{times}个月失败 也没人通知我",
        "还款明明按时还了 还给我记了逾期", "上次就说修复了 今天付款还是失败",
    ],
    ctx_req=[
        "钱扣了订单还显示没付 你们赶紧给我处理", "转账{d}天了还没到 你就告诉我钱现在在哪",
        "交了费还被停气了 今天必须给我恢复", "付了两次钱 一次都没成功 钱先给我退回来",
    ],
    nnw=[
        "付款失败一般是什么原因", "转账失败的话钱会退回来吗", "扣款失败会不会产生滞纳金",
        "如果支付超时了钱会怎么处理", "刷卡被拒是不是卡有问题", "还款失败会影响征信吗",
        "转错账了能追回来吗",
    ],
    sarc=[
        "扣钱倒是挺快的 订单就是不成功", "钱从我卡里出去了 就是到不了你们那", "付款失败{times}次 扣款成功{times}次",
    ],
    cs=[
        "付款一直payment failed", "Apple Pay刷不了", "我用PayPal付款失败了", "转账显示pending",
        "扫码pay的时候提示error", "我的card被decline了",
    ],
    short_neu=["付不了款", "支付失败", "转账没到", "充值没到账", "扣款失败", "付款失败"],
    short_neg=["又付款失败", "钱扣了没到", "还是付不了", "又没到账"],
    story=[
        "我今天中午在你们APP上下单", "我平时都是用这张卡付款的", "我是给老家的爸妈交的燃气费",
        "我刚换了新手机 支付软件也是重新装的", "我在{city}出差 刷的是信用卡",
    ],
    pos=[
        "你们APP平时付款挺顺的 今天不知道为什么付不了", "一直用你们家手机银行 挺方便的 就今天转账没到",
        "之前都挺好的 这次充值没到账 帮我看一下", "你们的缴费功能一直挺方便的 今天交电费提示失败了",
        "一直觉得你们转账挺快的 这次给家里转的{money}没到 帮我查查", "用你们信用卡好多年了 挺满意 今天在国外刷不了",
        "你们客服一直挺专业的 我这笔{money}的付款显示失败 帮我看看",
    ],
)

I["account_access"] = dict(
    req=[
        "我的账号登不上了", "密码忘了 怎么重置", "收不到验证码", "账户被锁了 怎么解锁", "手机银行登录提示密码错误",
        "我换了手机号 账号怎么改绑", "实名认证一直不通过", "人脸识别老是失败", "支付密码输错了三次 被锁了",
        "怎么修改登录密码", "账号被冻结了是怎么回事", "我想改一下绑定的邮箱", "验证码发到我旧手机上了",
        "身份验证需要什么材料", "我的会员账号好像被别人登录了", "卡的密码忘了 怎么办", "我想重置一下{app}的密码",
        "我用{phone}注册的 现在登不进去", "登录的时候提示账号不存在", "怎么解除设备绑定",
        "我想把账号换绑到新手机上", "人脸识别需要本人去网点吗", "密码错误次数太多 多久能解锁",
        "我的银行卡密码锁了 怎么解", "忘记了用户名 能查一下吗", "账号异常 需要我做什么验证",
        "登录要输入的那个动态码在哪里看", "我想开通指纹登录", "换手机以后原来的账号怎么登录",
        "邮箱收不到找回密码的邮件", "我的账号提示存在风险 被限制登录了", "怎么修改预留手机号",
        "我爸的账号登不上 我能帮他重置吗", "网上银行的U盾丢了 怎么登录", "二次验证的手机号不用了 怎么换",
        "会员账号显示在别的设备登录了", "我想注册一个账号 但提示手机号已被注册", "我在APP上找不到忘记密码的按钮",
        "帮我查一下我的账号是不是被冻结了", "身份证过期了 认证的时候通不过",
        "我想改一下手机银行的登录名", "我想修改一下支付密码", "{app}需要实名认证 怎么弄", "子账号怎么登录",
        "能帮我查一下这个账号绑的是哪个手机号吗", "我想把家里人的账号解绑", "找回密码要回答安全问题 我忘了答案",
        "我在新设备上登录 提示要验证身份", "{app}怎么退出其他设备的登录", "{app}的登录密码能改成简单点的吗",
    ],
    ctx=[
        "验证码发了{times}次 一条也没收到", "账号被冻结{d}天了还没解", "人脸识别试了二十几次",
        "已经提交了{times}次材料 还是审核不过", "每次登录都要重新验证一遍", "按你们说的重置了 还是登不上",
        "密码改了{times}次了 还是提示错误", "网点说线上解 线上又说去网点", "我本人都站在柜台前了 还说验证不了",
        "账号被锁了{wk}个礼拜 钱都取不出来",
    ],
    ctx_req=[
        "验证码一直收不到 你们今天能不能给我解决", "账号冻结{d}天了 到底什么时候给我解开",
        "材料交了{times}次了 这次你帮我盯着点 别再驳回了", "我就想登进我自己的账号 到底还要我证明什么",
    ],
    nnw=[
        "密码输错几次会被锁", "账号被冻结了钱会不会有问题", "要是被盗号了怎么办", "忘记密码会不会影响余额",
        "账号异常是不是被别人登了", "换号以后收不到验证码怎么办", "认证失败会不会影响信用",
    ],
    sarc=[
        "你们这安全措施可真到位 连我自己都登不进去", "验证码比我的工资还难等", "人脸识别认了半天说我不是我",
    ],
    cs=[
        "我的password忘了", "账号被lock了", "login的时候一直提示error", "收不到verification code",
        "我的account登不上", "帮我reset一下密码", "Face ID认证一直失败", "绑定的email要换",
    ],
    short_neu=["登不上", "忘记密码", "重置密码", "账号被锁了", "收不到验证码", "解锁账号"],
    short_neg=["还是登不上", "又被锁了", "验证码还是没来", "还是认证不了"],
    story=[
        "我上周换了新手机", "这个账号是我好几年前注册的", "我平时很少用网上银行", "我以前的手机号已经停了",
        "我出国了一段时间 刚回来",
    ],
    pos=[
        "你们APP挺好用的 就是我想改一下登录密码", "上次客服帮我找回账号特别快 这次又想麻烦一下",
        "你们安全做得挺好的 我想开通一下指纹登录", "新版APP挺顺手的 我想换绑一下手机号",
    ],
)

I["plan_change"] = dict(
    req=[
        "我想把套餐升级一下", "我想换个便宜点的套餐", "能不能给我加个流量包", "宽带想从{bw}兆升到{bw}兆",
        "帮我把套餐降到{plan}", "我想开通国际漫游", "下个月要出国 帮我开一下漫游", "信用卡额度能不能提一下",
        "我想把临时额度调高一点", "我想换成5G套餐", "帮我加一张副卡", "把会员从月卡换成年卡",
        "保险想加一个附加险", "车险的三者险想从一百万加到两百万", "把通话分钟数加一点", "我想把流量加到{gb}G",
        "能不能把合约套餐换成不限量的", "家里宽带要提速", "套餐里的视频会员能换成音乐会员吗", "我想改成按年付费",
        "国际漫游包怎么开", "我想办个亲情号", "把信用卡额度降低一点", "我想把预付费改成后付费",
        "回国了 把国际漫游关了吧", "我想换成{plan}", "我现在的套餐流量不够用 想换一个", "我想把宽带和手机合成融合套餐",
        "能不能加一个{gb}G的流量包", "下个月开始把套餐换成{plan}", "我想升级成家庭版会员", "信用卡想换成白金卡",
        "能给我办个临时提额吗 我要出去旅游", "保额想再加一点", "把我副卡的套餐也改一下", "我想加装一个IPTV",
        "我想把{bw}兆宽带降到{bw}兆 用不了那么多", "定向流量包能换成通用流量吗", "套餐能不能改成月初生效",
        "我想增加一个家庭成员的号码", "我想开通来电显示", "把短信包去掉 我用不上", "我想把酒店会员升到金卡",
        "帮我看看有没有比现在更合适的套餐", "电费想改成峰谷电价", "能不能把{phone}的套餐改一下",
    ],
    ctx=[
        "套餐改了{times}次了 还是按原来的扣", "上次说好下个月生效 结果还是老套餐", "申请提额{times}次了 每次都说综合评分不足",
        "你们说改套餐不用违约金 结果扣了我{money}", "流量天天不够用 说了几次升级都没弄好", "宽带说给我提速 网速还是一样",
        "营业厅说只能线上改 线上又显示不支持", "漫游说开好了 到了国外还是没信号", "降套餐就要去营业厅 升套餐电话里就能办",
        "我是老用户了 想换个套餐还要交违约金", "说好的提速到{bw}兆 测出来还是一百兆不到",
    ],
    ctx_req=[
        "套餐改了{times}次还没改对 今天给我改成{plan}", "说好的升级到现在没生效 你帮我马上改过来",
        "提额申请了{times}次了 这次能不能给我人工审一下", "我在国外漫游一直用不了 你赶紧帮我重新开一下",
        "老用户换个套餐还这么麻烦 就给我换成便宜的那个吧",
    ],
    nnw=[
        "降级套餐有没有什么损失", "改套餐要违约金吗", "套餐降了以后原来的优惠还有吗", "提额失败会不会影响征信",
        "漫游不关的话会不会被多扣钱", "降额度对信用有没有影响", "换套餐以后号码会不会变",
        "合约期内能降套餐吗 会不会罚钱",
    ],
    sarc=[
        "升套餐一个电话 降套餐跑断腿", "提速提了个寂寞", "说好的升级 升完了和原来一模一样",
        "漫游开好了 到了国外一格信号都没有",
    ],
    cs=[
        "我想upgrade一下套餐", "帮我换成5G套餐", "加一个{gb}G的流量包", "我想开通国际roaming",
        "信用卡的limit能提吗", "把plan换成便宜点的", "宽带想upgrade到千兆", "帮我把VIP升级成年卡",
    ],
    short_neu=["换套餐", "升级套餐", "加流量", "开漫游", "提额度", "降套餐", "加个流量包"],
    short_neg=["套餐还是没改", "怎么还是老套餐", "额度还是没提"],
    story=[
        "我现在的套餐是好几年前办的", "最近在家办公 流量用得比较多", "孩子上网课 网速有点跟不上",
        "我下个月要去{city}出差", "家里又添了一个人 也要办个号", "我每个月流量都用不完",
    ],
    pos=[
        "你们新出的那个套餐挺划算的 我想换过去", "你们家的网挺稳的 我想再升级到千兆", "体验了一下会员挺好用的 想换成年卡",
        "用了你们家很多年了 很满意 想把套餐升一档", "你们的国际漫游上次用着挺好的 这次出国还想开一个",
    ],
)

I["promotion_inquiry"] = dict(
    req=[
        "最近有什么优惠活动吗", "老用户有没有什么优惠", "我看到你们有个{promo}的活动 怎么参加", "积分能换什么",
        "优惠券怎么用", "双十一有没有活动", "新人红包在哪领", "会员日有什么折扣", "信用卡积分快过期了 能兑换什么",
        "里程能兑换机票吗", "酒店会员有什么权益", "有没有学生优惠", "邀请好友有奖励吗", "办宽带有没有送什么",
        "续费有没有折扣", "我的积分怎么查", "{promo}这个活动还有吗", "有没有优惠码可以用", "这个优惠能和会员折扣叠加吗",
        "合约到期了 续约有什么优惠", "我想问一下{promo}的规则", "积分兑换话费怎么操作", "生日有没有什么福利",
        "活动的返现多久到账", "推荐别人办卡有没有奖励", "优惠券的有效期是多久", "我在短信里看到一个{promo} 是真的吗",
        "老人办卡有没有优惠", "开通自动续费是不是更便宜", "新用户专享的活动老用户能参加吗", "宽带续费包年有没有优惠",
        "积分能抵现金吗", "我想领一下那个满减券", "这次的促销什么时候结束", "信用卡分期有没有免息活动",
        "我的里程快过期了 能延期吗", "会员升级有没有优惠价", "参加{promo}需要满足什么条件", "电费有没有什么缴费优惠",
        "{promo}的活动怎么报名", "我能参加{promo}吗", "积分兑换的礼品怎么领", "我有{num}积分 能换点什么",
        "邀请码在哪里填", "优惠券领了以后在哪里看", "老客户续约能不能送点流量", "现在办{plan}有没有优惠",
        "这个月有没有话费充值优惠", "酒店连住有没有折扣", "信用卡新户礼怎么领", "会员开年卡有没有打折",
    ],
    ctx=[
        "说好的返现到现在也没返", "活动页面写的送{money} 结果没送", "优惠券领了用不了 问了{times}次都说在处理",
        "新用户有优惠 老用户反倒什么都没有", "积分莫名其妙清零了", "参加了{promo} 承诺的流量一直没到账",
        "办卡的时候说送的礼品到现在也没寄", "说好的首月免费 结果第一个月就扣了{money}", "活动规则写得清清楚楚 到我这就不算了",
    ],
    ctx_req=[
        "说好的返现到现在没到 你帮我查一下什么时候返", "承诺送的流量没给我 今天给我补上",
        "我的积分怎么没了 你给我恢复一下", "活动礼品说了{wk}个礼拜了 到底什么时候寄",
    ],
    nnw=[
        "优惠券过期了还能用吗", "活动结束了还能补参加吗", "积分过期了能恢复吗", "返现没到账一般多久会到",
        "参加活动会不会有什么隐藏收费", "如果退货了优惠券会退回吗", "不参加活动会不会影响原来的套餐",
    ],
    sarc=[
        "老用户真是没人疼啊 优惠都是给新人的", "返现返了{mon}个月 还在路上", "积分攒了{yrs}年 一夜清零",
        "这优惠真实惠 领了用不了",
    ],
    cs=[
        "有没有什么promotion", "这个discount能用吗", "我有个promo code用不了", "积分能换什么gift",
        "会员有什么benefit", "双十一有没有deal", "那个cashback什么时候返",
    ],
    short_neu=["有优惠吗", "最近有活动吗", "积分查询", "优惠券怎么用", "有折扣吗"],
    short_neg=["返现呢", "优惠还是没给", "积分怎么没了"],
    story=[
        "我在朋友圈看到你们的广告", "我用你们家的卡好几年了 积分攒了不少", "我朋友说他办的时候送了东西",
        "我收到一条短信说有活动", "我准备给家里再办一条宽带",
    ],
    pos=[
        "你们上次的活动挺实惠的 这次还有吗", "你们家优惠一直挺多的 最近有什么新活动", "上次积分换的东西挺好的 想再换一个",
        "你们老用户福利挺好的 想问问续费有什么优惠",
    ],
)

I["product_inquiry"] = dict(
    req=[
        "{pq}包含哪些内容", "{pq}是怎么收费的", "{pq}适合什么人", "你们的宽带能装到{city}{district}吗",
        "这款手机支持5G吗", "信用卡有几种 哪种适合我", "这个保险保哪些", "会员能同时几个设备登录",
        "你们APP能在平板上用吗", "酒店有没有停车场", "经济舱可以带多少行李", "这个理财产品收益大概多少",
        "分期的话利率是多少", "这个路由器能覆盖多大面积", "燃气开户需要什么材料", "会员和超级会员有什么区别",
        "这个充电宝能带上飞机吗", "营业厅几点开门", "国际漫游是怎么收费的", "这款耳机防水吗",
        "你们有没有企业宽带", "ETC怎么办理", "储蓄卡有年费吗", "{pq}和{pq}有什么区别", "办{pq}需要带什么",
        "我想了解一下{pq}", "{pq}有没有合约期", "你们的保险能在网上买吗", "宽带安装要多久",
        "信用卡可以在国外用吗", "这款冰箱是几级能效", "酒店能不能带宠物", "会员可以投屏吗", "话费可以开发票吗",
        "这个手机有几种颜色", "你们家宽带是光纤入户吗", "有没有适合老人用的套餐", "{pq}在哪里可以办",
        "这个意外险多大年龄能买", "借记卡转账有没有额度限制", "这个套餐的流量是全国通用的吗", "外卖会员每个月有几张券",
        "酒店几点可以入住", "这个航班有没有餐食", "APP支持哪些银行卡", "网上能不能办电费过户",
    ],
    ctx=[
        "问了{times}个客服 没一个说得清楚这个保险到底保不保住院", "网上写的和你们说的不一样",
        "我都问第{ord}遍了 这个手机到底支不支持双卡", "营业厅的人说可以办 你们又说不行", "上次客服说有优惠 这次又说没有",
        "你们的官网上找了半天找不到说明",
    ],
    ctx_req=[
        "问了{times}遍了 你就直接告诉我{pq}到底包不包含", "官网说的和你说的不一样 你给我一个准确的说法",
        "上次问的时候没人答得上来 这次你能不能给我讲清楚{pq}怎么收费",
    ],
    nnw=[
        "这款手机摔了容易坏吗", "信用卡丢了会不会被盗刷", "这个理财会不会亏本", "保险出险了不赔的情况有哪些",
        "宽带下雨天会不会断", "会员到期了会不会自动扣费", "这个套餐超出的部分收费贵不贵", "充电宝会不会爆炸 安不安全",
        "如果投诉的话会影响办理吗",
    ],
    sarc=[
        "问三个人三个答案 你们这产品可真神秘", "说明书写了十页 愣是没说清楚怎么收费",
    ],
    cs=[
        "这款phone支持5G吗", "你们的WiFi路由器能覆盖多大", "VIP会员能在iPad上用吗", "这个plan包含多少data",
        "信用卡支持Apple Pay吗", "APP有没有English版本", "酒店有没有free WiFi", "能不能把product的资料email给我",
    ],
    short_neu=["问个事", "咨询一下", "想了解个套餐", "营业厅几点开门", "怎么收费"],
    short_neg=["到底包不包含", "到底能不能用"],
    story=[
        "我家刚装修好 准备装宽带", "我妈年纪大了 想给她换个手机", "我下个月要去国外读书", "我是做小生意的 想办张信用卡",
        "我在比较几家的套餐", "朋友跟我推荐了你们家",
    ],
    pos=[
        "你们家口碑挺好的 我想了解一下{pq}", "朋友用了都说好 我想问问{pq}怎么办", "我用你们家的东西挺满意的 想再了解一下{pq}",
        "你们的宽带一直挺稳的 想问问企业宽带怎么办",
    ],
)

I["request_human"] = dict(
    req=[
        "帮我转人工", "我要人工服务", "麻烦转一下人工客服", "能不能帮我转到人工", "我想跟真人说话",
        "人工客服怎么转", "按几号键转人工", "请帮我接一下{dept}", "我想找你们的主管", "能不能让你们经理接一下电话",
        "有没有懂技术的工程师 我想直接跟他说", "麻烦帮我转给上次那个客服 姓{surname}的", "我想找负责{topic}的同事",
        "能不能让专门处理这个的人给我回个电话", "这个问题我想跟人工说", "帮我转接一下", "我不太会用这个语音 能转人工吗",
        "我年纪大了 听不太清楚 能找个人跟我说吗", "你是机器人吧 帮我转人工", "能不能让你们的值班经理跟我说一下",
        "我想找一下投诉部门的人", "有没有说话慢一点的客服", "帮我转到{dept}", "能不能直接转到维修那边", "我想找我的客户经理",
        "能给我一个专人的联系电话吗", "这个问题比较复杂 我要找人工", "有没有能说英语的客服", "麻烦给我转一下售后",
        "我想让你们的领导给我回个电话", "人工现在要排多久", "能预约人工客服回电吗", "转人工的话要等多久",
        "我找{name} 他是你们这边的客户经理", "有没有会说粤语的客服", "能不能帮我约个人工回访",
        "我按零没反应 怎么转人工", "请问人工服务几点下班",
    ],
    ctx=[
        "机器人听不懂我说的话", "按了半天都转不到人工", "人工排了{mins}分钟都没排上", "我都说了{times}遍了你还是没听懂",
        "语音导航绕了一圈又回到开头", "每次都是这几句标准回答", "我问的问题你一个都没回答上来",
        "上一个客服说给我转专员 转过来又是机器人", "打了{times}次都是自动语音", "转人工转了{times}次都断线了",
    ],
    ctx_req=[
        "你解决不了就找个能解决的人来", "别跟我说这些了 直接转人工", "机器人我不想再说了 给我找个真人",
        "我不要听录音了 转人工", "你做不了主就让你们领导来", "说了{times}遍你都听不懂 给我转人工",
        "排了{mins}分钟了 能不能直接给我接个人工", "我要找你们的负责人 这事你们客服处理不了",
    ],
    nnw=[
        "问题解决不了的话能转人工吗", "机器人答不了的问题找谁", "投诉的话要转人工吗", "人工忙的时候能不能留言",
        "如果对客服不满意可以换一个人吗",
    ],
    sarc=[
        "你这机器人可真聪明 我说啥都听不懂", "又让我等了{mins}分钟", "按了八个键终于听到一句请稍候",
        "转了半天又转回机器人了", "这智能客服可真智能 一句人话都听不懂",
    ],
    cs=[
        "帮我转一下人工agent", "我要找你们的manager", "有没有能说English的客服", "这个case我想跟人工说",
        "转人工 OK吗", "我想talk to a real person", "帮我转给customer service",
    ],
    short_neu=["人工", "转人工", "人工服务", "找人工", "人工客服", "转接人工"],
    short_neg=["人工 人工", "转人工 转人工", "我要人工 别说了", "真人 我要真人", "叫你们领导来", "人工 听不懂吗"],
    story=[
        "我这个问题跟你说不太清楚", "我是做企业业务的 事情有点多", "我之前已经跟机器人说过一遍了",
        "我在营业厅问过 他们让我打这个电话", "我家老人打了好几次都不会操作",
    ],
    pos=[
        "上次那个客服小{surname}特别耐心 能帮我转给她吗", "你们人工服务一直挺好的 帮我转一下人工吧",
        "我比较喜欢跟真人沟通 你们人工客服都挺专业的 麻烦转一下", "上回人工客服帮了我大忙 这次还想找人工",
    ],
)

# follow-up requests that fit after any grievance statement of the topic
FUP = {
    "cancel_service": ["今天就给我把它停了", "你现在就帮我办注销", "帮我查一下到底办没办成", "多扣的钱也一起给我处理一下",
                       "你就告诉我还要我做什么才能销掉", "这次给我一个确定的注销时间", "帮我把自动续费彻底关掉"],
    "refund_request": ["钱什么时候能退给我", "你帮我查一下钱到底退到哪了", "今天能不能给我退", "麻烦帮我催一下退款",
                       "你给我个准确的到账时间", "退款的事到底谁负责", "我就想知道钱哪天能到"],
    "complaint": ["我要投诉", "这事你们得给我个说法", "你们领导是谁 我要反映", "把这个情况给我记下来",
                  "我要求有人给我回个电话", "这个你们打算怎么处理", "我要投诉这个处理过程"],
    "product_defect": ["你们看怎么处理", "这到底是什么原因", "你们给我个处理方案", "帮我查一下到底是哪里的问题",
                       "这次得给我彻底解决", "你们给我个说法", "你说这个怎么弄"],
    "repair_request": ["今天能不能派个人来", "你帮我问问师傅到底什么时候来", "给我换个师傅来修", "帮我重新约个时间 这次别再变了",
                       "到底什么时候能修好", "你帮我催一下维修"],
    "order_status": ["你就告诉我到底哪天发货", "帮我查一下现在到底在哪", "给我一个准确的时间", "帮我催一下发货",
                     "这单到底还发不发", "你帮我看看卡在哪一步了"],
    "delivery_problem": ["你们给我查清楚东西到底去哪了", "给我重新发一个", "帮我联系一下快递员", "你们看怎么赔",
                         "今天能不能给我送到", "你们看这个怎么处理"],
    "billing_question": ["这笔钱到底是什么 给我查清楚", "你把明细一项一项跟我说", "这个费用到底是怎么算的",
                         "你给我查一下这个扣费是哪来的", "我就想知道为什么收这个钱"],
    "payment_problem": ["钱到底去哪了", "给我查一下这笔钱现在在哪", "今天能不能给我处理好", "扣的钱先给我退回来",
                        "什么时候能付成功", "你帮我看看到底哪一步出了问题"],
    "account_access": ["今天能不能帮我解开", "你告诉我到底还要怎么验证", "帮我人工处理一下", "什么时候能恢复登录",
                       "帮我把账号恢复一下"],
    "plan_change": ["这次给我改对", "你现在就帮我改过来", "帮我查一下到底生效没有", "给我个确定的生效时间",
                    "今天就给我换了"],
    "promotion_inquiry": ["该给我的优惠给我补上", "帮我查一下返现到底什么时候到", "这个活动你们到底认不认",
                          "活动承诺的东西什么时候给我"],
    "product_inquiry": ["你就直接告诉我能还是不能", "给我一个准确的答复", "你确定吗 别到时候又不一样",
                        "找个清楚的人跟我说"],
    "request_human": ["给我转人工", "找个能做主的人来", "直接转人工吧", "让你们主管跟我说", "我要跟真人说"],
}

# ---- gratitude --------------------------------------------------------------
RESOLVED = [
    "网已经通了", "钱到账了", "快递收到了", "卡能用了", "密码改好了", "问题解决了", "师傅刚走 修好了",
    "账单我弄明白了", "套餐已经换好了", "能登录了", "票已经退了", "东西收到了 挺好的", "我刚试了一下 可以了",
    "退款收到了", "漫游开好了 信号挺好", "燃气已经恢复了", "APP更新以后不闪退了", "验证码收到了",
    "积分已经到账了", "新卡收到了", "光猫换了以后网速快多了", "电视能看了", "理赔款到了", "发票收到了",
    "额度已经提上去了", "热水器能用了", "包裹找到了", "多扣的钱退回来了", "会员已经能看了",
]
THANKS = [
    "谢谢你啊", "太感谢了", "谢谢谢谢", "多谢多谢", "辛苦你了", "麻烦你了 谢谢", "真是太感谢你了", "谢谢啦",
    "感谢感谢", "谢了啊", "谢谢你的耐心", "非常感谢", "谢谢 你帮了我大忙了", "真的谢谢你", "谢谢你们",
    "辛苦辛苦", "感谢你们的帮忙", "谢谢您",
]
PRAISE_G = [
    "你讲得特别清楚", "你们效率真高", "你人真好", "服务真不错", "比我想的快多了", "这次体验挺好的",
    "我给你打个好评", "回头一定给你五星", "你们师傅特别专业", "态度特别好", "你特别有耐心",
    "你们这服务没得说", "我一定跟朋友推荐你们", "这么快就搞定了", "比上次顺利多了", "很专业",
]
COMMEND = [
    "我想表扬一下上次来的那个师傅 特别负责", "上次那个客服小{surname}特别耐心 我想表扬她",
    "我打电话就是想说声谢谢", "你们那个快递小哥人特别好 下大雨还给我送上楼",
    "我专门打过来表扬一下你们营业厅的{name}", "你们理赔处理得特别快 我想表扬一下",
    "昨天来的装维师傅活干得特别细 帮我跟他说声谢谢", "上次帮我找回账号的那个客服 帮我谢谢她",
    "我想给你们的服务点个赞", "你们这次处理得挺好 我挺满意的",
]
RELIEF_G = [
    "太好了 总算弄好了 谢谢", "那就好 那就好 谢谢你啊", "好的 我放心了 谢谢", "哎呀太好了 谢谢你",
    "没什么问题了 谢谢", "没事了 都好了 谢谢啊", "不麻烦不麻烦 谢谢你", "一点问题都没有了 谢谢",
    "还不错 谢谢你们", "好的 我明白了 谢谢你讲得这么清楚", "行 就按你说的办 谢谢啊", "这下清楚了 谢谢",
    "可以可以 这样挺好 谢谢", "好嘞 谢谢 辛苦了",
]
SHORT_G = ["谢谢", "谢谢你", "谢了", "好的谢谢", "感谢", "多谢", "谢谢啊", "好的 谢谢你啊", "嗯嗯 谢谢",
           "好 谢谢 拜拜", "谢谢 再见", "明白了 谢谢", "行 谢谢啊", "辛苦了", "没事了 谢谢", "谢谢您嘞",
           "好的好的 谢谢", "麻烦了 谢谢"]
GRAT_CS = ["OK 谢谢", "thank you啊", "thanks啊 辛苦了", "问题解决了 thank you so much", "你们的service真不错 谢谢",
           "好的 thanks", "多谢 bye bye", "OK了 谢谢你", "感谢 你们效率很high", "WiFi好了 谢谢啊",
           "refund收到了 谢谢", "APP好了 thank you"]
PAST_PROBLEM = [
    "我前两天打过电话 说家里网断了", "上周我反映过退款的事", "我昨天打电话说卡刷不了", "之前我的账号被锁了",
    "上次我说快递一直没到", "我上个月问过账单的问题", "前天我报修了热水器", "昨天我说想换个套餐",
    "我之前打电话说燃气交了没到账", "上礼拜我的手机开不了机 送去修了",
]
GRAT_NEG = [
    "行吧 谢谢 虽然问题还是没解决", "谢谢你啊 不过说实话我对你们挺失望的", "好吧 谢谢你 我也不知道打这个电话有什么用",
    "谢谢 希望这次别再让我打第{ord}次了", "行 谢谢你了 反正也不是第一次了", "谢谢你听我说 但这已经是我第{ord}次打了",
    "好 谢谢 就这样吧 我也不想再说了", "谢谢啊 但愿这次真能解决", "行 谢谢 我再等等看吧 反正也等了{d}天了",
    "嗯 谢谢 说了这么多遍 希望你们这次记下来了",
]

# ---- other --------------------------------------------------------------------
BACKCHANNEL = [
    "嗯", "嗯嗯", "好的", "好", "行", "对", "对对对", "是的", "是", "哦", "哦这样啊", "哦 原来是这样", "喂",
    "喂 你好", "喂 喂 听得到吗", "你好", "您好", "在吗", "稍等一下", "你等一下 我找一下", "我看一下啊",
    "我找个笔记一下", "那个 等我一下", "你说", "嗯 你说", "明白", "明白了", "知道了", "了解", "然后呢",
    "还有呢", "啊", "什么", "你说什么", "不好意思 刚刚没听清", "你再说一遍", "能再说一遍吗", "信号不好 你大点声",
    "可以", "没问题", "那行", "这样啊", "是吗", "哦哦 好的", "嗯 对 是这个", "不是不是", "不对 不是这个",
    "对 就是那个", "我想想啊", "让我想想", "等会儿啊 我在开车", "我现在在外面 有点吵", "行 你接着说",
    "好的好的 我记一下", "嗯 我在听", "喂 喂", "啊 对", "嗯 是的是的", "哦 行", "那 好吧", "你稍等 我拿一下卡",
    "我看看啊 在哪呢", "对 没错", "嗯 就是这个号", "呃 我想一下", "你刚说几号", "哦 晓得了", "中 行",
]
IDENTITY = [
    "身份证后四位是{idlast4}", "我身份证号后六位是{d6}", "手机号是{phone}", "我的手机号{phone}", "我叫{name}",
    "我姓{sn_desc}", "订单号是{order}", "我的户号是{order}", "卡号后四位是{last4}", "账号就是我手机号 {phone}",
    "我的会员号是{order}", "地址是{city}{district}{road}{num}号", "我住在{city}{district}", "机主是我爸 叫{name}",
    "用的是我老婆的身份证办的", "出生年月是{year}年{month}月", "车牌号是{plate}", "保单号{order}", "邮箱是{email}",
    "验证码是{code6}", "对 是我本人", "是我本人 名字是{name}", "号码是我自己的 实名的", "我是机主本人",
    "名字是{name} {sn_desc}", "我的客户编号是{order}", "联系电话就留这个{phone}", "宽带账号是{order}",
    "燃气卡号是{order}", "我登记的地址是{city}{road}", "身份证号我报一下 后四位{idlast4}", "户主是我妈 叫{name}",
    "我报一下卡号 {last4}结尾的那张", "{year}年出生的", "房号是{num}室", "航班号是CA{last4}",
    "入住人是{name}", "工作单位写的是{city}一家公司",
]
OOS = [
    "今天天气怎么样", "你们公司总部在哪个城市", "你是机器人吗", "你是真人吗", "不好意思 打错了",
    "附近有什么好吃的", "帮我订个明天早上七点的闹钟", "你们还招人吗", "你叫什么名字", "你们几点下班",
    "现在几点了", "我想问问去火车站怎么走", "你会讲粤语吗", "能帮我查一下明天的天气吗", "我家孩子在旁边闹 不好意思",
    "你们那边下雨了吗", "我刚才在做饭", "最近股票怎么样", "有没有推荐的电视剧", "我是来应聘的",
    "我就是随便问问", "给我讲个笑话吧", "你们客服一天要接多少个电话啊", "你们过年放不放假",
    "我想找一下我朋友 他在你们那上班", "帮我算一下一百二乘以十二是多少", "明天限行尾号是多少",
    "你们这个电话是哪里打来的", "刚才是不是你们给我打的电话", "你那边好吵啊", "我手机快没电了",
    "我等下要去接孩子", "你们那边是几点啊", "你们食堂伙食怎么样", "你是哪里人啊", "我是不是打到别的公司了",
    "帮我叫个车", "附近哪里有药店", "春节火车票什么时候开抢", "你们老板是谁", "我就想找人聊聊天",
]
OTHER_SHORT_NEU = ["没了", "就这些", "没别的事了", "先这样", "拜拜", "再见", "等会再打", "回头再说", "就这样吧",
                   "先挂了", "没有了", "暂时没有"]
OTHER_SHORT_NEG = ["还是不行", "算了算了", "行吧 就这样吧", "跟你说不清楚", "唉 没用", "我不想说了", "随便吧",
                   "你说的我听不明白", "不是这个意思", "不对 你没听懂我的意思", "唉", "还是不行啊", "还是没用",
                   "算了 不说了", "你们爱怎么弄怎么弄吧", "我都不知道该说啥了", "又是这套说法"]
OTHER_SARC = ["呵呵 行吧", "好 好 你们说的都对", "行 你们厉害", "呵呵 真是辛苦你们了", "对对对 都是我的问题",
              "好 我懂了 反正你们永远有理", "行 我算是见识了"]
OTHER_POS = ["太好了", "那就好", "那我就放心了", "哈哈 好的", "好嘞 没问题", "好的 明白了 挺清楚的", "哈哈 你真逗",
             "太棒了", "这样挺好的", "可以可以 这样挺好", "你声音真好听哈哈", "好的 那太好了", "嗯嗯 挺好的",
             "哎呀 那太好了", "不错不错", "那挺好", "没问题 挺好的", "好好好 太好了", "那真不错", "这个安排挺好"]
OTHER_CS = ["OK OK 没问题", "Hello 你好", "Sorry 我刚没听清", "我的email是{email}", "我的ID是{order}", "bye bye",
            "我在开meeting 等会再说", "OK 你说", "Sorry sorry 打错了", "嗯 OK", "hello 听得到吗",
            "我的WeChat就是手机号", "Wait 我找一下"]

# ===========================================================================
# Speaker style
# ===========================================================================
OPENERS = ["喂 你好", "你好", "喂", "你好 是这样的", "那个", "嗯 那个", "呃", "你好 我想咨询一下", "是这样",
           "就是", "喂 你好 听得到吗", "你好 麻烦问一下", "哎 你好", "您好", "喂 是客服吗", "你好你好",
           "嗯 是这样的", "那个 你好", "诶 你好", "我想问一下啊"]
NEG_OPENERS = ["喂", "你好", "喂 你好", "我跟你说", "你听我说", "是这样", "那个", "我问一下", "你好 我再说一遍"]
CLOSERS_NEU = ["麻烦你了", "麻烦帮我看下", "我手机号是{phone}", "订单号是{order}", "你帮我查查", "谢谢",
               "麻烦了", "你看一下", "我等你消息"]
FILLERS = ["就是", "然后", "那个", "呃", "嗯", "就", "反正", "然后就是", "那个什么", "怎么说呢"]
FINAL_Q = ["啊", "呢", "呀"]
FINAL_IMP = ["吧", "呗", "啊", "嘛"]
_Q_RE = re.compile(r"吗|呢|么$|怎么|什么|几|哪|多少|能不能|可不可以|是不是|有没有|啥|咋|多久|行不行|对不对|没有$")
_WISH_RE = re.compile(r"(我想|我要|帮我|麻烦|把|给我|请|我准备|我打算|下个月)(?!.*(吗|呢|怎么|什么|多少|哪|几))")
_CJK = r"\u4e00-\u9fff"
_SPLIT_RE = re.compile(r"(?:(?<=[\u4e00-\u9fff])\s+|\s+(?=[\u4e00-\u9fff]))")

REGIONAL = [  # (pattern, replacements, probability)
    (r"怎么", ["咋"], 0.2), (r"什么", ["啥"], 0.2), (r"弄", ["整", "搞"], 0.15), (r"很", ["挺"], 0.15),
    (r"挺", ["蛮"], 0.08), (r"知道", ["晓得"], 0.08), (r"(?<!有)没有(?=[\u4e00-\u9fff])", ["没"], 0.15),
    (r"特别", ["贼", "老"], 0.05), (r"了吗", ["了没", "了没有"], 0.15), (r"我打过", ["我有打过"], 0.4),
    (r"一下", ["一下下"], 0.02), (r"这个", ["这"], 0.05), (r"礼拜", ["星期", "周"], 0.2),
]

CS_SWAPS = [
    ("查一下", "check一下"), ("订单", "order"), ("退款", "refund"), ("邮箱", "email"), ("密码", "password"),
    ("账号", "account"), ("经理", "manager"), ("更新", "update"), ("好的", "OK"), ("取消", "cancel"),
    ("升级", "upgrade"), ("无线网", "WiFi"), ("我的手机", "我的iPhone"), ("软件", "APP"), ("发票", "invoice"),
    ("优惠码", "promo code"), ("确认", "confirm"), ("预约", "book"), ("回个电话", "回个call"), ("会员", "VIP"),
    ("流量", "data"), ("截图", "screenshot"), ("问题", "issue"), ("路由器", "router"), ("账单", "bill"),
    ("快递单号", "tracking number"), ("信用卡", "credit card"), ("折扣", "discount"), ("宽带", "WiFi"),
    ("投诉", "complain"), ("处理一下", "handle一下"), ("跟进", "follow"), ("额度", "limit"), ("积分", "points"),
]

HOMOPHONES = {
    "退款": ["推款", "退宽"], "套餐": ["套参", "套惨"], "宽带": ["宽代", "款带"], "账单": ["帐单"], "到账": ["到帐"],
    "账号": ["帐号"], "登录": ["登陆"], "师傅": ["师父"], "注销": ["注消"], "验证码": ["验证吗", "验正码"],
    "密码": ["秘码"], "退订": ["退定"], "快递": ["快的"], "物流": ["物留"], "维修": ["维休"], "安装": ["按装"],
    "人工": ["人公"], "投诉": ["投素", "头诉"], "续费": ["需费", "续非"], "积分": ["基分"], "优惠": ["优会"],
    "额度": ["额渡"], "漫游": ["慢游"], "话费": ["化费"], "闪退": ["闪腿"], "掉线": ["调线"], "违约金": ["为约金"],
    "办理": ["半理"], "营业厅": ["营业听"], "燃气": ["然气"], "理赔": ["理陪"], "订单": ["定单"], "查一下": ["差一下"],
    "已经": ["以经"], "在": ["再"], "再": ["在"], "什么": ["甚么"], "那个": ["哪个"], "信用卡": ["信用咔"],
    "发货": ["发火"], "客服": ["可服"], "流量": ["流亮"], "扣费": ["扣废"], "光猫": ["光毛"], "路由器": ["路游器"],
    "转人工": ["转人公"], "升级": ["生级"], "催一下": ["吹一下"], "包裹": ["包过"],
}
_HOMO_RE = re.compile("|".join(sorted(map(re.escape, HOMOPHONES), key=len, reverse=True)))


def _clauses(text: str) -> list[str]:
    return [c for c in _SPLIT_RE.split(text.strip()) if c]


def colloquialize(text: str, rng: random.Random, p: float = 1.0) -> str:
    """Spoken-style variation: regional forms, fillers, false starts, particles."""
    for pat, reps, prob in REGIONAL:
        if rng.random() < prob * p and re.search(pat, text):
            text = re.sub(pat, lambda m: rng.choice(reps), text, count=1 if rng.random() < 0.6 else 0)
    cl = _clauses(text)
    if not cl:
        return text
    # fillers between clauses
    if len(cl) > 1 and rng.random() < 0.3 * p:
        i = rng.randrange(1, len(cl))
        cl.insert(i, rng.choice(FILLERS))
    # false start / repeat
    if rng.random() < 0.1 * p and re.match(rf"[{_CJK}]{{4,}}", cl[0]):
        k = rng.choice([2, 2, 3])
        cl.insert(0, cl[0][:k])
    elif rng.random() < 0.05 * p:
        cl.insert(0, rng.choice(["我想", "就是", "我那个", "我是说", "那个那个"]))
    # final particle
    last = cl[-1]
    if rng.random() < 0.2 * p and re.search(rf"[{_CJK}]$", last) and not re.search(r"[吗呢么吧啊呀呗嘛了的]$", last):
        if _Q_RE.search(last):
            cl[-1] = last + rng.choice(FINAL_Q)
        elif re.match(r"(帮我|给我|麻烦|把|你|赶紧|直接|今天|马上)", last):
            cl[-1] = last + rng.choice(FINAL_IMP)
    return " ".join(cl)


def cs_transform(text: str, rng: random.Random) -> str | None:
    """Swap one or two Chinese words for the English a caller would use."""
    swaps = [s for s in CS_SWAPS if s[0] in text and not (s[0] == "会员" and "VIP" in text)]
    if not swaps:
        return None
    rng.shuffle(swaps)
    for a, b in swaps[: 1 if rng.random() < 0.7 else 2]:
        text = text.replace(a, b, 1)
    return text


def whisper_noise(text: str, rng: random.Random) -> str:
    """Whisper-like surface form.  Label preserving."""
    # homophone / near-homophone recognition errors
    if rng.random() < 0.15:
        text = _HOMO_RE.sub(lambda m: rng.choice(HOMOPHONES[m.group(0)]) if rng.random() < 0.5 else m.group(0), text)
    # dropped character
    if rng.random() < 0.04:
        idx = [i for i, ch in enumerate(text) if "\u4e00" <= ch <= "\u9fff"][1:]
        if len(idx) > 4:
            i = rng.choice(idx)
            text = text[:i] + text[i + 1:]
    cl = _clauses(text)
    if not cl:
        return text
    r = rng.random()
    if r < 0.45:  # full-width punctuation
        out = ""
        for j, c in enumerate(cl):
            out += c
            q = _Q_RE.search(c) is not None
            if j < len(cl) - 1:
                out += "？" if q and rng.random() < 0.4 else "，"
            elif rng.random() < 0.85:
                out += "？" if q else ("！" if rng.random() < 0.03 else "。")
        return out
    if r < 0.70:  # spaces
        return " ".join(cl)
    if r < 0.90:  # no punctuation at all
        out = cl[0]
        for c in cl[1:]:
            out += ("" if re.search(rf"[{_CJK}]$", out) or re.match(rf"[{_CJK}]", c) else " ") + c
        return out
    # ASCII punctuation
    out = (", " if rng.random() < 0.5 else ",").join(cl)
    if rng.random() < 0.7:
        out += "?" if _Q_RE.search(cl[-1]) else "."
    return out


def _sn_desc(rng):
    s = rng.choice(list(SURNAME_DESC))
    return s + " " + SURNAME_DESC[s]


SLOTS["sn_desc"] = _sn_desc

# ===========================================================================
# Builders
# ===========================================================================
SENT_RATIO = {  # (negative, neutral, positive)
    "default": (0.45, 0.40, 0.15),
    "complaint": (0.68, 0.32, 0.0),
    "product_defect": (0.50, 0.44, 0.06),
    "delivery_problem": (0.50, 0.44, 0.06),
    "payment_problem": (0.50, 0.44, 0.06),
    "request_human": (0.50, 0.40, 0.10),
    "gratitude": (0.06, 0.0, 0.94),
    "other": (0.10, 0.80, 0.10),
}
CAT_WEIGHTS = {
    "default": {
        "negative": {"calm_complaint": .26, "grievance_request": .28, "thanks_in_complaint": .10, "sarcasm": .11,
                     "rambling": .11, "code_switching": .07, "short": .07},
        "neutral": {"plain_request": .50, "neutral_negative_words": .20, "rambling": .10, "code_switching": .10,
                    "short": .10},
        "positive": {"positive": .75, "rambling": .12, "code_switching": .13},
    },
    "complaint": {
        "negative": {"calm_complaint": .32, "grievance_request": .26, "thanks_in_complaint": .10, "sarcasm": .10,
                     "rambling": .11, "code_switching": .06, "short": .05},
        "neutral": {"plain_request": .50, "neutral_negative_words": .30, "rambling": .08, "code_switching": .07,
                    "short": .05},
        "positive": {},
    },
    "gratitude": {
        "negative": {"thanks_in_complaint": 1.0},
        "neutral": {},
        "positive": {"positive": .62, "short": .16, "rambling": .12, "code_switching": .10},
    },
    "other": {
        "negative": {"short": .75, "sarcasm": .25},
        "neutral": {"backchannel": .38, "identity": .30, "out_of_scope": .20, "short": .05, "code_switching": .07},
        "positive": {"positive": 1.0},
    },
}


PROBLEM_INTENTS = ("product_defect", "delivery_problem", "payment_problem")
for _pi in PROBLEM_INTENTS:  # praise + a problem report: only hand-written, plainly positive turns
    CAT_WEIGHTS[_pi] = dict(CAT_WEIGHTS["default"], positive={"positive": 1.0})


def _largest_remainder(total: int, weights: dict) -> dict:
    s = sum(weights.values())
    if total <= 0 or s <= 0:
        return {k: 0 for k in weights}
    raw = {k: total * w / s for k, w in weights.items()}
    out = {k: int(v) for k, v in raw.items()}
    rest = total - sum(out.values())
    for k in sorted(raw, key=lambda k: raw[k] - out[k], reverse=True)[:rest]:
        out[k] += 1
    return out


def plan(intent: str, n: int) -> list[tuple[str, str]]:
    ratio = SENT_RATIO.get(intent, SENT_RATIO["default"])
    sents = _largest_remainder(n, dict(zip(SENTIMENT_LABELS, ratio)))
    cw = CAT_WEIGHTS.get(intent, CAT_WEIGHTS["default"])
    out = []
    for s in SENTIMENT_LABELS:
        for c, k in _largest_remainder(sents[s], cw[s]).items():
            out += [(s, c)] * k
    return out


def _shares_ngram(a: str, b: str, n: int = 2) -> bool:
    grams = {a[i:i + n] for i in range(len(a) - n + 1) if " " not in a[i:i + n]}
    return any(b[i:i + n] in grams for i in range(len(b) - n + 1))


DOMAINS = {
    "telecom": r"宽带|网速|断网|手机号|号码|套餐|流量|光猫|路由器|副卡|彩铃|漫游|营业厅|话费|信号|IPTV|固话|SIM|机顶盒|5G|销号|拆机|亲情号|网(?![购上盘课点银])",
    "bank": r"信用卡|银行|储蓄|额度|转账|年费|还款|分期|理财|刷卡|ATM|POS|U盾",
    "shop": r"快递|订单|外卖|包裹|下单|发货|退货|衣服|鞋|尺码|驿站|商家|官网|官方店|APP上买|物流|签收|配送",
    "utility": r"燃气|电费|水费|电表|燃气表|热水器|停气|阶梯电价|峰谷",
    "insurance": r"保险|保单|退保|理赔|车险|保费|意外险|附加险|三者险|保额|续保",
    "member": r"会员|追剧|视频|包月|订阅|网盘|音乐|看剧",
    "travel": r"机票|航班|酒店|里程|行李|入住|出差",
    "device": r"空调|冰箱|洗衣机|电视|扫地机器人|耳机|手表|笔记本|门锁|净水器|油烟机|燃气灶|充电宝|电动车|手机",
}
_DOMAIN_RE = {k: re.compile(v) for k, v in DOMAINS.items()}


def domains_of(text: str) -> set:
    return {k for k, r in _DOMAIN_RE.items() if r.search(text)}


def _j(*parts) -> str:
    return " ".join(p for p in parts if p)


def _maybe(rng, p, s):
    return s if rng.random() < p else ""


class _B:
    """Builders for one (intent, sentiment) turn; c keeps device/failure pairs consistent."""

    def __init__(self, intent: str, rng: random.Random):
        self.i, self.r, self.c = intent, rng, {}
        self.D = I.get(intent, {})

    def f(self, lst):
        return fill(self.r.choice(lst), self.r, self.c)

    def opener(self, p=0.3, neg=False):
        return _maybe(self.r, p, self.r.choice(NEG_OPENERS if neg else OPENERS))

    def lead(self, other: str = ""):
        pool = GRIEV_LEAD_NOTIME if _TIME_RE.search(other) else GRIEV_LEAD
        return fill(self.r.choice(pool), self.r, self.c)

    def tail(self):
        return fill(self.r.choice(GRIEV_TAIL), self.r, self.c)

    def grievance(self):
        """intent-specific grievance statement, sometimes with a generic clause."""
        r = self.r.random()
        g = self.f(self.D["ctx"])
        if r < 0.25:
            return _j(self.lead(g), g)
        if r < 0.45:
            return _j(g, self.tail())
        return g

    def matching(self, pool, context: str, tries: int = 30) -> str:
        """A filled template from pool whose domain fits the story told so far."""
        dom = domains_of(context)
        if self.i == "product_defect":
            pool = [t for t in pool if "{" in t] or pool
        fallback = None
        for _ in range(tries):
            c = dict(self.c)
            t = fill(self.r.choice(pool), self.r, c)
            d = domains_of(t)
            if not dom or not d or (d & dom):
                self.c = c
                return t
            fallback = fallback or (t, c)
        self.c = fallback[1]
        return fallback[0]

    # ---- categories -----------------------------------------------------
    def plain_request(self, sent):
        if self.i == "gratitude":
            return self.f(SHORT_G)
        return _j(self.opener(0.35), self.f(self.D["req"]), _maybe(self.r, 0.12, self.f(CLOSERS_NEU)))

    def neutral_negative_words(self, sent):
        return _j(self.opener(0.3), self.f(self.D["nnw"]), _maybe(self.r, 0.08, self.f(CLOSERS_NEU)))

    def calm_complaint(self, sent):
        r = self.r.random()
        if self.i == "complaint" and r < 0.25:  # generic grievance alone is about the service
            a = fill(self.r.choice(GRIEV["broken_promise"] + GRIEV["repetition"] + GRIEV["passed_around"]),
                     self.r, self.c)
            return _j(self.opener(0.2, True), a, _maybe(self.r, 0.6, self.tail()))
        g = self.f(self.D["ctx"])
        if r < 0.45:
            return _j(self.opener(0.2, True), g)
        if r < 0.7:
            return _j(self.lead(g), g)
        if r < 0.9:
            return _j(g, self.tail())
        return _j(self.lead(g), g, self.tail())

    def grievance_request(self, sent):
        r = self.r.random()
        D = self.D
        if r < 0.3:
            return _j(self.opener(0.15, True), self.f(D["ctx_req"]))
        if r < 0.65:
            return _j(self.grievance(), _maybe(self.r, 0.3, self.r.choice(["所以", "我就想问", "你就", "麻烦", "那"])),
                      self.f(FUP[self.i]))
        if r < 0.85:
            return _j(self.lead(), self.f(D["req"]))
        return _j(self.f(D["req"]), self.lead())

    def thanks_in_complaint(self, sent):
        if self.i == "gratitude":
            return self.f(GRAT_NEG)
        g = self.grievance() if self.r.random() < 0.8 else self.f(self.D["ctx_req"])
        if self.r.random() < 0.72:
            t = self.r.choice(THANKS_PRE).replace("{g}", g)
        else:
            t = self.r.choice(THANKS_POST).replace("{g}", g)
        return _j(t, _maybe(self.r, 0.2, self.f(FUP[self.i])))

    def sarcasm(self, sent):
        if self.i == "other":
            return self.f(OTHER_SARC)
        pool = self.D["sarc"] + (SARC_GENERIC if self.i in ("complaint", "request_human") else [])
        e = self.f(pool)
        pre = self.r.random() < 0.6
        frames = [fr for fr in (SARC_PRE if pre else SARC_POST) if not _shares_ngram(fr, e)]
        fr = self.r.choice(frames or (SARC_PRE if pre else SARC_POST))
        t = _j(fr, e) if pre else _j(e, fr)
        r = self.r.random()
        if r < 0.25:
            t = _j(t, self.f(FUP[self.i]))
        elif r < 0.4:
            t = _j(t, self.f(self.D["ctx"]))
        return t

    def positive(self, sent):
        if self.i == "gratitude":
            r = self.r.random()
            if r < 0.3:
                return _j(self.f(RESOLVED), self.f(THANKS), _maybe(self.r, 0.5, self.f(PRAISE_G)))
            if r < 0.5:
                return _j(self.f(THANKS), self.f(PRAISE_G))
            if r < 0.68:
                return _j(self.f(COMMEND), _maybe(self.r, 0.4, self.f(THANKS)))
            if r < 0.9:
                return self.f(RELIEF_G)
            return _j(self.f(PRAISE_G), self.f(THANKS))
        if self.i == "other":
            return self.f(OTHER_POS)
        r = self.r.random()
        if r < 0.4 and self.D.get("pos"):
            return _j(self.opener(0.2), self.f(self.D["pos"]))
        if self.i in PROBLEM_INTENTS and r < 0.7:
            return _j(self.opener(0.2), self.f(self.D["pos"]))
        req = self.f(self.D["req"])
        if r < 0.75 or not _WISH_RE.match(req):  # praise tails only after a wish/imperative
            return _j(self.f(PRAISE_PRE), req)
        return _j(self.opener(0.2), req, self.f(PRAISE_POST))

    def short(self, sent):
        if self.i == "gratitude":
            return self.f(SHORT_G)
        if self.i == "other":
            return self.f(OTHER_SHORT_NEG if sent == "negative" else OTHER_SHORT_NEU)
        return self.f(self.D["short_neg" if sent == "negative" else "short_neu"])

    def code_switching(self, sent):
        if self.i == "gratitude":
            return self.f(GRAT_CS)
        if self.i == "other":
            return self.f(OTHER_CS)
        D = self.D
        cs_neutral_pool = D["cs"] if self.i != "complaint" else []
        if sent == "neutral":
            if cs_neutral_pool and self.r.random() < 0.55:
                return _j(self.opener(0.2), self.f(cs_neutral_pool))
            for _ in range(6):
                t = cs_transform(self.f(D["req"] + D["nnw"]), self.r)
                if t:
                    return t
            return self.f(D["cs"])
        if sent == "negative":
            r = self.r.random()
            if self.i == "complaint" and r < 0.4:
                return _j(_maybe(self.r, 0.4, self.lead()), self.f(D["cs"]))
            if r < 0.55:
                for _ in range(6):
                    t = cs_transform(self.f(D["ctx"] + D["ctx_req"]), self.r)
                    if t:
                        return _j(t, _maybe(self.r, 0.3, self.tail()))
            return _j(self.lead(), self.f(D["cs"] or D["req"]))
        # positive
        base = self.f(cs_neutral_pool) if cs_neutral_pool and self.r.random() < 0.5 else (
            cs_transform(self.f(D["req"]), self.r) or self.f(D["req"]))
        if self.r.random() < 0.5 or not _WISH_RE.match(base):
            return _j(self.f(PRAISE_PRE), base)
        return _j(base, self.f(PRAISE_POST))

    def rambling(self, sent):
        text = ""
        for _ in range(25):
            self.c = {}
            if self.i == "gratitude":
                parts = [self.opener(0.4), _maybe(self.r, 0.4, self.f(BG_NEU)), self.f(PAST_PROBLEM),
                         self.r.choice(["今天", "刚才", "现在", "后来", "结果"]) + self.f(RESOLVED),
                         self.f(THANKS), self.f(PRAISE_G), _maybe(self.r, 0.4, self.f(PRAISE_G))]
            elif sent == "positive":
                st = self.f(self.D["story"])
                parts = [self.opener(0.4), self.f(PRAISE_PRE), _maybe(self.r, 0.5, self.f(BG_NEU)),
                         st, self.r.choice(LINK), self.matching(self.D["req"], st),
                         _maybe(self.r, 0.6, self.f(PRAISE_POST))]
            elif sent == "negative":
                st = self.f(self.D["story"])
                g = self.matching(self.D["ctx"], st)
                parts = [self.opener(0.4, True), _maybe(self.r, 0.5, self.f(BG_NEU)), st, g,
                         _maybe(self.r, 0.6, self.lead(g)), _maybe(self.r, 0.5, self.tail()),
                         _maybe(self.r, 0.8, self.r.choice(LINK)), self.f(FUP[self.i])]
            else:
                s1, s2 = self.r.sample(self.D["story"], 2)
                st = fill(s1, self.r, self.c)
                st2 = _maybe(self.r, 0.4, fill(s2, self.r, self.c))
                if st2 and domains_of(st) and domains_of(st2) and not (domains_of(st) & domains_of(st2)):
                    st2 = ""
                parts = [self.opener(0.5), _maybe(self.r, 0.6, self.f(BG_NEU)), st, st2,
                         self.r.choice(LINK), self.matching(self.D["req"], st + st2),
                         _maybe(self.r, 0.3, self.f(CLOSERS_NEU))]
            # remove accidental repeats of the same piece
            seen, uniq = set(), []
            for p in parts:
                if p and p not in seen:
                    seen.add(p)
                    uniq.append(p)
            text = " ".join(uniq)
            n = len(re.sub(r"\s", "", text))
            if 60 <= n <= 150:
                return text
        return text

    def backchannel(self, sent):
        if self.r.random() < 0.2:
            return _j(self.f(BACKCHANNEL), self.f(BACKCHANNEL))
        return self.f(BACKCHANNEL)

    def identity(self, sent):
        return _j(_maybe(self.r, 0.25, self.r.choice(["嗯", "对", "好的", "呃", "那个", "我报一下", "你记一下"])),
                  self.f(IDENTITY))

    def out_of_scope(self, sent):
        return _j(self.opener(0.25), self.f(OOS))


# how much speaker-style variation each category gets
COLLOQ_P = {"backchannel": 0.0, "identity": 0.1, "short": 0.2, "out_of_scope": 0.6}


def make_one(intent: str, sent: str, cat: str, rng: random.Random) -> str:
    b = _B(intent, rng)
    text = getattr(b, cat)(sent)
    p = COLLOQ_P.get(cat, 1.0)
    if rng.random() < 0.75 * (p if p < 1 else 1):
        text = colloquialize(text, rng, p)
    return whisper_noise(text, rng)


def _bare(text: str) -> str:
    return re.sub(r"[，。？！,.?!\s]", "", text)


def generate(seed: int = 0, per_intent: int = 600) -> list[dict]:
    """Generate per_intent utterances for each of the 16 intents (deterministic for a seed)."""
    rng = random.Random(seed)
    out, seen = [], set()
    for intent in INTENT_LABELS:
        for sent, cat in plan(intent, per_intent):
            text = ""
            for _ in range(12):
                text = make_one(intent, sent, cat, rng)
                if text and _bare(text) not in seen:
                    break
            seen.add(_bare(text))
            out.append({"text": text, "sentiment": sent, "intent": intent, "category": cat})
    rng.shuffle(out)
    return out


# ===========================================================================
# Diversity statistics
# ===========================================================================
def diversity_stats(seed: int = 0, draws: int = 3000) -> dict:
    rng = random.Random(seed + 1)
    core = {}
    for intent in INTENT_LABELS:
        if intent == "gratitude":
            pool = [lambda: fill(rng.choice(RESOLVED + THANKS + COMMEND + RELIEF_G + SHORT_G + PRAISE_G), rng)]
        elif intent == "other":
            pool = [lambda: fill(rng.choice(BACKCHANNEL + IDENTITY + OOS + OTHER_SHORT_NEU), rng)]
        else:
            pool = [lambda i=intent: fill(rng.choice(I[i]["req"] + I[i]["nnw"]), rng, {})]
        core[intent] = len({pool[0]() for _ in range(draws)})
    n_ctx = sum(len(I[i]["ctx"]) + len(I[i]["ctx_req"]) for i in I)
    return {
        "core_request_phrasings_per_intent (distinct, %d draws)" % draws: core,
        "request_templates_per_intent": {i: len(I[i]["req"]) for i in I},
        "generic_grievance_clauses": len(GRIEV_ALL),
        "topic_grievance_clauses": n_ctx,
        "grievance_clauses_total": len(GRIEV_ALL) + n_ctx,
        "sarcasm_frames": len(SARC_PRE) + len(SARC_POST),
        "sarcasm_events": sum(len(I[i]["sarc"]) for i in I) + len(SARC_GENERIC),
        "thanks_in_complaint_frames": len(THANKS_PRE) + len(THANKS_POST) + len(GRAT_NEG),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-intent", type=int, default=600)
    ap.add_argument("--out", default=None, help="write JSON lines here")
    ap.add_argument("--samples", type=int, default=40)
    a = ap.parse_args(argv)

    t0 = time.time()
    data = generate(a.seed, a.per_intent)
    dt = time.time() - t0

    print(f"generated {len(data)} utterances in {dt:.2f}s  (seed={a.seed}, per_intent={a.per_intent})")
    texts = [d["text"] for d in data]
    bare = {re.sub(r"[，。？！,.?!\s]", "", t) for t in texts}
    print(f"distinct texts: {len(set(texts))}   distinct after stripping punctuation/spaces: {len(bare)}")
    lens = sorted(len(re.sub(r"\s", "", t)) for t in texts)
    print(f"length (chars): min {lens[0]}  median {lens[len(lens) // 2]}  max {lens[-1]}  "
          f"<=6: {sum(x <= 6 for x in lens)}  >=60: {sum(x >= 60 for x in lens)}")

    cnt = Counter((d["intent"], d["sentiment"]) for d in data)
    print("\nintent x sentiment")
    print(f"{'intent':20s}" + "".join(f"{s:>10s}" for s in SENTIMENT_LABELS) + f"{'total':>8s}")
    for i in INTENT_LABELS:
        row = [cnt[(i, s)] for s in SENTIMENT_LABELS]
        print(f"{i:20s}" + "".join(f"{v:10d}" for v in row) + f"{sum(row):8d}")
    tot = Counter(d["sentiment"] for d in data)
    print(f"{'TOTAL':20s}" + "".join(f"{tot[s]:10d}" for s in SENTIMENT_LABELS) + f"{len(data):8d}")

    cc = Counter((d["category"], d["sentiment"]) for d in data)
    print("\ncategory (negative / neutral / positive)")
    for c in CATEGORIES:
        row = [cc[(c, s)] for s in SENTIMENT_LABELS]
        print(f"{c:24s}" + "".join(f"{v:7d}" for v in row) + f"{sum(row):8d}")

    print("\ndiversity")
    for k, v in diversity_stats(a.seed).items():
        print(f"  {k}: {v}")

    rng = random.Random(a.seed + 7)
    print(f"\n{a.samples} random samples")
    for d in rng.sample(data, min(a.samples, len(data))):
        print(f"  [{d['sentiment']:8s}|{d['intent']:18s}|{d['category']:22s}] {d['text']}")

    if a.out:
        with open(a.out, "w", encoding="utf-8") as fh:
            for d in data:
                fh.write(json.dumps(d, ensure_ascii=False) + "\n")
        print(f"\nwrote {len(data)} lines to {a.out}")


if __name__ == "__main__":
    main()
