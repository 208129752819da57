"""Every user-facing sentence of the assistant, in one place (Vietnamese, Telegram HTML)."""

from __future__ import annotations

CLARIFY_HEADER = "🤔 <b>Ý bạn là…</b>"
CLARIFY_FOOTER = "Bạn chọn một chủ đề bên dưới, hoặc hỏi lại rõ hơn nhé."
UNKNOWN = (
    "😔 Xin lỗi, mình <b>chưa có thông tin</b> để trả lời câu này.\n\n"
    "Bạn có thể xem các chủ đề mình trả lời được trong /menu, hỏi lại theo cách khác, "
    "hoặc gửi câu hỏi cho người hỗ trợ."
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
    "Câu nào mình chưa biết, mình sẽ nói là chưa biết và bạn có thể gửi cho người hỗ trợ."
)
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
HANDOFF_DONE = "✅ Đã gửi câu hỏi của bạn cho người hỗ trợ. Khi có câu trả lời, người hỗ trợ sẽ liên hệ lại."
HANDOFF_ALREADY = "Câu hỏi này đã được gửi cho người hỗ trợ rồi."
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
