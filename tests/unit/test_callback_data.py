"""Callback data: every action round-trips; anything forged, overlong or out of range parses to None."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import callback_data as cd
from storage.numbers import INT32_MAX, INT64_MAX, announcement_id, parse_int, record_id

EXAMPLES: list[cd.Action] = [
    cd.MainMenu(),
    cd.DomainMenu("dvc"),
    cd.MenuTopic("vneid_muc_2"),
    cd.RelatedTopic("attt_bi_lua"),
    cd.Feedback(INT64_MAX, True),
    cd.Feedback(1, False),
    cd.ClarifyChoice(123456789012345678, "dvc_cu_tru"),
    cd.Handoff(42),
    cd.ProvinceMenu(),
    cd.SetProvince("ho_chi_minh"),
    cd.RemoveLabel(0),
    cd.ClearCommune(),
    cd.GroupPage(3),
    cd.AudienceAll(),
    cd.AudienceTag(39),
    cd.AudienceDone(),
    cd.TogglePin(),
    cd.ToggleAck(),
    cd.Acknowledge(2_147_483_647),
    cd.AckRemind(12),
    cd.ToggleSilent(),
    cd.SendNow(),
    cd.SendLater(),
    cd.ConfirmSend(),
    cd.CancelCompose(),
    cd.ReportCsv(INT32_MAX),
    cd.CancelScheduled(7),
    cd.TicketMain(1),
    cd.TicketTopics(INT32_MAX),
    cd.TicketDomain(12, "an_toan_thong_tin_mang"),
    cd.TicketAnswer(INT32_MAX, "attt_gia_danh_cong_an_x_y_z_1234567890"),
    cd.TicketOutOfScope(3),
    cd.TicketClose(4),
    cd.TicketRate(5, True),
    cd.MemberProvince("ho_chi_minh"),
    cd.InboxPick(INT32_MAX, "out_of_scope"),
    cd.InboxDomains(1),
    cd.InboxDomain(2, "an_toan_thong_tin_mang"),
    cd.InboxSkip(3),
    cd.InboxDelete(4),
    cd.InboxBack(5),
    cd.Rollback(6),
]


def test_every_action_type_has_an_example() -> None:
    assert {type(a) for a in EXAMPLES} == set(cd._BY_PREFIX.values())


@pytest.mark.parametrize("action", EXAMPLES, ids=lambda a: type(a).__name__)
def test_round_trip_within_telegram_limit(action: cd.Action) -> None:
    data = cd.encode(action)
    assert len(data.encode()) <= cd.MAX_BYTES
    assert cd.parse(data) == action
    assert cd.matching(type(action))(data)
    others = [type(a) for a in EXAMPLES if type(a) is not type(action)]
    assert not cd.matching(*others)(data)


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "zzz",
        "m:",
        "d:../../etc",
        "d:DVC",
        "f:12:2",
        f"f:{INT64_MAX + 1}:1",  # overflows a signed 64-bit column
        "f:99999999999999999999999:1",
        "f:0:1",
        "f:-5:1",
        "f:²:1",
        "f:١٢:1",  # Arabic-Indic digits are digits to str.isdigit, not to us
        f"rc:{INT32_MAX + 1}",  # announcement ids are 32-bit on PostgreSQL
        "x:1:2",
        "bt:100",
        "gl:0",
        "b:all",  # the old compose scheme
        "g:p:ha_noi",
        "x" * 65,
    ],
)
def test_forged_data_is_refused(data: object) -> None:
    assert cd.parse(data) is None


@given(st.text(max_size=80))
def test_parse_never_raises(data: str) -> None:
    parsed = cd.parse(data)
    if parsed is not None:
        assert cd.parse(cd.encode(parsed)) == parsed


def test_encoding_refuses_what_telegram_would() -> None:
    with pytest.raises(ValueError):
        cd.encode(cd.DomainMenu("d" * 70))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        (" 7 ", 7),
        ("0", None),
        ("²", None),
        ("1e5", None),
        ("", None),
        (None, None),
        (str(INT32_MAX + 1), None),
    ],
)
def test_announcement_ids_from_commands(text: str | None, expected: int | None) -> None:
    assert announcement_id(text) == expected


def test_number_ranges() -> None:
    assert record_id(str(INT64_MAX)) == INT64_MAX and record_id(str(INT64_MAX + 1)) is None
    assert parse_int("-3", low=-5, high=5) == -3 and parse_int("9" * 30, low=0, high=10**40) is None
