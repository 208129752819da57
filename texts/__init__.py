"""Every user-facing sentence of the assistant, in one place (Vietnamese, Telegram HTML)."""

from __future__ import annotations

CLARIFY_HEADER = "🤔 <b>Ý bạn là…</b>"
CLARIFY_FOOTER = "Bạn chọn một chủ đề bên dưới, hoặc hỏi lại rõ hơn nhé."
UNKNOWN = (
    "😔 Xin lỗi, mình <b>chưa có thông tin</b> để trả lời câu này.\n\n"
    "Bạn có thể xem các chủ đề mình trả lời được trong /menu, hoặc hỏi lại theo cách khác."
)
EMPTY_QUESTION = "Bạn gõ câu hỏi bằng chữ giúp mình nhé, ví dụ: <i>đăng ký VNeID mức 2 ở đâu</i>."
TRUNCATED_NOTICE = "✂️ Câu hỏi dài quá nên mình chỉ đọc phần đầu ({limit} ký tự)."
LINKS_HEADER = "🔗 <b>Xem thêm:</b>"
CONSOLE_WELCOME = (
    "Trợ lý Tổ Công nghệ số cộng đồng (chế độ dòng lệnh).\nGõ câu hỏi rồi nhấn Enter; gõ 'thoat' hoặc Ctrl+D để thoát."
)
CONSOLE_CHOICE = "Chọn số (1–{count}) để xem câu trả lời, hoặc gõ câu hỏi mới."
CONSOLE_BYE = "Tạm biệt!"
NO_TOKEN = (
    "TELEGRAM_BOT_TOKEN chưa được đặt, nên trợ lý chạy ở chế độ dòng lệnh.\n"
    "Để chạy trên Telegram: tạo bot với @BotFather, rồi đặt TELEGRAM_BOT_TOKEN=<token> "
    "trong môi trường hoặc trong tệp .env, và chạy lại 'make run'."
)

# --- Telegram ---------------------------------------------------------------------------
GREETING = (
    "Xin chào {name}! 👋 Mình là <b>Trợ lý Tổ Công nghệ số cộng đồng</b>.\n\n"
    "Bạn cứ gõ câu hỏi, có dấu hay không dấu đều được, ví dụ:\n"
    "• <i>kích hoạt VNeID mức 2 ở đâu</i>\n"
    "• <i>bác em muốn bán chè lên Postmart thì làm sao</i>\n\n"
    "Hoặc chọn một chủ đề bên dưới 👇"
)
HELP = (
    "<b>Mình giúp được gì?</b>\n"
    "Trả lời ngắn gọn về: học kỹ năng số (OneTouch, Bình dân học vụ số), Tổ CNSCĐ, "
    "mua bán và thanh toán trực tuyến, dịch vụ công và VNeID, an toàn trên mạng.\n\n"
    "<b>Cách hỏi</b>\n"
    "• Nhắn riêng: gõ câu hỏi bình thường, không dấu cũng được.\n"
    "• Trong nhóm: nhắc tên mình (@{username} câu hỏi), trả lời (reply) tin nhắn của mình, "
    "hoặc gõ <code>/hoi câu hỏi</code>.\n"
    "• Ở bất kỳ cuộc trò chuyện nào: gõ <code>@{username} câu hỏi</code> để chọn và dán sẵn câu trả lời.\n\n"
    "/menu: xem các chủ đề · /help: hướng dẫn này\n"
    "Câu nào mình chưa biết, mình sẽ nói là chưa biết.{human}"
)
HELP_HUMAN = "\nGửi câu hỏi cho người hỗ trợ: <code>/hotro câu hỏi</code> · chọn tỉnh của bạn: /tinh"
MENU_TITLE = "📋 <b>Chọn chủ đề bạn cần:</b>"
DOMAIN_TITLE = "📂 <b>{title}</b>\nChọn câu hỏi:"
BUTTON_BACK = "⬅️ Quay lại"
BUTTON_MENU = "🏠 Menu"
BUTTON_HELPFUL = "👍 Hữu ích"
BUTTON_NOT_HELPFUL = "👎 Chưa đúng"
BUTTON_RELATED = "📌 {title}"
BUTTON_HANDOFF = "🙋 Gửi câu hỏi cho người hỗ trợ"
FEEDBACK_THANKS = "Cảm ơn bạn đã đánh giá! 🙏"
FEEDBACK_NOT_YOURS = "Chỉ người đặt câu hỏi mới đánh giá được câu trả lời này."
MENU_EXPIRED = "Menu này đã cũ hoặc không còn dùng được. Gõ /menu để mở lại nhé."
RATE_LIMITED = "⏳ Bạn gửi hơi nhanh, mình chưa kịp trả lời. Bạn chờ vài giây rồi hỏi tiếp nhé."
NON_TEXT_HINT = "Mình chỉ đọc được chữ. Bạn gõ câu hỏi bằng chữ nhé, ví dụ: <i>quên mật khẩu VNeID</i>."
UNKNOWN_COMMAND = "Mình không biết lệnh này. Gõ /help để xem cách dùng, hoặc /menu để xem chủ đề."
HOI_USAGE = "Bạn gõ câu hỏi ngay sau lệnh nhé, ví dụ: <code>/hoi đăng ký VNeID mức 2 ở đâu</code>."
MENU_IN_PRIVATE = "Menu chủ đề dùng trong tin nhắn riêng với mình: bấm vào tên mình rồi chọn «Nhắn tin»."
ERROR = "😥 Xin lỗi, mình gặp trục trặc khi trả lời. Bạn thử lại sau ít phút nhé."
INLINE_ASK_PRIVATELY = "Hỏi trợ lý trong tin nhắn riêng"
COMMANDS_PRIVATE = [
    ("start", "Bắt đầu và mở menu chủ đề"),
    ("menu", "Xem các chủ đề"),
    ("help", "Cách hỏi trợ lý"),
]
COMMANDS_GROUP = [
    ("hoi", "Hỏi trợ lý: /hoi câu hỏi"),
    ("help", "Cách hỏi trợ lý trong nhóm"),
]

# --- groups, roles, broadcasts ---------------------------------------------------------------
NOT_ALLOWED = "Xin lỗi, bạn không có quyền dùng chức năng này."
TAG_ADMINS_ONLY = "Chỉ quản trị viên của nhóm mới gắn thẻ cho nhóm được."
TAG_GROUP_ONLY = "Lệnh này dùng trong nhóm của Tổ: gõ /gan_the trong nhóm."
TAG_SUMMARY = (
    "🏷 <b>Thẻ của nhóm {title}</b>\n"
    "Tỉnh/thành: {province}\nXã/phường: {commune}\nNhãn: {labels}\n\n"
    "Chọn tỉnh/thành bằng nút bên dưới.\n"
    "Gắn xã/phường: <code>/gan_the xa Tên xã</code>\n"
    "Thêm nhãn: <code>/gan_the nhan Tên nhãn</code> · bấm ❌ để bỏ nhãn"
)
TAG_NONE = "chưa có"
TAG_CHOOSE_PROVINCE = "Chọn tỉnh/thành phố của nhóm:"
TAG_SAVED = "Đã lưu thẻ."
BUTTON_CHOOSE_PROVINCE = "📍 Chọn tỉnh/thành"
BUTTON_CLEAR_COMMUNE = "❌ Bỏ xã/phường"
BUTTON_REMOVE_LABEL = "❌ {label}"
GROUP_LIST_HEADER = "👥 <b>{count} nhóm</b>{query} — trang {page}/{pages}"
GROUP_LINE = "{mark} <b>{title}</b> · {tags} · <code>{chat_id}</code>"
GROUP_LIST_EMPTY = "Không tìm thấy nhóm nào."
BUTTON_PREVIOUS = "◀️ Trước"
BUTTON_NEXT = "Sau ▶️"
GRANT_USAGE = (
    "Cách dùng: <code>/capquyen ID_người_dùng [tinh:ha_noi] [xa:Tên xã] [nhan:Tên nhãn]</code>\n"
    "Không ghi thẻ: gửi được tới mọi nhóm. Mã tỉnh: {provinces}"
)
GRANT_DONE = "✅ Đã cấp quyền gửi thông báo cho <code>{user_id}</code>, phạm vi: {scope}."
REVOKE_USAGE = "Cách dùng: <code>/thuhoi ID_người_dùng</code>"
REVOKE_DONE = "Đã thu hồi quyền gửi thông báo của <code>{user_id}</code>."
REVOKE_NONE = "<code>{user_id}</code> không có quyền gửi thông báo."
ROLES_LIST = "<b>Người được gửi thông báo</b>\n{lines}"
ROLES_EMPTY = "Chưa cấp quyền gửi thông báo cho ai."
SCOPE_ALL = "tất cả các nhóm"
COMPOSE_START = (
    "📣 <b>Soạn thông báo gửi các nhóm</b>\n"
    "Gửi nội dung: một tin nhắn chữ (có thể in đậm, nghiêng, chèn link), "
    "hoặc một ảnh / tệp kèm chú thích.\nGõ /huy để hủy."
)
COMPOSE_TOO_LONG = "Nội dung dài {length} ký tự, quá giới hạn {limit} ký tự của Telegram. Bạn rút gọn rồi gửi lại nhé."
COMPOSE_WRONG_CONTENT = "Mình chỉ nhận chữ, ảnh hoặc tệp. Bạn gửi lại nội dung nhé, hoặc /huy để hủy."
COMPOSE_AUDIENCE = "👥 <b>Gửi tới đâu?</b>\nĐang chọn: {chosen} — <b>{count} nhóm</b>."
COMPOSE_NO_GROUPS = "Không có nhóm nào trong phạm vi của bạn. Thông báo chưa được tạo."
BUTTON_ALL_GROUPS = "Tất cả nhóm của tôi ({count})"
BUTTON_CONTINUE = "Tiếp tục ▶️ ({count} nhóm)"
COMPOSE_OPTIONS = "⚙️ <b>Tùy chọn</b>\nGhim tin: {pin} · Gửi im lặng: {silent} · Nút Đã nhận: {ack}"
BUTTON_PIN = "📌 Ghim: {state}"
# Under an announcement in the team groups (the sender sends it; bot.features.acknowledgements counts taps).
BUTTON_ACK = "✅ Đã nhận"
BUTTON_SILENT = "🔕 Im lặng: {state}"
# The options step: whether the groups get the "✅ Đã nhận" button under the announcement.
BUTTON_ACK_TOGGLE = "✅ Nút Đã nhận: {state}"
# A tap on the sample button under the preview.
COMPOSE_ACK_PREVIEW = "Đây là nút mẫu: mỗi nhóm bấm nút này để báo đã nhận thông báo."
BUTTON_SEND_NOW = "🚀 Gửi ngay"
BUTTON_SCHEDULE = "🕒 Hẹn giờ"
ON = "bật"
OFF = "tắt"
COMPOSE_ASK_TIME = "Gửi lúc nào? Gõ theo mẫu <code>25/12/2026 08:00</code> hoặc <code>08:00</code> (giờ Việt Nam)."
COMPOSE_BAD_TIME = "Mình chưa hiểu thời gian này, hoặc thời gian đã qua. Gõ lại theo mẫu <code>25/12/2026 08:00</code>."
COMPOSE_PREVIEW = "👆 Trên đây là tin các nhóm sẽ nhận được."
COMPOSE_SUMMARY = (
    "📋 <b>Xác nhận gửi</b>\nTới: {chosen} — <b>{count} nhóm</b>\n"
    "Ghim: {pin} · Im lặng: {silent} · Nút Đã nhận: {ack}\nThời gian: {when}"
)
WHEN_NOW = "gửi ngay"
BUTTON_CONFIRM = "✅ Xác nhận gửi"
BUTTON_CANCEL = "❌ Hủy"
COMPOSE_CANCELLED = "Đã hủy, không gửi gì."
COMPOSE_SCHEDULED = "🕒 Đã hẹn gửi thông báo #{id} tới {count} nhóm lúc {when}. Xem và hủy: /lichhen"
PROGRESS = (
    "📣 <b>Thông báo #{id}</b>: đang gửi tới {total} nhóm\n"
    "✅ Đã gửi: {sent} · ❌ Lỗi: {failed} · ⏳ Còn lại: {pending}\n{eta}"
)
PROGRESS_ETA = "Dự kiến xong sau khoảng {minutes} phút."
PROGRESS_ETA_SOON = "Sắp xong."
REPORT = (
    "📊 <b>Báo cáo thông báo #{id}</b> ({status})\n"
    "Tổng: {total} nhóm · ✅ Đã gửi: {sent} · ❌ Lỗi: {failed} · ⏳ Còn lại: {pending}\n"
    "Bắt đầu: {started} · Kết thúc: {finished}{reasons}"
)
REPORT_REASONS = "\n\n<b>Lỗi theo lý do:</b>\n{lines}"
REPORT_USAGE = "Cách dùng: <code>/baocao ID</code>. Thông báo gần đây của bạn:\n{lines}"
REPORT_NONE = "Bạn chưa gửi thông báo nào."
REPORT_NOT_FOUND = "Không tìm thấy thông báo #{id} (hoặc bạn không có quyền xem)."
BUTTON_CSV = "⬇️ Tải danh sách lỗi (CSV)"
CSV_CAPTION = "Danh sách nhóm gửi lỗi — thông báo #{id}"
SCHEDULED_LIST = "🕒 <b>Thông báo đã hẹn giờ</b>\n{lines}"
SCHEDULED_NONE = "Không có thông báo nào đang hẹn giờ."
BUTTON_CANCEL_SCHEDULED = "❌ Hủy #{id}"
SCHEDULED_CANCELLED = "Đã hủy thông báo #{id}."
SCHEDULED_TOO_LATE = "Thông báo #{id} đã bắt đầu gửi hoặc đã bị hủy, không hủy được nữa."
STATUS_NAMES = {"scheduled": "đã hẹn giờ", "sending": "đang gửi", "done": "đã xong", "cancelled": "đã hủy"}
COMMANDS_ADMIN = [
    ("thongbao", "Soạn thông báo gửi các nhóm"),
    ("baocao", "Báo cáo một thông báo"),
    ("lichhen", "Thông báo đã hẹn giờ"),
    ("nhom", "Tìm các nhóm"),
]
