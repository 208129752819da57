"""Long, story-like messages: the question sentence is read on its own as well as the whole."""

from __future__ import annotations

from nlu.reading import combine, is_question, parts, rank_messages

STORY = (
    "Mẹ em năm nay 70 tuổi, ở quê một mình. Hôm qua có người gọi xưng là công an xã. "
    "Họ bảo mẹ em cài một ứng dụng qua đường link. Em phải làm sao để mẹ không bị lừa?"
)


def test_a_short_message_is_read_whole_only() -> None:
    assert parts("vneid mức 2 đăng ký ở đâu?") == []
    assert parts("bác em hỏi cài vneid thế nào. em chỉ không được. làm sao ạ") == []  # under 15 words


def test_a_story_yields_its_question_sentence() -> None:
    assert parts(STORY) == ["Em phải làm sao để mẹ không bị lừa?"]


def test_without_a_question_mark_question_words_pick_the_sentence() -> None:
    story = (
        "Con gái tôi đi làm ở Bình Dương đã ba năm nay rồi. Cháu gửi tiền về cho tôi qua tài khoản ngân hàng. "
        "Giờ tôi muốn nộp tiền học cho thằng út thì làm thế nào"
    )
    assert parts(story) == ["Giờ tôi muốn nộp tiền học cho thằng út thì làm thế nào"]
    assert is_question("lam sao de dang ky") and not is_question("Tôi ở quê một mình.")


def test_nothing_to_split_means_nothing_extra() -> None:
    unpunctuated = "me em nam nay 70 tuoi o que mot minh hom qua co nguoi goi xung cong an bao cai ung dung thi sao"
    assert parts(unpunctuated) == []
    every_sentence_asks = "Cài VNeID ở đâu vậy các bạn ơi? Mức 2 thì làm thế nào? Có mất phí gì không ạ?"
    assert parts(every_sentence_asks + " Có cần mang theo căn cước không?") == []


def test_a_surer_consistent_sentence_is_averaged_in() -> None:
    whole = [("tmdt_dang_san_pham", 0.5), ("tmdt_mo_gian_hang", 0.3), ("out_of_scope", 0.2)]
    question = [("tmdt_mo_gian_hang", 0.9), ("tmdt_dang_san_pham", 0.1)]
    combined = combine(whole, [question])
    assert combined[0] == ("tmdt_mo_gian_hang", 0.6)
    assert dict(combined)["tmdt_dang_san_pham"] == 0.3 and dict(combined)["out_of_scope"] == 0.1
    assert abs(sum(score for _, score in combined) - 1.0) < 1e-9


def test_a_stray_or_less_sure_sentence_changes_nothing() -> None:
    whole = [("dvc_cong_quoc_gia", 0.7), ("dvc_dang_nhap", 0.2), ("out_of_scope", 0.1)]
    stray = [("tro_ly_cam_on", 0.99)]  # "Cảm ơn nhé." is not among the whole's readings
    unsure = [("dvc_dang_nhap", 0.6)]  # consistent, but less sure than the whole
    refusal = [("out_of_scope", 0.95)]
    assert combine(whole, [stray, unsure, refusal]) == whole
    assert combine(whole, []) == whole and combine([], [stray]) == []


def test_rank_messages_batches_whole_messages_and_their_questions() -> None:
    seen: list[list[str]] = []

    def rank(texts: list[str]) -> list[list[tuple[str, float]]]:
        seen.append(texts)
        return [
            [("attt_gia_danh_cong_an", 0.9 if "lừa" in text and len(text) < 60 else 0.4), ("out_of_scope", 0.1)]
            for text in texts
        ]

    rankings = rank_messages(["vneid là gì", STORY], rank)
    assert len(seen) == 2 and len(seen[0]) == 2 and len(seen[1]) == 1  # wholes, then the one question sentence
    assert rankings[0][0] == ("attt_gia_danh_cong_an", 0.4)
    assert rankings[1][0] == ("attt_gia_danh_cong_an", 0.65)  # the whole (0.4) averaged with its question (0.9)
