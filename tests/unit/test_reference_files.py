"""Checks of the reference data files under seed/reference/ (SPEC §4 and §5).

These files are what an empty database is seeded with, so a broken weight, a dangling section
code or a Traditional character here shows up in front of users. Only pyyaml and the stdlib.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "seed" / "reference"

DEPARTMENTS = {"security", "fnb", "front_office", "engineering", "admin_hr", "marketing"}
TIMINGS = {"offset", "per_shift", "during_stay", "optional"}
ANCHORS = {"arrival", "departure"}
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
CJK = re.compile(r"[\u4e00-\u9fff]")

# Traditional-only characters (each one changes under Traditional -> Simplified conversion):
# the common ones first, then every such character that occurs in the Traditional source documents.
TRADITIONAL_ONLY = set(
    "們這個來時會與為說對樓檢總經務權級衛處廳邊後發現關開門點車電話應護戶員業優備費進"
    "動間場資顧實導報內辦確問領準設據將過責統專銀題當國條營結聯負號機議體調記積賓況數"
    "請認貴崗標銷單側財購滿質給網證計訪產規還細別達無種運則傳換參價夠區組維項錄節協見"
    "訂決劃從貨帶廣沒預禮變須選簽圍寫強兩隊濟臺檔織匯針裝層鉆額儲詢歡構職適萬樣識較觀"
    "嚴誠兌飲鋪斷監讓線該長爭團庫盡順視幫郵簡賽遺義極碼約續張階際廂樂溝減許獨轉競離雙"
    "訴輛講獲豐類納饋僅環陽贈論擇緊險載熱眾紀異稱幾創誼書談漢學習貸響試揮啟驗絡屬賣顯"
    "隨詳擺慮冊蛻贏評醫親買審鍵舉擴緩脈勢補紹勝蹤終堅執頁貢獻違盤聽畢綜愛腦賬東館黨觸"
    "邏訊隱淚蓮閑詞語戰軍尋頭絕鮮徑縣難訓繞態圖復儀氣潔礎雖壓術凈閱編師溫龍幣讀娛盜廢"
    "誤慣連贊嗎養閘榮遞潛奪績檻憑懷謝暢踐糾擁靈橫紅駛勵竊搶鄉鐘紙煙轄暫廠歸篩狀華債惡"
    "丟繼損鈔藥掃輸飾顒測輕頓馬禪闡喪蘊棄閉園頂彌舊紛驚謊龐齡趨輝韌鑰譯譜礦傘灣遠風歷"
    "億徹諾繳頌脩雜綠樹鐵亞誰廚趙燈涼純齊傾敗蘇峽驟鞏潤寬釋駐聞貿療藝繪畫興戲駕黃縮掛"
    "飯鍛煉鋒緒檸貼絆頻鉀賀顏蓋臨討辭藹錢倉寶歲兒罰獎覺滌輔聲輯擔刪薦頗鎮廈"
)


def load(name: str) -> dict:
    with (REF / f"{name}.yaml").open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    assert isinstance(data, dict), f"{name}.yaml must be a mapping"
    return data


def zh_fields(node, path=""):
    """Yield (path, value) for every key ending in _zh, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if str(key).endswith("_zh"):
                yield here, value
            else:
                yield from zh_fields(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from zh_fields(value, f"{path}[{i}]")


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@pytest.fixture(scope="module")
def scorecards() -> dict:
    return {s["code"]: s for s in load("scorecards")["scorecards"]}


@pytest.fixture(scope="module")
def reception() -> dict:
    return load("reception")


@pytest.fixture(scope="module")
def templates() -> dict:
    return load("templates")


@pytest.fixture(scope="module")
def discipline() -> list:
    return load("discipline")["rules"]


# ------------------------------------------------------------------ all files


@pytest.mark.parametrize("name", ["scorecards", "reception", "templates", "discipline"])
def test_chinese_fields_are_simplified_and_filled(name):
    fields = list(zh_fields(load(name)))
    assert fields, f"{name}.yaml has no *_zh field"
    for path, value in fields:
        assert isinstance(value, str) and value.strip(), f"{name}: {path} is empty"
        assert CJK.search(value), f"{name}: {path} has no Chinese text: {value!r}"
        bad = sorted(set(value) & TRADITIONAL_ONLY)
        assert not bad, f"{name}: {path} has Traditional characters {bad}: {value}"
        ascii_punct = sorted(set(value) & set(",;()"))
        assert not ascii_punct, f"{name}: {path} mixes ASCII punctuation {ascii_punct} into Chinese: {value}"


def test_blacklist_does_not_hold_simplified_characters():
    # characters that are the same in both scripts must never be flagged
    assert not set("警卫开会保安部经理检查接待前厅楼") & TRADITIONAL_ONLY


# ------------------------------------------------------------------ scorecards

SPEC_WEIGHTS = {
    "maintenance": {
        "opening": 15,
        "relationship_rights": 30,
        "problem_handling": 25,
        "closing": 15,
        "attitude": 15,
    },
    "ob": {
        "opening": 15,
        "needs_discovery": 20,
        "offer_accuracy": 25,
        "consent_compliance": 20,
        "closing": 10,
        "attitude": 10,
    },
}
SPEC_ITEM_COUNTS = {
    "maintenance": {
        "opening": 3,
        "relationship_rights": 4,
        "problem_handling": 3,
        "closing": 3,
        "attitude": 2,
    },
    "ob": {
        "opening": 3,
        "needs_discovery": 3,
        "offer_accuracy": 3,
        "consent_compliance": 3,
        "closing": 2,
        "attitude": 2,
    },
}


def test_two_default_scorecards(scorecards):
    assert set(scorecards) == {"maintenance", "ob"}
    for code, card in scorecards.items():
        assert card["stream"] == code
        assert card["version"] == 1
        assert card["pass_mark"] == 80
        assert card["name_en"] and card["name_zh"]


@pytest.mark.parametrize("code", ["maintenance", "ob"])
def test_sections_match_spec_and_weights_sum_to_100(scorecards, code):
    sections = scorecards[code]["sections"]
    weights = {s["code"]: s["weight"] for s in sections}
    assert [s["code"] for s in sections] == list(SPEC_WEIGHTS[code]), "section order"
    assert weights == SPEC_WEIGHTS[code]
    assert sum(weights.values()) == 100
    assert {s["code"]: len(s["items"]) for s in sections} == SPEC_ITEM_COUNTS[code]


@pytest.mark.parametrize("code", ["maintenance", "ob"])
def test_items_are_well_formed(scorecards, code):
    card = scorecards[code]
    item_codes = []
    kinds = set()
    for section in card["sections"]:
        assert SNAKE.match(section["code"]), section["code"]
        assert is_int(section["weight"]) and section["weight"] > 0
        assert section["items"], f"section {section['code']} has no items"
        assert any(not i["na_allowed"] for i in section["items"]), (
            f"every item of {section['code']} may be N/A: the section could never be scored"
        )
        for item in section["items"]:
            assert SNAKE.match(item["code"]), item["code"]
            assert item["kind"] in {"yes_no", "scale"}, item
            assert is_int(item["max_points"]) and item["max_points"] >= 1, item
            assert isinstance(item["na_allowed"], bool), item
            for key in ("text_en", "text_zh", "guidance_en", "guidance_zh"):
                assert isinstance(item[key], str) and item[key].strip(), (item["code"], key)
            kinds.add(item["kind"])
            item_codes.append(item["code"])
    assert len(item_codes) == len(set(item_codes)), "item codes must be unique within a scorecard"
    assert kinds == {"yes_no", "scale"}, "a mix of yes/no and scale items"


def test_na_allowed_where_it_makes_sense(scorecards):
    na = {
        code: {i["code"] for s in card["sections"] for i in s["items"] if i["na_allowed"]}
        for code, card in scorecards.items()
    }
    assert {
        "objections_retention_playbook",
        "escalate_beyond_authority",
        "respect_opt_outs",
    } <= na["maintenance"]
    # identity verification is never optional
    assert "verify_identity" not in na["maintenance"]


def test_sourced_items_keep_their_line_references(scorecards):
    sources = {i["code"]: i.get("source") for s in scorecards["maintenance"]["sections"] for i in s["items"]}
    assert sources["collect_profile_data"] == "001 L284"
    assert sources["objections_retention_playbook"] == "001 L224"
    assert sources["care_closing_line"] == "001 L278"


@pytest.mark.parametrize(
    ("code", "count", "benefit_section"),
    [("maintenance", 3, "problem_handling"), ("ob", 4, "offer_accuracy")],
)
def test_violations(scorecards, code, count, benefit_section):
    card = scorecards[code]
    section_codes = {s["code"] for s in card["sections"]}
    violations = {v["code"]: v for v in card["violations"]}
    assert len(card["violations"]) == count == len(violations)
    for v in violations.values():
        assert v["rule"] in {"fail_all", "fail_section"}, v
        assert v["text_en"].strip() and v["text_zh"].strip()
        if v["rule"] == "fail_section":
            assert v["section"] in section_codes, f"{v['code']} zeroes an unknown section"
        else:
            assert v["section"] is None, v
    assert violations["disclosed_unverified"]["rule"] == "fail_all"
    assert violations["abusive_language"]["rule"] == "fail_all"
    assert violations["unauthorised_benefit"]["rule"] == "fail_section"
    assert violations["unauthorised_benefit"]["section"] == benefit_section
    if code == "ob":
        assert violations["enrolled_without_consent"]["rule"] == "fail_all"


# ------------------------------------------------------------------ reception


def test_departments(reception):
    codes = [d["code"] for d in reception["departments"]]
    assert sorted(codes) == sorted(DEPARTMENTS)
    assert len(codes) == len(set(codes))
    for d in reception["departments"]:
        assert d["name_en"].strip() and d["name_zh"].strip()


def test_three_levels_with_consistent_staffing(reception):
    levels = reception["levels"]
    assert [lv["level"] for lv in levels] == [1, 2, 3]
    for lv in levels:
        posts = lv["posts"]
        assert len(posts) == lv["post_count"], f"level {lv['level']}"
        assert [p["number"] for p in posts] == list(range(1, len(posts) + 1))
        for p in posts:
            for key in ("location_en", "location_zh", "duty_en", "duty_zh"):
                assert p[key].strip(), (lv["level"], p["number"], key)
        if lv["on_duty"] is not None and lv["shift_groups"] is not None:
            assert lv["on_duty"] == lv["shift_groups"] * lv["post_count"], f"level {lv['level']}"
        assert isinstance(lv["cordon_zone"], bool)
        assert lv["applies_to_en"].strip() and lv["applies_to_zh"].strip()
        assert lv["source"].startswith("000 L")


def test_level_defaults_match_spec(reception):
    by_level = {lv["level"]: lv for lv in reception["levels"]}
    fields = ("reinforcements", "on_duty", "shift_groups", "rotation_hours", "post_count", "cordon_zone")
    assert tuple(by_level[1][f] for f in fields) == (10, 15, 3, 4, 5, False)
    assert tuple(by_level[2][f] for f in fields) == (8, 12, 3, 4, 4, False)
    assert tuple(by_level[3][f] for f in fields) == (None, None, None, None, 0, True)
    assert "commercial" in by_level[3]["applies_to_en"].lower()
    assert "商业" in by_level[3]["applies_to_zh"]
    # the last post of L1 and L2 is the patrol command
    assert by_level[1]["posts"][-1]["location_zh"] == "巡逻指挥"
    assert by_level[2]["posts"][-1]["location_zh"] == "巡逻指挥"


# ------------------------------------------------------------------ templates

EXPECTED_COUNTS = {"T1": 26, "T2": 50, "T3": 23, "T4": 19}


def items_of(templates: dict, code: str) -> list:
    return next(t for t in templates["templates"] if t["code"] == code)["items"]


def test_template_headers(templates):
    assert templates["phase_default_offsets_note"].strip()
    codes = [t["code"] for t in templates["templates"]]
    assert codes == list(EXPECTED_COUNTS)
    for t in templates["templates"]:
        assert t["version"] == 1
        assert t["owner_department"] in DEPARTMENTS
        assert t["name_en"].strip() and t["name_zh"].strip()
        assert re.match(r"^00[02] L\d+", t["source"]), t["source"]


@pytest.mark.parametrize(("code", "count"), list(EXPECTED_COUNTS.items()))
def test_template_items(templates, code, count):
    items = items_of(templates, code)
    assert len(items) == count
    assert [i["seq"] for i in items] == list(range(1, count + 1)), "seq contiguous from 1"
    phases = [i["phase"] for i in items]
    assert phases == sorted(phases), "phases appear in order"
    phase_names = {}
    for item in items:
        where = f"{code} #{item['seq']}"
        assert item["department"] in DEPARTMENTS, where
        assert item["timing"] in TIMINGS, where
        if item["timing"] == "offset":
            assert item["anchor"] in ANCHORS, where
            assert is_int(item["offset_minutes"]), where
        else:
            assert item["anchor"] is None and item["offset_minutes"] is None, where
        for flag in ("required", "critical", "evidence_required"):
            assert isinstance(item[flag], bool), (where, flag)
        if item["critical"]:
            assert item["required"], f"{where} is critical but not required"
        if item["timing"] == "optional":
            assert not item["required"], f"{where} is optional but required"
        for key in ("text_en", "text_zh", "phase_en", "phase_zh"):
            assert isinstance(item[key], str) and item[key].strip(), (where, key)
        assert re.match(r"^00[02] L\d+", item["source"]), where
        # one name per phase letter
        assert phase_names.setdefault(item["phase"], item["phase_en"]) == item["phase_en"], where
        if code == "T1":
            assert item["levels"], where
            assert set(item["levels"]) <= {1, 2, 3}, where
        else:
            assert "levels" not in item, where
    assert any(i["critical"] for i in items), f"{code} has no critical item"


def test_t1_levels_follow_the_source(templates):
    levels = {i["seq"]: i["levels"] for i in items_of(templates, "T1")}
    assert levels[12] == [1, 2]  # reinforcements: 10 for L1, 8 for L2, none for L3
    assert levels[22] == [1, 2] and levels[23] == [1, 2]  # zone control and visitor registration
    assert levels[24] == [3]  # the cordon zone replaces posts at L3
    assert levels[26] == [1, 2]  # patrol command post exists at L1 and L2
    assert levels[1] == [1, 2, 3]


def test_t1_safety_items_are_critical_with_evidence(templates):
    t1 = {i["seq"]: i for i in items_of(templates, "T1")}
    for seq in (14, 15, 18):  # fire & safety inspection, alarm/CCTV test, pre-inspection
        assert t1[seq]["critical"] and t1[seq]["evidence_required"], seq
    for seq in (20, 22, 23, 24):  # posts, access control, visitor registration, cordon
        assert t1[seq]["critical"], seq
    assert t1[23]["evidence_required"]  # the visitor register


def test_timing_choices(templates):
    t2 = {i["seq"]: i for i in items_of(templates, "T2")}
    t3 = {i["seq"]: i for i in items_of(templates, "T3")}
    t4 = {i["seq"]: i for i in items_of(templates, "T4")}
    assert (t3[5]["anchor"], t3[5]["offset_minutes"]) == ("arrival", -30)  # overtime staff 30 min early
    assert t3[6]["offset_minutes"] == -1440  # the day before
    assert t3[7]["offset_minutes"] == -720  # the evening before
    assert t2[18]["offset_minutes"] == 0  # greeting on arrival
    assert t2[43]["timing"] == "optional"  # sightseeing
    assert all(t2[s]["anchor"] == "departure" for s in range(44, 51))  # send-off and follow-up
    assert t2[48]["offset_minutes"] > 0 and t2[50]["offset_minutes"] > 0
    assert t2[6]["critical"] and t2[11]["critical"]  # vehicle check, police escort
    assert t3[4]["critical"]  # kitchen told of special preferences
    assert t4[10]["critical"] and t4[10]["evidence_required"]  # 100 % ID scanning
    assert t4[11]["critical"] and t4[11]["evidence_required"]  # second inspection
    # every template's offset items run from before arrival to after departure, never upside down
    for code in EXPECTED_COUNTS:
        for item in items_of(templates, code):
            if item["anchor"] == "arrival":
                assert item["offset_minutes"] <= 30, (code, item["seq"])


# ------------------------------------------------------------------ discipline


def test_discipline_rules(discipline):
    codes = [r["code"] for r in discipline]
    assert len(discipline) == 28
    assert len(codes) == len(set(codes)), "codes unique"
    expected = [f"D{n:02d}" for n in range(1, 10)] + ["M01"] + [f"A{n:02d}" for n in range(1, 19)]
    assert codes == expected
    points = {r["code"]: r["points"] for r in discipline}
    for code in ("D01", "D02", "D03", "D04", "D05", "D06", "M01"):
        assert points[code] == 1, code
    for code in ["D07", "D08", "D09"] + [f"A{n:02d}" for n in range(1, 19)]:
        assert points[code] == 0, code
    for r in discipline:
        assert is_int(r["points"]) and r["points"] >= 0
        assert r["category"] and SNAKE.match(r["category"]), r["code"]
        assert r["text_en"].strip() and r["text_zh"].strip(), r["code"]
        assert re.match(r"^001 L\d+$", r["source"]), r["code"]
    a16 = next(r for r in discipline if r["code"] == "A16")
    assert "list price" in a16["text_en"] and "照价赔偿" in a16["text_zh"]
