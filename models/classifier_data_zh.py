"""Self-written Mandarin (simplified Chinese) call-centre templates and dataset
label mappings for the callsense Chinese text classifier (callsense-zh).

Everything in this file was written for this project (original text). The
third-party datasets are only *read* from ../shared/assets by models/corpus.py;
no dataset text is copied here. Standard library only.
"""
from __future__ import annotations

import random
import re

from classifier_data import INTENT_LABELS, SENTIMENT_LABELS, expand_templates  # noqa: F401  (same taxonomy)

# ---------------------------------------------------------------------------
# Dataset label mappings
# ---------------------------------------------------------------------------
# dialogflow_support (zh): a virtual assistant's "support" intents.  Only
# support.problem (bug / "doesn't work" reports) fits the taxonomy
# (product_defect); about/contacts/creators/app_name/beta are out of scope
# (other); support.feedback mixes praise, complaints and refund wishes, so it
# is dropped rather than forced into one class.
DIALOGFLOW_ZH_MAP = {
    "support.problem": "product_defect",
    "support.feedback": None,
}
DIALOGFLOW_ZH_DEFAULT = "other"

# CAIS (in-car assistant: music, radio, weather, reminders, chat) and SMP2019
# (task-oriented domains: cookbook, video, flights, trains, maps ...) and
# CrossWOZ user turns (travel/restaurant/hotel booking in Beijing) have no
# call-centre intents: everything maps to `other`.

# Frustration markers: intent-dataset utterances containing these get no
# sentiment label (they are not reliably neutral).
FRUSTRATION_RE_ZH = re.compile(
    r"[!！]|怎么回事|到底|烦|垃圾|气死|什么破|差劲|太差|投诉|坑|骗|不满|失望|生气|无语|靠|妈的|傻")

# ---------------------------------------------------------------------------
# Core utterances per intent.  Written plainly; decoration (openers, closers,
# fillers, numbers, punctuation removal) is added by generate_templates().
# {n} = a number (order/account/phone), spoken as digits or Chinese numerals.
# ---------------------------------------------------------------------------
INTENT_CORES = {
    "cancel_service": [
        "我想把宽带销户",
        "帮我取消这个会员的自动续费",
        "我要注销我的账户",
        "我不想用你们的套餐了 帮我退订",
        "请问怎么解约 合同还剩三个月",
        "把我这个手机号停机销号",
        "我想取消订阅 下个月开始不要再扣了",
        "这个增值业务我从来没用过 给我取消掉",
        "麻烦帮我办理一下退网",
        "我要终止合同 提前解约要付多少违约金",
        "会员我不续了 帮我关掉",
        "怎么注销账号 我找不到入口",
        "我搬家了 原来那个地址的网给我拆了吧",
        "帮我把保险停掉 不想继续交了",
        "我要退掉这个服务 以后都不用了",
        "能不能帮我把这张卡销掉",
        "我想关闭账户 里面的余额怎么处理",
        "视频会员的连续包月怎么取消",
        "我决定不用你们家了 帮我把业务全部取消",
        "帮我取消下个月的续约",
    ],
    "refund_request": [
        "我要退款",
        "这个东西我想退货退款",
        "钱什么时候能退回来 已经申请一个礼拜了",
        "订单号是{n} 我要申请退款",
        "多扣的那笔钱能不能退给我",
        "退款到现在还没到账",
        "我取消了订单 钱怎么还没退",
        "衣服尺码不对 想退掉把钱拿回来",
        "麻烦帮我把预付款退一下",
        "我买错了 可以全额退款吗",
        "退款是原路返回吗 大概要几天",
        "服务没用就被扣费了 请把钱退回来",
        "机票退了 钱什么时候能到",
        "我要求赔偿退款 东西根本没法用",
        "上个月的会员费请退给我",
        "退货已经寄回去了 退款一直显示处理中",
        "能不能退一半的钱",
        "我申请的退款被驳回了 想问问为什么",
        "帮我查一下退款进度",
        "押金什么时候退还给我",
    ],
    "complaint": [
        "我要投诉你们的客服 态度太差了",
        "上次那个客服说会给我回电话 结果根本没人打",
        "我排队等了四十分钟才接通",
        "你们的师傅约好上午来 结果一整天都没来",
        "电话转了好几个部门 没有一个人能解决",
        "营业厅的工作人员对我很不耐烦",
        "我想问一下投诉流程怎么走",
        "每次打电话都要从头再说一遍 太浪费时间了",
        "你们承诺三天处理 现在都两个星期了",
        "客服直接把我电话挂了",
        "我反映的问题到现在都没有人跟进",
        "你们的售后服务实在是太差了",
        "快递员态度恶劣 还骂人",
        "我要投诉那个工号{n}的客服",
        "说好的优惠办完之后就不认账了",
        "你们的处理流程太复杂了 来回折腾",
        "我已经提交了三次工单 一次都没有回复",
        "上门的工作人员把我家地板弄脏了也不管",
        "你们的人员一直在推卸责任",
        "我对你们的服务非常不满意",
        "在线客服一直是机器人回复 根本不解决问题",
        "我要向上级部门反映这个情况",
    ],
    "product_defect": [
        "我的手机开不了机了",
        "路由器指示灯一直闪红灯 上不了网",
        "新买的洗衣机转起来声音特别大",
        "这个充电器充不进电",
        "电视屏幕上有一条竖线",
        "你们的软件一打开就闪退",
        "冰箱不制冷了",
        "耳机左边没有声音",
        "收到的杯子是裂的 一倒水就漏",
        "空调开了半天还是吹热风",
        "机顶盒老是死机 要拔电源才能好",
        "app登录以后一直白屏",
        "电池用半天就没电了 才买了一个月",
        "打印机卡纸 打不出来",
        "这个热水器出水一会儿冷一会儿热",
        "手表的屏幕触摸没反应",
        "扫地机器人充不上电也不回充",
        "网速特别慢 测速只有两兆",
        "摄像头画面一直是黑的",
        "新买的鞋穿了两天就开胶了",
        "手机信号很差 老是打不出电话",
    ],
    "repair_request": [
        "能不能派个师傅上门修一下",
        "我想预约维修",
        "帮我安排一个工程师来看看",
        "这个还在保修期内 我想申请保修",
        "在哪里可以修 附近有没有维修点",
        "麻烦约一下明天下午上门检修",
        "我想把手机寄过去维修",
        "维修师傅什么时候能到",
        "能不能改一下维修的预约时间",
        "宽带坏了请派人来修",
        "保修期过了 修一下大概多少钱",
        "我要报修 家里的燃气灶打不着火",
        "空调需要上门清洗和维修",
        "帮我登记一个维修单 编号给我发短信",
        "能换个新的吗 还是只能维修",
        "我想问一下返厂维修要多久",
        "麻烦派人来装一下 顺便检查线路",
        "预约周六上午的维修可以吗",
        "送修的电脑修好了没有",
        "请安排技术人员来处理一下线路故障",
    ],
    "order_status": [
        "我的订单到哪了",
        "我的快递什么时候能到",
        "订单号{n} 帮我查一下发货了没有",
        "我昨天下的单 什么时候发货",
        "能帮我查一下物流信息吗",
        "我买的东西现在是什么状态",
        "预计几号能送到",
        "显示已发货 但是物流一直没更新",
        "帮我看看这个订单有没有出库",
        "我想确认一下订单有没有下成功",
        "新手机的配送时间是哪天",
        "请问我的包裹现在在哪个城市",
        "我定的家具什么时候送货上门",
        "快递单号是多少 我想自己查",
        "上周下的订单还在处理中吗",
        "什么时候能安排配送",
        "我的宽带安装工单进行到哪一步了",
        "预售的商品大概什么时候发",
    ],
    "delivery_problem": [
        "快递显示签收了 但是我根本没收到",
        "包裹送错地址了",
        "东西送到的时候箱子都压坏了",
        "少送了一件 只收到了两个",
        "快递员没打电话直接放门口 东西丢了",
        "说好今天送到 到现在都没来",
        "物流显示派送失败 可我一直在家",
        "收到的货和我买的不一样",
        "快递已经延误一个星期了",
        "外卖送到的时候汤全洒了",
        "包裹在中转站停了五天不动了",
        "送货师傅不给送上楼",
        "我的包裹好像丢件了",
        "收到别人的快递了 我的不见了",
        "配送员把东西放到别的小区了",
        "超过承诺的送达时间三天了还没到",
        "快递被退回去了 我都不知道",
        "生鲜送到的时候已经化了",
    ],
    "billing_question": [
        "我这个月的话费怎么这么高",
        "账单上有一笔我不认识的扣费",
        "为什么多扣了我三十块钱",
        "能不能解释一下这个月的账单",
        "我被重复扣费了两次",
        "这个服务费是什么费用",
        "我的账单什么时候出",
        "我想要一份上个月的电子发票",
        "流量超出的费用是怎么计算的",
        "为什么我的月租变贵了",
        "账单上的滞纳金是怎么回事",
        "这个月的电费比平时多了一倍",
        "我没有开通这个业务 为什么要收费",
        "帮我查一下还欠多少钱",
        "每个月几号扣款",
        "国际漫游费是怎么收的",
        "我想知道这笔{n}元的扣款是什么",
        "能不能把账单寄到我的邮箱",
        "为什么退订以后还在扣费",
    ],
    "payment_problem": [
        "我付款一直失败",
        "银行卡支付提示交易被拒绝",
        "钱已经扣了 但是订单显示未支付",
        "微信支付不了 一直转圈",
        "我交了话费但是没有到账",
        "自动扣款没有扣成功 现在欠费了",
        "信用卡绑不上 提示卡号无效",
        "转账显示处理中已经两天了",
        "付款的时候提示余额不足 可是我卡里有钱",
        "支付宝扣了钱 你们这边没收到",
        "充值失败了 钱也没退回来",
        "我想换一张卡来付款 怎么操作",
        "分期付款的申请没通过",
        "缴费页面一直打不开付不了钱",
        "扫码付款以后显示支付异常",
        "这笔款项一直是待处理状态",
        "用优惠券以后付款报错",
        "每次付款都要验证码 但是收不到短信",
    ],
    "account_access": [
        "我登不上账号了",
        "密码忘了 怎么重置",
        "账号被锁定了",
        "收不到登录验证码",
        "我的账户被冻结了 怎么解冻",
        "换了手机号以后登录不了",
        "实名认证一直通不过",
        "怎么修改登录密码",
        "有人盗了我的账号 改了我的密码",
        "人脸识别老是失败",
        "服务密码输错太多次被锁了",
        "我想换绑手机号",
        "账号提示异常不让登录",
        "支付密码忘记了怎么找回",
        "身份验证需要什么材料",
        "我的用户名是什么 我不记得了",
        "二次验证的设备丢了 登不进去",
        "app提示会话过期 一直让我重新登录",
    ],
    "plan_change": [
        "我想换一个便宜一点的套餐",
        "帮我把宽带升级到一千兆",
        "能不能加一个流量包",
        "我想把套餐降档",
        "给我加一个副卡",
        "我要升级成年度会员",
        "把每个月的通话时长加多一点",
        "能不能把我的套餐改成不限量的",
        "我想取消套餐里的彩铃 其他保留",
        "帮我开通国际漫游",
        "换套餐需要等到下个月生效吗",
        "我想把信用卡额度提高一点",
        "能不能把保险的保额调高",
        "我想从个人版换成家庭版",
        "电视包能单独加吗",
        "帮我改成按年付费",
        "有没有办法把合约期缩短",
        "我想把流量换成通话分钟数",
    ],
    "promotion_inquiry": [
        "最近有什么优惠活动吗",
        "新用户有没有折扣",
        "我的积分可以换什么",
        "双十一有什么优惠",
        "这个优惠券怎么用不了",
        "老用户有没有优惠",
        "充一百送五十的活动还有吗",
        "会员日有什么打折",
        "我想兑换积分",
        "推荐朋友有奖励吗",
        "你们有没有学生优惠",
        "广告上说的免费送三个月是真的吗",
        "我的优惠码是{n} 怎么用",
        "宽带续费有没有赠送",
        "积分什么时候过期",
        "这个月的话费券领了没到账",
        "有什么办套餐送手机的活动吗",
        "节日促销是几号开始",
    ],
    "product_inquiry": [
        "你们这款手机支持5g吗",
        "这个路由器能覆盖多大面积",
        "请问你们的宽带有哪些套餐",
        "这个冰箱有没有白色的",
        "洗衣机的容量是多少公斤",
        "这个产品保修多长时间",
        "你们的服务覆盖我们小区吗",
        "这款空调一晚上耗多少电",
        "两款耳机有什么区别",
        "这个型号还有货吗",
        "app支持电脑上用吗",
        "这个保险都保哪些内容",
        "你们营业厅几点开门",
        "请问这个价格包含安装吗",
        "电视可以挂墙吗 送不送支架",
        "这个卡在国外能用吗",
        "你们的退换货政策是什么",
        "能介绍一下你们的会员有什么权益吗",
        "这个手机充满电要多久",
        "办宽带需要带什么证件",
    ],
    "request_human": [
        "转人工",
        "我要人工服务",
        "帮我转接人工客服",
        "我不想跟机器说话 给我找个真人",
        "能不能让你们主管来接电话",
        "我要找你们经理",
        "人工客服怎么转",
        "请让一个真人来处理",
        "找个懂的人来跟我说",
        "转接一下技术部门的同事",
        "叫你们领导出来",
        "我要跟负责人通话",
        "按了半天零也转不了人工",
        "麻烦帮我接一个客服专员",
        "能不能换一个客服",
        "我要找个人工 机器人听不懂",
        "让你们的上级来处理这件事",
        "把电话转给售后人员",
    ],
    "gratitude": [
        "谢谢你",
        "太感谢了",
        "好的 谢谢你的帮助",
        "非常感谢你的耐心",
        "辛苦你了",
        "谢谢 问题已经解决了",
        "你帮了我大忙了",
        "多谢多谢",
        "感谢你们这么快就处理好了",
        "谢谢你 服务很好",
        "好的好的 麻烦你了 谢谢",
        "真是太感谢你了 解释得很清楚",
        "谢谢 我会给你打五星好评",
        "你们的师傅很专业 谢谢",
        "感谢 祝你工作顺利",
        "谢啦 没有别的问题了",
        "非常满意 谢谢",
        "谢谢你这么耐心地听我说",
    ],
    "other": [
        "喂 你好",
        "喂喂 听得到吗",
        "我的名字叫王小明",
        "我的手机号是{n}",
        "身份证后四位是{n}",
        "稍等一下 我找一下",
        "嗯 好的",
        "你能再说一遍吗",
        "没有别的问题了",
        "今天天气怎么样",
        "我刚才说到哪了",
        "好的 我知道了",
        "对 就是这个号码",
        "你们公司地址在哪里",
        "信号不太好 我换个地方",
        "我在开车 待会再打过来",
        "嗯嗯 你继续说",
        "我家住在北京朝阳区",
        "那个 我想想",
        "是的 是我本人",
        "不用了 就这样吧",
    ],
}

# Second batch of core utterances (shorter, more colloquial wordings).
EXTRA_CORES = {
    "cancel_service": [
        "这个卡我不要了 怎么停掉",
        "宽带合约到期了不续了 帮我办一下拆机",
        "自动续费怎么关 每个月都偷偷扣钱",
        "我想退订所有的短信业务",
        "帮我把会员服务取消了 不用了",
        "手机号不用了想注销",
        "我要解除这个合约",
        "家里不装电视了 把电视业务退了",
        "燃气户头要销户 房子卖了",
        "我想取消我的保单",
    ],
    "refund_request": [
        "我要把钱要回来",
        "东西退回去一个星期了 钱呢",
        "能给我退个款吗",
        "那笔误扣的钱退到哪里去了",
        "酒店订错了 申请取消退钱",
        "退款怎么还是零元",
        "课程不想上了 剩下的课时费能退吗",
        "质量问题要求退货退款",
        "多交的话费能退回到卡上吗",
        "商家同意退款了但是我没收到钱",
    ],
    "complaint": [
        "你们客服说话太冲了",
        "答应给我回电 等了三天一个电话都没有",
        "等了一个多小时都没人接",
        "你们员工的服务态度我必须投诉",
        "问了五个人五个说法",
        "约好的安装时间又放我鸽子",
        "售后一直踢皮球",
        "你们这个流程也太麻烦了吧",
        "我上周的投诉到现在没人处理",
        "门店的店员爱理不理的",
    ],
    "product_defect": [
        "手机屏幕突然黑屏了",
        "电脑开机就蓝屏",
        "wifi老是断线",
        "音箱有杂音",
        "微波炉不加热了",
        "新买的充电宝鼓包了",
        "这个app一付款就卡死",
        "门锁指纹识别不了",
        "吹风机用了两次就不出热风了",
        "电视没有声音只有画面",
        "电动车充不上电了",
    ],
    "repair_request": [
        "麻烦安排人上门维修",
        "我要申请售后维修",
        "最近的售后网点在哪",
        "能上门修空调吗",
        "帮我约个时间来修热水器",
        "保修卡丢了还能保修吗",
        "我想约工程师上门调试一下网络",
        "维修单提交了多久能上门",
        "洗衣机要修 我家在海淀区",
        "手机屏幕碎了 换屏在哪里约",
    ],
    "order_status": [
        "我买的东西发出来没有",
        "帮我查查快递走到哪了",
        "订单一直显示待发货",
        "我的货大概几天到",
        "能查一下订单的进度吗",
        "我网上订的手机卡寄出了吗",
        "物流信息在哪里看",
        "订单什么时候能到我这边",
        "今天能送到吗",
        "麻烦看一下我那个订单发了没",
    ],
    "delivery_problem": [
        "快递放驿站了也不通知我",
        "包裹被别人拿走了",
        "送来的电视屏幕是碎的",
        "快递送到隔壁楼去了",
        "我买了三样东西只到了一样",
        "快递超时好几天了还在路上",
        "送货的人说送了 其实根本没来",
        "物流显示已签收 签收人不是我",
        "东西在路上被压扁了",
        "一直显示派送中就是不送",
    ],
    "billing_question": [
        "话费怎么扣了这么多",
        "这个月账单有点不对",
        "我想查一下这笔费用是什么",
        "为什么每个月多收十块钱",
        "账单明细在哪看",
        "这个月被扣了两次月租",
        "我的发票怎么开",
        "欠费多少了",
        "为什么收我手续费",
        "费用是按天算还是按月算",
    ],
    "payment_problem": [
        "付不了款",
        "交费一直提示失败",
        "钱扣了订单却取消了",
        "银行卡付款被拒了",
        "刚才交的电费没到账",
        "支付的时候页面卡住了",
        "转账失败了钱也没回来",
        "信用卡付款总是不成功",
        "扣款不成功 现在被停机了",
        "用微信交费提示系统繁忙",
    ],
    "account_access": [
        "登录不了",
        "密码怎么找回",
        "账户登录提示密码错误 但我没改过",
        "收不到短信验证码登不上去",
        "账号被封了怎么办",
        "我要重置服务密码",
        "手机号换了 账号怎么登录",
        "登录的时候一直说账号不存在",
        "账户被锁了 帮我解锁",
        "怎么修改绑定的邮箱",
    ],
    "plan_change": [
        "套餐太贵了 换个低一点的",
        "流量不够用 想升级套餐",
        "帮我办个流量加油包",
        "宽带想提速",
        "我想改个套餐",
        "把我的会员从月度改成年度",
        "能加一个家庭成员到套餐里吗",
        "我想把套餐里的通话改成流量",
        "合约套餐能不能中途换",
        "想把副卡去掉 其他不变",
    ],
    "promotion_inquiry": [
        "现在办宽带有优惠吗",
        "有没有什么活动",
        "积分能抵话费吗",
        "优惠券在哪领",
        "我看到你们在搞活动 怎么参加",
        "老客户续约有什么福利",
        "这个折扣还能叠加吗",
        "我的积分还剩多少",
        "618有满减吗",
        "有没有免费试用",
    ],
    "product_inquiry": [
        "这个套餐包含多少流量",
        "你们的冰箱有几种颜色",
        "这款手机是双卡的吗",
        "宽带最高能办多少兆",
        "这个东西怎么用",
        "请问这款和那款哪个好",
        "这个能开发票吗",
        "你们支持货到付款吗",
        "营业时间是几点到几点",
        "这个保险多大年纪可以买",
    ],
    "request_human": [
        "人工",
        "给我转人工客服",
        "我要和真人说话",
        "找你们主管",
        "帮我转给你们经理",
        "能不能找个人工来",
        "机器人没用 转人工",
        "让你们的负责人给我回电话",
        "我要跟你们领导说",
        "转投诉专员",
    ],
    "gratitude": [
        "好的谢谢",
        "谢谢你了",
        "太好了 谢谢",
        "感谢感谢",
        "谢谢您 辛苦了",
        "麻烦你了 非常感谢",
        "谢谢你帮我解决了",
        "好的 太谢谢了",
        "多亏你了 谢谢",
        "谢了 再见",
    ],
    "other": [
        "喂",
        "你好 请问是客服吗",
        "等一下 我孩子在叫我",
        "你说什么 我没听清",
        "对对对",
        "我姓张 弓长张",
        "刚才电话断了",
        "嗯 没事了",
        "好 我记一下",
        "我在外地出差",
        "什么 再说一遍",
    ],
}
for _k, _v in EXTRA_CORES.items():
    INTENT_CORES[_k].extend(_v)

INTENT_BASE_SENTIMENT = {i: "neutral" for i in INTENT_LABELS}
INTENT_BASE_SENTIMENT["complaint"] = "negative"
INTENT_BASE_SENTIMENT["gratitude"] = "positive"
# A complaint core that is worded neutrally (a request about the complaint
# process) keeps neutral sentiment.
NEUTRAL_COMPLAINT_CORES = {"我想问一下投诉流程怎么走"}

# ---------------------------------------------------------------------------
# Sentiment decorations
# ---------------------------------------------------------------------------
NEG_PREFIX = [
    "真是气死我了", "你们这服务太差了", "我已经打了五次电话了", "我真的受够了",
    "这是我第三次打电话说这个事了", "真是太好了 又坏了 第三次了",
    "麻烦你们能不能认真处理一下", "我忍了很久了", "说实话我非常生气",
    "你们到底怎么回事", "我不是想发火 但是", "搞什么啊", "太离谱了",
    "我都等了一个上午了", "真是服了你们了", "我对你们太失望了",
    "又是这个问题", "同样的问题又出现了", "这个月第二次了",
    "我都用了你们十年了 就这么对待老客户", "我没有耐心了", "烦死了",
    "你们能不能靠谱一点", "好极了 又出问题了",
]
NEG_SUFFIX = [
    "太让人失望了", "简直是浪费我的时间", "我真的很生气", "你们到底管不管",
    "我要投诉你们", "这种服务也太差劲了", "再这样我就换别家了",
    "我已经打了五次电话了", "说了多少遍了还是没用", "真的是无语了",
    "每次都这样", "谢谢你们啊 什么都没解决", "完全不能接受",
    "又坏了 已经第三次了", "一直都没人管", "太坑了", "我快被你们逼疯了",
    "麻烦认真处理一下好吗", "真是够了",
]
POS_PREFIX = [
    "你好 你们服务一直挺好的", "谢谢你这么快接电话", "上次那个客服特别好",
    "你们家的东西我一直很喜欢", "你好 我是老用户了 一直很满意",
    "太好了终于打通了", "先说一下 你们上次处理得很棒",
]
POS_SUFFIX = [
    "谢谢你", "太感谢了", "你们服务真好", "辛苦了 谢谢", "非常满意",
    "你真是帮了大忙", "谢谢 服务很周到", "好评", "麻烦你了 谢谢啊",
]
NEU_PREFIX = [
    "你好", "喂 你好", "您好", "嗯", "那个", "就是", "然后", "嗯 是这样的",
    "你好 我想问一下", "喂 你好 我打电话是因为", "你好 我的手机号是{n}",
    "你好 我姓李", "嗯 那个 就是", "好的 然后", "你好 麻烦问一下",
]
NEU_SUFFIX = [
    "谢谢", "麻烦帮我看一下", "我的手机号是{n}", "订单号是{n}", "帮我查一下",
    "就是这个事", "可以吗", "好吧", "", "", "", "",
]

# Stand-alone sentiment cases: (text, sentiment, intent or None).
SENTIMENT_EXTRAS = [
    # negation / litotes -> positive or neutral
    ("还不错", "positive", None),
    ("挺不错的 我很满意", "positive", None),
    ("没什么问题 用着挺好", "positive", None),
    ("不是不好 是非常好", "positive", None),
    ("没想到这么快就解决了 不错", "positive", "gratitude"),
    ("一点都不麻烦 很顺利", "positive", None),
    ("没有任何不满意的地方", "positive", None),
    ("新装的宽带速度很快 不卡了", "positive", None),
    ("师傅修得很好 没再出毛病", "positive", None),
    ("退款已经收到了 谢谢你们", "positive", "gratitude"),
    ("比我想象的好多了", "positive", None),
    ("真的帮了大忙 太好了", "positive", "gratitude"),
    ("服务态度好 解决问题也快", "positive", None),
    ("东西质量没得说", "positive", None),
    ("不错不错 就是我要的", "positive", None),
    ("没问题 就按你说的办", "neutral", "other"),
    ("没什么问题了 就这样", "neutral", "other"),
    ("不用了 没有其他事了", "neutral", "other"),
    ("不是这个号码 是另外一个", "neutral", "other"),
    ("没关系 我等一下", "neutral", "other"),
    # negation -> negative
    ("不太满意", "negative", None),
    ("一点都不好用", "negative", None),
    ("这个回答我不能接受", "negative", "complaint"),
    ("根本没解决 你们也不管", "negative", "complaint"),
    ("不是我说 你们这效率也太低了", "negative", "complaint"),
    ("再也不会买你们的东西了", "negative", None),
    ("说得好听 一点用都没有", "negative", None),
    ("没见过这么差的服务", "negative", "complaint"),
    ("不好意思 但是我真的很生气", "negative", None),
    ("你们这不是骗人吗", "negative", "complaint"),
    # sarcasm -> negative
    ("真是太好了又坏了第三次了", "negative", "product_defect"),
    ("厉害了 又让我等了一个小时", "negative", "complaint"),
    ("可真行啊 电话转了六次", "negative", "complaint"),
    ("好棒啊 又多扣了我一次钱", "negative", "billing_question"),
    ("真是谢谢你们了 快递又丢了", "negative", "delivery_problem"),
    ("服务真好啊 等了三个礼拜还没修", "negative", "repair_request"),
    ("太棒了 软件又闪退了", "negative", "product_defect"),
    ("你们可真是效率高 退款一个月了还没到", "negative", "refund_request"),
    ("呵呵 又是这个答复", "negative", "complaint"),
    ("真不错 路由器又罢工了", "negative", "product_defect"),
    # polite but angry
    ("麻烦你们能不能认真处理一下 我已经打了五次电话了", "negative", "complaint"),
    ("我理解你们也不容易 但是这样真的不行", "negative", "complaint"),
    ("谢谢你 但是我对这个结果非常失望", "negative", "complaint"),
    ("我很客气地跟你说 这事必须今天解决", "negative", None),
    ("不好意思打扰了 可是这已经是第四次了", "negative", None),
    ("请你们尊重一下客户好吗", "negative", "complaint"),
    # negative words inside neutral requests -> neutral
    ("我想问一下投诉流程怎么走", "neutral", "complaint"),
    ("坏了的东西怎么退", "neutral", "refund_request"),
    ("如果付款失败会怎么样", "neutral", "product_inquiry"),
    ("请问提前解约有违约金吗", "neutral", "cancel_service"),
    ("产品有质量问题的话怎么保修", "neutral", "product_inquiry"),
    ("逾期还款的罚息怎么算", "neutral", "billing_question"),
    ("你们对破损商品是什么政策", "neutral", "product_inquiry"),
    ("怎么申报一个故障", "neutral", "repair_request"),
    ("密码输错会被锁多久", "neutral", "account_access"),
    ("丢件的话一般怎么处理", "neutral", "delivery_problem"),
    # repeated failures -> negative
    ("第四次坏了 我要退订", "negative", "cancel_service"),
    ("又断网了 这个月第三次了", "negative", "product_defect"),
    ("换的新机又坏了 我要退钱", "negative", "refund_request"),
    ("又没送到 每次都延误", "negative", "delivery_problem"),
    ("又付款失败了 每个月都这样", "negative", "payment_problem"),
    ("又修不好 派个会修的人来", "negative", "repair_request"),
    ("又登不上了 天天都要重置密码", "negative", "account_access"),
    ("算了 不用了 直接给我销户吧 一直出问题", "negative", "cancel_service"),
]

FILLERS = ["嗯", "呃", "那个", "就是", "然后", "啊", "这个", "就是说"]
ZH_DIGITS = "零一二三四五六七八九"


def _fill_number(text: str, rng: random.Random) -> str:
    while "{n}" in text:
        k = rng.randint(3, 11)
        digits = [str(rng.randint(0, 9)) for _ in range(k)]
        style = rng.random()
        if style < 0.45:
            num = "".join(digits)
        elif style < 0.6:
            num = " ".join(digits)
        elif style < 0.85:
            num = "".join(ZH_DIGITS[int(d)] for d in digits)
        else:  # 幺 for one, as read out on the phone
            num = "".join("幺" if d == "1" else ZH_DIGITS[int(d)] for d in digits)
        text = text.replace("{n}", num, 1)
    return text


_ZH_PUNCT = re.compile(r"[，。？！、,.?!;；:：]")


def asr_style(text: str, rng: random.Random) -> str:
    """Whisper-like: often no punctuation (spaces or nothing), fillers, repeats."""
    r = rng.random()
    if r < 0.45:  # no punctuation, no spaces
        text = re.sub(r"\s+", "", _ZH_PUNCT.sub("", text))
    elif r < 0.7:  # spaces kept as pauses
        text = re.sub(r"\s+", " ", _ZH_PUNCT.sub(" ", text)).strip()
    else:  # punctuated
        text = re.sub(r"\s+", "，", text.strip())
        if not re.search(r"[。？！?!]$", text):
            text += rng.choice(["。", "。", "？", "！", ""])
    if rng.random() < 0.3:  # insert a filler at a space or at the start
        f = rng.choice(FILLERS)
        if " " in text and rng.random() < 0.6:
            parts = text.split(" ")
            i = rng.randint(0, len(parts) - 1)
            parts.insert(i, f)
            text = " ".join(parts)
        else:
            text = f + ("" if rng.random() < 0.5 else " ") + text
    if rng.random() < 0.1 and len(text) > 3:  # repetition ("我我想")
        i = rng.randint(0, len(text) - 2)
        span = text[i:i + rng.randint(1, 2)]
        text = text[:i] + span + text[i:]
    return text


def _join(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def generate_templates(seed: int, per_core: int = 10, dev_core_frac: float = 0.2):
    """Returns (train, dev) lists of {text, sentiment, intent, source, lang}.

    Whole core utterances (~dev_core_frac per intent) are held out into dev, so
    dev measures unseen wordings; every 5th SENTIMENT_EXTRAS case goes to dev
    (the expansion itself is shared with English: `classifier_data.expand_templates`).
    """
    lex = dict(join=_join, asr_style=asr_style, fill_number=_fill_number,
               neu_prefix=NEU_PREFIX, neu_suffix=NEU_SUFFIX, neg_prefix=NEG_PREFIX,
               neg_suffix=NEG_SUFFIX, pos_prefix=POS_PREFIX, pos_suffix=POS_SUFFIX,
               negative_modes=["plain", "plain", "neg", "neg", "neu"],
               positive_modes=["plain", "plain", "pos", "neu"])

    def base_of(intent, core):
        return "neutral" if core in NEUTRAL_COMPLAINT_CORES else INTENT_BASE_SENTIMENT[intent]

    return expand_templates(random.Random(seed), INTENT_CORES, base_of, lex, per_core, dev_core_frac,
                            SENTIMENT_EXTRAS, 4, "callsense_templates_zh", lang="zh")


if __name__ == "__main__":
    tr, dv = generate_templates(13)
    print(len(tr), len(dv), sum(len(v) for v in INTENT_CORES.values()), len(SENTIMENT_EXTRAS))
    for e in dv[:: max(1, len(dv) // 25)]:
        print(e)
