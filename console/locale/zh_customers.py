"""Simplified Chinese for the Customers page (VIP 360, issue 7)."""

ZH: dict[str, str] = {
    # page and views
    "One page per VIP: tier, manager, contacts, calls and QA, visits — and the gaps between them.": (
        "每位贵宾一页：等级、客户经理、联系与通话质检、来访——以及其间的缺口。"
    ),
    "Find a customer": "查找客户",
    "Coverage gaps": "覆盖缺口",
    "Early warning": "预警",
    "Timeline": "时间线",
    "Search results": "搜索结果",
    "Show the list": "查看名单",
    "Open a customer": "打开客户",
    "Choose a customer of this page": "从本页选择一位客户",
    "Open customer {code}": "打开客户 {code}",
    "Opens the customer's page in a new tab (log in there again).": "在新标签页打开客户页面（需要重新登录）。",
    "That is not a customer code.": "这不是客户编号。",
    "The customer {code} is not in your scope.": "客户 {code} 不在您的范围内。",
    "No customer with the code {code}.": "没有编号为 {code} 的客户。",
    # search
    "Code, name or full phone number": "编号、姓名或完整手机号",
    "A full phone number finds the customer; the number stays masked.": "输入完整手机号即可找到客户，号码仍保持脱敏。",
    "Flag": "标记",
    "Flags": "标记",
    "Search by code, name or full phone number, or pick a filter.": "按编号、姓名或完整手机号搜索，或选择筛选条件。",
    "Search your portfolio by code, name or full phone number, or pick a filter.": (
        "在您的名下客户中按编号、姓名或完整手机号搜索，或选择筛选条件。"
    ),
    "Search the customers your team has called, by code, name or full phone number.": (
        "在本组呼叫过的客户中按编号、姓名或完整手机号搜索。"
    ),
    "No customer in your scope matches.": "您范围内没有符合条件的客户。",
    "Found by the full phone number; numbers stay masked.": "按完整手机号找到；号码仍保持脱敏。",
    "The search text is too long: at most {max} characters.": "搜索内容过长：最多 {max} 个字符。",
    "The search text contains characters that cannot be searched.": "搜索内容包含无法搜索的字符。",
    "Unknown filter.": "未知的筛选条件。",
    "Any coverage gap": "任一覆盖缺口",
    "Tier override in force": "人工锁定等级生效中",
    "Supreme designation": "至尊卡指定",
    "Unassigned VIP": "未分配的贵宾",
    "Supreme": "至尊卡",
    "Override": "人工锁定",
    "Unassigned": "未分配",
    "Leave without cover": "休假无代管",
    "Level too low": "经理级别不足",
    "Contact overdue": "联系逾期",
    "No evaluated call": "无质检通话",
    "Reception follow-up": "接待整改未完成",
    "Downgrade after failed call": "质检不合格后降级",
    # profile
    "Spend, last 12 months": "近12个月消费",
    "Purchases, last 12 months": "近12个月购买次数",
    "Since {day}": "自 {day} 起",
    "{tier} since {day}": "自 {day} 起为{tier}",
    "Why: {reason}": "原因：{reason}",
    "Supreme by designation since {day}.": "自 {day} 起经指定为至尊卡。",
    "no end date": "无截止日期",
    "Override to {tier} until {until} by {by}: {reason}": "人工锁定为{tier}，至 {until}，操作人 {by}：{reason}",
    "At risk: would qualify for {tier} at the review on {day}.": "有降级风险：在 {day} 的季度复核时仅符合{tier}。",
    "Qualifies now for {tier}; no higher tier has a threshold.": "当前符合{tier}；没有更高的门槛等级。",
    "both conditions": "两项条件均需满足",
    "either condition": "满足任一条件",
    "Next tier: {tier} ({rule}).": "下一等级：{tier}（{rule}）。",
    "Spend": "消费",
    "Purchases": "购买次数",
    "{label}: {have} of {need}": "{label}：{have} / {need}",
    "{gap} to go": "还差 {gap}",
    "Unassigned (waiting since {day})": "未分配（自 {day} 起等待）",
    "Member: not assigned": "普通会员：不分配客户经理",
    "Contact details": "联系方式",
    "Phone": "电话",
    "ID number": "身份证号",
    "Reveal": "显示完整号码",
    "Revealed (audited)": "已显示（已记入审计日志）",
    "Shows the full number once; written to the audit log.": "显示一次完整号码；此操作记入审计日志。",
    "Revealed; this was written to the audit log.": "已显示；此操作已记入审计日志。",
    "Region": "地区",
    "Birthday": "生日",
    "Dietary": "饮食偏好",
    "Hometown": "籍贯",
    "Field": "项目",
    "Value": "内容",
    "Notes: {notes}": "备注：{notes}",
    "SLAs": "服务时限",
    "SLA": "SLA",
    "State": "状态",
    "SLAs apply to VIPs only.": "服务时限仅适用于贵宾。",
    "Met on {day}": "于 {day} 达成",
    "due {day}": "应于 {day}",
    "Breached since {day}": "自 {day} 起超时",
    "Missed: the first call came before any notice SMS": "未达成：首次通话前未发送通知短信",
    "Due on {day} (in {days} days)": "应于 {day} 完成（还有 {days} 天）",
    "No coverage gap.": "没有覆盖缺口。",
    # timeline
    "Newest first": "最新在前",
    "Choose at least one kind of event.": "请至少选择一种事件类型。",
    "Nothing recorded for this customer yet.": "该客户尚无记录。",
    "Event": "事件",
    "Where it lives": "所在页面",
    "Open where an event lives": "打开事件所在页面",
    "Select a row above or choose an event": "选择上方一行或在此选择事件",
    "None of these events has a page you may open.": "这些事件没有您可打开的页面。",
    "Export the timeline": "导出时间线",
    "Contact": "联系",
    "Call logged": "通话记录",
    "SMS": "短信",
    "Visit logged": "来访记录",
    "delivered": "已送达",
    "completed": "已完成",
    "{kind}: {from_tier} → {to_tier}": "{kind}：{from_tier} → {to_tier}",
    "{kind}: {to_tier}": "{kind}：{to_tier}",
    "Manager: {from_manager} → {to_manager}": "客户经理：{from_manager} → {to_manager}",
    "batch #{id} ({kind})": "批次 #{id}（{kind}）",
    "System": "系统",
    "{stream} call ({type})": "{stream}通话（{type}）",
    "result: {result}": "结果：{result}",
    "{minutes} min {seconds} s": "{minutes} 分 {seconds} 秒",
    "evaluation #{id} overturned": "质检 #{id} 已撤销",
    "evaluation #{id}: not scored": "质检 #{id}：未计分",
    "evaluation #{id}: {score} ({verdict})": "质检 #{id}：{score}（{verdict}）",
    "pass": "合格",
    "fail": "不合格",
    "dispute: {status}": "申诉：{status}",
    "evaluated (the score is visible to the caller's team)": "已质检（分数仅对呼叫人所在团队可见）",
    "L{level} visit at {location}": "L{level} 来访：{location}",
    "readiness {pct}": "准备度 {pct}",
    "no checklist run": "无检查单执行",
    "{count} failed item(s), {critical} critical": "{count} 项不合格，其中关键项 {critical} 项",
    "{count} incident(s)": "{count} 起事件",
    "Batch #{value}": "批次 #{value}",
    "Evaluation #{value}": "质检 #{value}",
    "Visit #{value}": "来访 #{value}",
    "Tiers": "等级",
    "Assignment": "分配",
    "Customer code": "客户编号",
    # coverage gaps
    "Gap": "缺口",
    "Manager on leave without cover": "客户经理休假且无代管",
    "Manager's level no longer allows the tier": "客户经理级别已不允许该等级",
    "No maintenance contact within the tier's frequency": "未在等级要求的周期内维护联系",
    "Diamond or Supreme without an evaluated call in 180 days": "钻石卡或至尊卡180天内无质检通话",
    "Failed critical reception item not followed up before the next visit": "关键接待项不合格，下次来访前未完成整改",
    "Downgrade within 90 days after a failed evaluation": "质检不合格后90天内降级",
    "Assigned to a manager who is on leave today and whose VIP was not moved to a cover, "
    "or to a manager who has left or is inactive.": (
        "所属客户经理今日休假且该贵宾未转给代管经理，或所属客户经理已离职或停用。"
    ),
    "Junior managers hold up to Gold, senior up to Diamond; only enterprise managers hold Supreme.": (
        "初级经理最多负责金卡，高级经理最多负责钻石卡；只有企业级经理可负责至尊卡。"
    ),
    "No connected maintenance call and no logged visit within the tier's contact frequency, by anyone.": (
        "在等级要求的联系周期内，没有任何人完成接通的维护通话或登记来访。"
    ),
    "No call to this Diamond or Supreme customer in the last 180 days has been evaluated.": (
        "该钻石卡或至尊卡客户近180天内的通话均未经质检。"
    ),
    "A critical checklist item failed on a visit, its follow-up is not done, "
    "and the customer's next visit is planned.": ("某次来访的关键检查项不合格，整改未完成，而客户的下次来访已排定。"),
    "Downgraded in the last 180 days, within 90 days after a failed evaluation of a call to this customer.": (
        "近180天内降级，且发生在该客户某通通话质检不合格后的90天内。"
    ),
    "Gap · leave, no cover": "缺口 · 休假无代管",
    "Gap · level below tier": "缺口 · 经理级别不足",
    "Gap · contact overdue": "缺口 · 联系逾期",
    "Gap · top tier unevaluated": "缺口 · 高等级无质检",
    "Gap · reception follow-up": "缺口 · 接待整改",
    "Gap · downgrade after fail": "缺口 · 不合格后降级",
    "Computed for every customer at {time}; recomputed every 15 minutes. The list shows your scope.": (
        "已于 {time} 为全部客户计算；每15分钟重新计算。名单仅显示您范围内的客户。"
    ),
    "Recompute now": "立即重新计算",
    "No customer in your scope has this gap.": "您范围内没有客户存在此缺口。",
    "Since": "起始",
    "What is missing": "缺失内容",
    "Include full phone and ID numbers (written to the audit log)": "包含完整电话和身份证号（记入审计日志）",
    "Export with numbers": "导出含完整号码",
    "Export this list": "导出此列表",
    "Resolved since the last computation.": "上次计算后已解决。",
    "{manager} is on leave {start} – {end} and no cover holds this VIP.": (
        "{manager} 于 {start} – {end} 休假，该贵宾无代管经理。"
    ),
    "{manager} left on {date}; the VIP was not moved.": "{manager} 已于 {date} 离职；该贵宾未被转移。",
    "{manager} is inactive; the VIP was not moved.": "{manager} 已停用；该贵宾未被转移。",
    "{manager} is a {level} manager and may not hold a {tier} VIP.": "{manager} 为{level}经理，不能负责{tier}贵宾。",
    "Last connected maintenance contact on {day}; {tier} needs one every {days} days, so the next was due by {due}.": (
        "最近一次接通的维护联系在 {day}；{tier}要求每 {days} 天联系一次，下一次应在 {due} 前完成。"
    ),
    "No connected maintenance contact since becoming a VIP on {day}; the first was due by {due}.": (
        "自 {day} 成为贵宾以来没有接通的维护联系；首次联系应在 {due} 前完成。"
    ),
    "Last evaluated call on {day}.": "最近一次经质检的通话在 {day}。",
    "No call to this customer has been evaluated.": "该客户的通话从未经质检。",
    "{count} failed critical item(s) without a finished follow-up, e.g. “{item}” on the visit of {visit}; "
    "next visit {next}.": "{count} 项关键项不合格且整改未完成，例如 {visit} 来访的“{item}”；下次来访 {next}。",
    "Downgraded {from_tier} → {to_tier} on {day}, {days} days after a failed evaluation of a call on {call_day}.": (
        "于 {day} 由{from_tier}降为{to_tier}，距 {call_day} 通话质检不合格 {days} 天。"
    ),
    # early warning
    "(to date)": "（截至今日）",
    "{first} and {last}: the share of each portfolio downgraded beside the average QA score and the trend "
    "of the weakest scorecard section. Falling scores before rising downgrades are the warning. "
    "Refreshed every 15 minutes.": (
        "{first} 与 {last}：各名下客户的降级比例，对照平均质检分和最弱评分项的走势。分数先降、降级后升即为预警。"
        "每15分钟刷新。"
    ),
    "Comparing two quarters of QA scores and downgrades…": "正在比较两个季度的质检分与降级……",
    "Change in average QA score, {first} → {last}": "平均质检分变化，{first} → {last}",
    "Downgraded in {last} (%)": "{last} 降级比例（%）",
    "Downgraded (%)": "降级比例（%）",
    "Downgraded {q}": "{q} 降级",
    "Portfolio": "名下客户",
    "Portfolio ({q})": "名下客户（{q}）",
    "QA score {q}": "{q} 质检分",
    "Score change": "分数变化",
    "Weakest section": "最弱评分项",
    "Weakest section trend": "最弱评分项走势",
    "Section {q}": "{q} 评分项",
    "Section trend": "评分项走势",
    "Not enough evaluations in both quarters to draw the comparison.": "两个季度的质检数量不足，无法比较。",
    "No client managers or teams yet.": "尚无客户经理或团队。",
}
