"""Every sentence of the learning loop: the curation inbox, retraining and model versions (HTML)."""

from __future__ import annotations

NOT_CURATOR = "Chức năng này dành cho người biên tập nội dung của trợ lý."
PRIVATE_ONLY = "Bạn dùng lệnh này trong tin nhắn riêng với trợ lý."

# --- curators ---------------------------------------------------------------------------------
CURATOR_GRANT_USAGE = "Cách dùng: <code>/capbientap ID_người_dùng</code>"
CURATOR_REVOKE_USAGE = "Cách dùng: <code>/thuhoibientap ID_người_dùng</code>"
CURATOR_GRANTED = "✅ Đã cấp quyền biên tập cho <code>{user_id}</code> (dùng /hopthu, /huanluyen, /phienban)."
CURATOR_REVOKED = "Đã thu hồi quyền biên tập của <code>{user_id}</code>."
CURATOR_NONE = "<code>{user_id}</code> không có quyền biên tập."
CURATORS_LIST = "<b>Người biên tập</b>\n{lines}"
CURATORS_EMPTY = "Chưa cấp quyền biên tập cho ai (quản trị viên cấp cao luôn biên tập được)."

# --- the inbox --------------------------------------------------------------------------------
INBOX_EMPTY = "📭 Hộp thư trống: không còn câu hỏi nào chờ xử lý."
INBOX_GROUP = (
    "📥 <b>Hộp thư</b> · còn {open} nhóm\n"
    "<b>Nhóm #{group}</b>: {count} câu, mới nhất {newest}\n"
    "{samples}\n"
    "{hints}"
    "\nChọn chủ đề đúng cho cả nhóm, hoặc bỏ qua / xóa."
)
INBOX_SAMPLE = "• <i>{text}</i>"
INBOX_HINTS = "<b>Gợi ý từ thành viên / người hỗ trợ:</b> {labels}\n"
INBOX_RESOLVED = "✅ Đã gán {count} câu cho «{label}». Gõ /huanluyen để trợ lý học ngay."
INBOX_SKIPPED = "Đã bỏ qua nhóm #{group}."
INBOX_DELETED = "🗑 Đã xóa nhóm #{group}."
INBOX_GONE = "Nhóm này đã được xử lý rồi."
OUT_OF_SCOPE_LABEL = "Ngoài phạm vi"
BUTTON_GUESS = "⭐ {title}"
BUTTON_OTHER_TOPIC = "📂 Chủ đề khác…"
BUTTON_OUT_OF_SCOPE = "🚫 Ngoài phạm vi"
BUTTON_SKIP = "⏭ Bỏ qua"
BUTTON_DELETE = "🗑 Xóa"
BUTTON_BACK = "⬅️ Quay lại"

# --- retraining ---------------------------------------------------------------------------------
TRAINING_STARTED = (
    "🧠 Bắt đầu huấn luyện mô hình mới ({examples} câu biên tập mới). Trợ lý vẫn trả lời bình thường trong lúc này."
)
TRAINING_BUSY = "Đang có một lần huấn luyện chạy; mình sẽ báo khi xong."
TRAINING_UNCHANGED = "Không có gì mới để học: mô hình đang dùng đã gồm mọi câu đã biên tập."
TRAINING_FAILED = "😥 Huấn luyện không thành công: {reason}"
TRAINING_PUBLISHED = (
    "✅ <b>Đã đưa mô hình mới vào dùng</b> ({name})\n"
    "{figures}\n"
    "⏱ Huấn luyện {train} s · đánh giá {evaluate} s · thay mô hình {swap} s"
)
TRAINING_HELD_BACK = (
    "⛔ <b>Giữ lại mô hình cũ</b>: mô hình mới ({name}) kém hơn quá mức cho phép.\nLý do: {reason}\n{figures}"
)
PUBLISH_FAILED = "😥 Không thay được mô hình ({reason}); mô hình cũ vẫn đang trả lời."
FIGURES = (
    "<b>Câu hỏi kiểm tra</b> ({questions} câu): đúng {before_correct}% → <b>{after_correct}%</b>, "
    "sai {before_wrong}% → <b>{after_wrong}%</b>\n"
    "<b>Câu đã biên tập</b> (để riêng khi kiểm tra): {curated}"
)
FIGURES_CURATED = "đúng {before}% → <b>{after}%</b>"
FIGURES_NO_CURATED = "chưa có"

# --- versions ------------------------------------------------------------------------------------
VERSIONS = "🗂 <b>Các phiên bản mô hình</b> (mới nhất trước)\n{lines}"
VERSION_LINE = "{mark} <b>#{id}</b> {name} · {when} · {status}{figures}"
VERSION_FIGURES = " · đúng {correct}%, sai {wrong}%"
VERSION_CURRENT = "▶️"
VERSION_OTHER = "•"
VERSION_STATUS = {
    "published": "đã dùng",
    "candidate": "chờ đưa vào dùng",
    "held_back": "bị giữ lại",
    "failed": "lỗi",
}
VERSIONS_EMPTY = "Chưa có phiên bản nào được ghi lại (mô hình từ lúc cài đặt đang dùng)."
BUTTON_ROLLBACK = "↩️ Dùng lại #{id}"
ROLLBACK_STARTED = "↩️ Đang đưa phiên bản #{id} trở lại…"
ROLLBACK_DONE = "✅ Đã dùng lại phiên bản #{id} ({name}); thay mô hình mất {swap} s."
ROLLBACK_NOT_POSSIBLE = "Không dùng lại được phiên bản này (thiếu tệp mô hình hoặc đang dùng rồi)."

COMMANDS_CURATOR = [
    ("hopthu", "Hộp thư câu hỏi chưa trả lời được"),
    ("huanluyen", "Huấn luyện lại trợ lý"),
    ("phienban", "Các phiên bản mô hình, dùng lại bản cũ"),
]
COMMANDS_ADMIN = [("capbientap", "Cấp quyền biên tập"), ("thuhoibientap", "Thu hồi quyền biên tập")]
