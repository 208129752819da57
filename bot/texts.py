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
    "Trợ lý Tổ Công nghệ số cộng đồng (chế độ dòng lệnh).\n"
    "Gõ câu hỏi rồi nhấn Enter; gõ 'thoat' hoặc Ctrl+D để thoát."
)
CONSOLE_CHOICE = "Chọn số (1–{count}) để xem câu trả lời, hoặc gõ câu hỏi mới."
CONSOLE_BYE = "Tạm biệt!"
NO_TOKEN = (
    "TELEGRAM_BOT_TOKEN chưa được đặt, nên trợ lý chạy ở chế độ dòng lệnh.\n"
    "Để chạy trên Telegram: tạo bot với @BotFather, rồi đặt TELEGRAM_BOT_TOKEN=<token> "
    "trong môi trường hoặc trong tệp .env, và chạy lại 'make run'."
)
