"""Short call transcripts from templates (Chinese mostly, some English), and other demo texts."""

from __future__ import annotations

import random

TIER_ZH = {0: "会员", 1: "银卡", 2: "金卡", 3: "铂金卡", 4: "钻石卡", 5: "至尊卡"}
TIER_EN = {0: "Member", 1: "Silver", 2: "Gold", 3: "Platinum", 4: "Diamond", 5: "Supreme"}

_ZH_OPEN_MAINT = (
    "坐席：您好，这里是会员价值部客户服务中心，我是您的专属客户经理{agent}。请问是{surname}先生/女士吗？",
    "坐席：{surname}先生/女士您好，我是会员服务中心的{agent}，现在方便接听电话吗？",
)
_ZH_OPEN_OB = (
    "坐席：您好，这里是会员服务中心，我是{agent}，今天来电想跟您介绍一项会员专属活动，请问现在方便吗？",
    "坐席：{surname}先生/女士您好，我是{agent}，本次通话会被录音，想占用您两分钟时间介绍一下新的权益套餐。",
)
_ZH_VERIFY = (
    "坐席：为了保护您的账户安全，麻烦先核对一下您登记手机号的后四位。\n客户：{last4}。\n坐席：好的，核对无误，谢谢您。"
)
_ZH_BODY = {
    "onboarding_visit": (
        "坐席：恭喜您升级为我们的{tier}会员！我是您今后的专属客户经理，想和您约个时间上门拜访，当面介绍您的专属权益。",
        "客户：最近比较忙，下周三下午可以吗？",
        "坐席：没问题，下周三下午三点我带上权益手册过去。另外麻烦确认一下您的生日和微信号，方便节日问候。",
    ),
    "rights_notification": (
        "坐席：本月起您的{tier}权益有更新：生日月双倍积分、机场贵宾厅每年两次，还有专属客服热线。",
        "客户：贵宾厅需要提前预约吗？",
        "坐席：需要提前一天通过专属热线预约，我稍后把预约方式用短信发给您。",
    ),
    "care": (
        "坐席：快到换季了，打电话问候一下您，最近使用我们的服务还满意吗？",
        "客户：挺好的，就是上次排队有点久。",
        "坐席：非常抱歉给您带来不便，我已经记录下来，下次您来之前可以先联系我，我帮您预留。",
    ),
    "retention": (
        "坐席：注意到您最近消费有所减少，想了解一下是不是我们哪里做得不够好？",
        "客户：其他家最近优惠力度比较大。",
        "坐席：理解。按照您的{tier}等级，本季度可以为您申请一次专属折扣，我帮您登记一下可以吗？",
    ),
    "winback": (
        "坐席：好久没见您来了，我们新开了会员休息区，特别想邀请您回来体验一下。",
        "客户：之前的会员还有效吗？",
        "坐席：有效的，您的积分都还在，这个月回来消费还可以额外获得积分奖励。",
    ),
    "complaint_followup": (
        "坐席：关于您上周反映的问题，我们已经处理完毕，今天来电回访一下结果是否满意。",
        "客户：处理得还可以，希望以后不要再出现。",
        "坐席：一定，我们已经调整了流程，有任何问题您直接联系我。",
    ),
    "upsell": (
        "坐席：根据您的消费习惯，我们有一款年度权益包，价格是每年1,280元，包含十二次免费停车和四次贵宾厅。",
        "客户：停车能在其他门店用吗？",
        "坐席：全市门店都可以使用。您是否同意现在开通？需要您明确回复“同意”。",
    ),
    "campaign": (
        "坐席：本周末有会员专场活动，满一千元送两百元礼券，名额有限，想帮您预留一个名额。",
        "客户：我再考虑一下吧。",
        "坐席：好的，尊重您的决定，活动信息我用短信发您，您有需要随时联系。",
    ),
    "renewal": (
        "坐席：您的年度权益包下个月到期，续费可以享受九折，续费后权益自动延续一年。",
        "客户：价格和去年一样吗？",
        "坐席：是的，续费价格1,152元，不会自动扣款，需要您确认后才办理。",
    ),
}
_ZH_CLOSE = (
    "坐席：那今天就先这样，刚才约定的事项我会按时跟进。感谢您一直以来的支持，祝您生活愉快，再见！",
    "坐席：我把今天沟通的内容总结一下发给您。感谢您的接听，祝您和家人身体健康，再见。",
)
_EN_BODY = {
    "maintenance": (
        "Agent: Good afternoon, this is {agent} from the Member Value Department, your dedicated manager. "
        "Am I speaking with Mr./Ms. {surname}?",
        "Customer: Yes, speaking.",
        "Agent: Before we continue, could you confirm the last four digits of your registered phone number?",
        "Customer: {last4}.",
        "Agent: Thank you. As a {tier} member you now have two lounge visits a year and a dedicated hotline. "
        "Is there anything I can help you with today?",
        "Customer: Not right now, thanks.",
        "Agent: I'll text you the hotline number. Thank you for your time, and have a good day.",
    ),
    "ob": (
        "Agent: Hello, this is {agent} from the member service centre. This call is recorded. "
        "Do you have two minutes for a member offer?",
        "Customer: Go ahead.",
        "Agent: The annual benefits pack is 1,280 yuan for twelve months: twelve free parking sessions and four "
        "lounge visits. Would you like to enrol? I need an explicit yes.",
        "Customer: Let me think about it.",
        "Agent: Of course. I'll send the details by SMS; no enrolment without your confirmation. Thank you!",
    ),
}


def transcript(
    rng: random.Random, *, call_type: str, stream: str, agent: str, customer: str, phone: str | None, rank: int
) -> str:
    """A short plausible transcript for a connected call."""
    surname = customer[:1] if customer else "王"
    last4 = (phone or "0000")[-4:]
    if rng.random() < 0.15:
        lines = _EN_BODY["ob" if stream == "ob" else "maintenance"]
        return "\n".join(line.format(agent=agent, surname=surname, last4=last4, tier=TIER_EN[rank]) for line in lines)
    opening = rng.choice(_ZH_OPEN_OB if stream == "ob" else _ZH_OPEN_MAINT)
    parts = [opening, "客户：是我，你说。"]
    if stream == "maintenance":
        parts.append(_ZH_VERIFY)
    parts.extend(_ZH_BODY.get(call_type, _ZH_BODY["care"]))
    parts.append(rng.choice(_ZH_CLOSE))
    return "\n".join(p.format(agent=agent, surname=surname, last4=last4, tier=TIER_ZH[rank]) for p in parts)


DISPUTE_REASONS = (
    "客户当时已经在系统里完成身份核实，录音开头有说明，请复核“核实身份”一项。",
    "The customer interrupted twice; I did not cut them off. Please re-listen from 02:10.",
    "该客户明确表示不需要权益介绍，所以没有讲解权益，不应扣分。",
    "Closing line was said after the recording cut; the CRM note shows the next step.",
)
RESOLUTION_NOTES = {
    "upheld": "复核录音后维持原评分。",
    "adjusted": "复核后调整争议项得分，已重新计算总分。",
    "overturned": "录音与客户不符，本次评估作废。",
}
COACHING_TEXTS = (
    "开场白需要完整报出公司和本人姓名，下周抽听三通电话确认改进。",
    "权益讲解准确，但收集客户资料（生日、第二联系方式）不够主动，练习提问话术。",
    "Objection handling: follow the retention playbook order (acknowledge, clarify, offer). Role-play on Friday.",
    "结束语要总结下一步并使用关怀结束语，已发送标准话术，请熟记。",
    "Pace was too fast for an older customer; slow down and confirm understanding.",
    "对超出权限的问题要及时升级，不要自行承诺优惠。",
)
DISCIPLINE_NOTES = ("早会点名", "班长巡场记录", "监控抽查", "同事反映，已核实")
NA_REASONS = {
    "fnb": ("客人未安排用餐", "本次宴请取消，改为简餐"),
    "front_office": ("客人当天往返，未入住酒店", "客人资料已在上次接待时登记"),
    "marketing": ("No airport pickup: the guest arrived by own car", "客人要求简化流程", "未安排参观环节"),
    "security": ("本级别接待不设该岗位", "Not needed for a same-day visit"),
    "engineering": ("场地近期已完成检查，无需重复",),
    "admin_hr": ("沿用上次接待的工作小组", "Not applicable for a same-day visit"),
}
NA_DEFAULT = ("本次接待不涉及该环节",)


def na_reason(rng: random.Random, department: str) -> str:
    return rng.choice(NA_REASONS.get(department, NA_DEFAULT))


def follow_up_action(rng: random.Random, text_zh: str) -> str:
    """A follow-up for a failed item, naming what failed."""
    what = text_zh.rstrip("。").split("，")[0][:40]
    return rng.choice(("复查整改：{w}，完成后回报主管", "查明原因并补做：{w}", "部门例会通报并整改：{w}")).format(
        w=what
    )


INCIDENTS = (
    ("① 号岗", "无关人员试图进入贵宾楼区域拍照，已劝离。", "已劝离并登记身份，未影响接待。"),
    ("② 号岗", "访客未登记即要求进入，岗位拦截后报告。", "经许可后登记进入，流程正常。"),
    ("巡逻岗", "停车场一辆车未按指定路线停放，阻挡专车通道。", "联系车主挪车，通道十分钟内恢复。"),
    ("③ 号岗", "电梯短暂故障，客人在大堂等候。", "工程部十五分钟内修复，安排客人走备用电梯。"),
)
LOCATIONS = (
    "莞香楼贵宾区",
    "国际会议中心三楼贵宾厅",
    "总部大楼十八层接待室",
    "酒店行政楼层",
    "赛车场贵宾室",
    "中餐厅牡丹包房",
    "别墅区二号楼",
)
PURPOSES = ("商务洽谈", "年度答谢", "考察调研", "签约仪式", "会员活动", "生日宴请", "参观访问")
GUEST_TITLES = ("省政府考察团", "市委领导一行", "部委调研组", "市政府接待办", "省发改委代表团", "外省友好城市代表团")
