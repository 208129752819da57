"""Every sentence of the support desk: what members read and what supporters read (Telegram HTML)."""

from __future__ import annotations

# --- members ---------------------------------------------------------------------------------
UNKNOWN_OFFER_HUMAN = "Hoặc bấm nút bên dưới để gửi câu hỏi cho người hỗ trợ."
# Only numbers the fact sheet sources; the local one-stop desk is always a right address.
HOTLINES = (
    "📞 <b>Nơi hỏi trực tiếp</b>\n"
    "• Bộ phận một cửa của UBND xã/phường nơi bạn ở (thủ tục, dịch vụ công, VNeID).\n"
    "• Công an xã/phường; khẩn cấp gọi <b>113</b>.\n"
    "• Bị lừa khi mua bán trực tuyến: Tổng đài hỗ trợ người tiêu dùng <b>1800 6838</b>.\n"
    "• Bị lừa chuyển tiền: gọi ngay tổng đài ngân hàng in trên thẻ để khóa tài khoản."
)
UNKNOWN_NO_HUMAN = "Bạn cũng có thể hỏi trực tiếp:\n\n" + HOTLINES
HANDOFF_SENT = (
    "✅ Đã chuyển câu hỏi <b>#{number}</b> cho người hỗ trợ. "
    "Khi có câu trả lời, trợ lý sẽ gửi vào tin nhắn riêng của bạn với trợ lý."
)
HANDOFF_SENT_FROM_GROUP = (
    "✅ Đã chuyển câu hỏi <b>#{number}</b> cho người hỗ trợ. Câu trả lời sẽ được gửi vào tin nhắn riêng: "
    'nếu chưa nhắn riêng với trợ lý, bạn <a href="https://t.me/{username}?start=hotro">bấm vào đây rồi bấm Start</a>.'
)
HANDOFF_QUEUED = (
    "✅ Đã ghi nhận câu hỏi <b>#{number}</b>; trợ lý đang chuyển cho người hỗ trợ. "
    "Khi có câu trả lời, trợ lý sẽ gửi vào tin nhắn riêng của bạn."
)
HANDOFF_ALREADY = "Câu hỏi này đã được chuyển cho người hỗ trợ (#{number})."
HANDOFF_UNAVAILABLE = "Hiện chưa có người hỗ trợ nhận câu hỏi qua trợ lý.\n\n" + HOTLINES
HOTRO_USAGE = (
    "Gõ câu hỏi ngay sau lệnh để gửi cho người hỗ trợ, ví dụ:\n"
    "<code>/hotro bác tôi ở xa, làm giấy khai sinh cho cháu online thế nào</code>"
)
HOTRO_PRIVATE_ONLY = "Để gửi câu hỏi cho người hỗ trợ, bạn nhắn riêng cho trợ lý: <code>/hotro câu hỏi</code>."
RELAY_HEADING = (
    "💬 <b>Người hỗ trợ trả lời câu hỏi #{number}</b>\n<i>{question}</i>\nCần hỏi thêm, bạn trả lời (reply) tin này."
)
TOPIC_HEADING = "💬 <b>Người hỗ trợ gửi bạn câu trả lời cho câu hỏi #{number}:</b>"
FOLLOW_UP_SENT = "✅ Đã chuyển thêm cho người hỗ trợ (câu hỏi #{number})."
FOLLOW_UP_FAILED = "😥 Chưa chuyển được tin này cho người hỗ trợ. Bạn thử lại sau ít phút nhé."
CLOSED_MEMBER = "✅ Người hỗ trợ đã đóng câu hỏi <b>#{number}</b>. Bạn thấy sự hỗ trợ có ích không?"
OUT_OF_SCOPE_MEMBER = (
    "Câu hỏi <b>#{number}</b> nằm ngoài phạm vi Tổ Công nghệ số cộng đồng hỗ trợ qua trợ lý.\n\n"
    + HOTLINES
    + "\n\nBạn thấy phản hồi này có ích không?"
)
WAITING_MEMBER = (
    "⏳ Câu hỏi <b>#{number}</b> của bạn vẫn đang chờ người hỗ trợ, không bị quên đâu. "
    "Có câu trả lời, trợ lý sẽ gửi ngay cho bạn."
)
GIVE_UP_MEMBER = (
    "😔 Xin lỗi, câu hỏi <b>#{number}</b> đã chờ lâu mà người hỗ trợ chưa trả lời được. "
    "Câu hỏi vẫn được giữ, có câu trả lời trợ lý sẽ gửi bạn; trong lúc chờ, bạn có thể hỏi trực tiếp:\n\n" + HOTLINES
)
RATED = "Cảm ơn bạn đã đánh giá! 🙏"
RATE_ONCE = "Câu hỏi này đã được đánh giá rồi."
NOT_YOUR_TICKET = "Nút này không dành cho bạn."
BUTTON_HELPFUL = "👍 Có ích"
BUTTON_NOT_HELPFUL = "👎 Chưa có ích"
PROVINCE_CHOOSE = (
    "📍 <b>Bạn ở tỉnh/thành nào?</b>\nChọn một lần; câu hỏi bạn gửi cho người hỗ trợ sẽ đến đúng tỉnh.{current}"
)
PROVINCE_CURRENT = "\nĐang chọn: <b>{name}</b>."
PROVINCE_SAVED = "📍 Đã lưu: <b>{name}</b>."
PROVINCE_PRIVATE_ONLY = "Bạn chọn tỉnh trong tin nhắn riêng với trợ lý: gõ /tinh."

# --- supporters ----------------------------------------------------------------------------
MEMBER_ANONYMOUS = "Thành viên {alias} (ẩn danh)"
MEMBER_NAMED = "{name} · thành viên {alias}"
ORIGIN_PRIVATE = "tin nhắn riêng"
ORIGIN_GROUP = "nhóm Tổ CNSCĐ"
PROVINCE_UNKNOWN = "chưa rõ"
TICKET = (
    "🎫 <b>Phiếu #{number}</b>\n"
    "<b>Câu hỏi:</b> {question}\n"
    "<b>Trợ lý đoán:</b> {guesses}\n"
    "<b>Hỏi ở:</b> {origin} · <b>Tỉnh:</b> {province}\n"
    "<b>Người hỏi:</b> {member}\n"
    "<b>Lúc:</b> {when}\n\n"
    "{how}"
)
TICKET_HOW_REPLY = "↩️ Trả lời (reply) tin này để gửi câu trả lời cho thành viên (chữ, ảnh, tệp, ghi âm đều được)."
TICKET_HOW_TOPIC = "✍️ Viết trong chủ đề này để gửi câu trả lời cho thành viên (chữ, ảnh, tệp, ghi âm đều được)."
TICKET_NO_GUESS = "không có"
FORUM_TOPIC_NAME = "#{number} {question}"
BUTTON_ANSWER_BY_TOPIC = "📚 Trả lời bằng chủ đề…"
BUTTON_OUT_OF_SCOPE = "🚫 Ngoài phạm vi"
BUTTON_CLOSE = "✅ Đóng"
BUTTON_OTHER_TOPIC = "📂 Chủ đề khác…"
BUTTON_BACK = "⬅️ Quay lại"
PICK_TOPIC = "Chọn chủ đề để gửi câu trả lời của trợ lý cho thành viên:"
DELIVERED = "✅ Đã chuyển cho thành viên (phiếu #{number})."
TOPIC_DELIVERED = "✅ Đã gửi thành viên câu trả lời chủ đề «{title}» (phiếu #{number})."
DELIVERY_FAILED = "⚠️ Không chuyển được cho thành viên (phiếu #{number}): {reason}"
REASON_BLOCKED = "thành viên đã chặn trợ lý."
REASON_NOT_STARTED = "thành viên chưa mở tin nhắn riêng với trợ lý (chưa bấm Start)."
REASON_DEACTIVATED = "tài khoản Telegram của thành viên không còn."
REASON_OTHER = "Telegram báo lỗi «{error}»."
FOLLOW_UP = "↩️ <b>Thành viên {alias} hỏi thêm</b> (phiếu #{number}):"
REMINDER = "⏰ <b>Phiếu #{number}</b> đã chờ {minutes} phút mà chưa ai trả lời. Ai nhận giúp với!"
GAVE_UP_NOTICE = "📞 Phiếu #{number}: đã chờ quá {minutes} phút, trợ lý đã gửi thành viên các số đường dây chính thức."
CLOSED_BY = "🔒 Phiếu #{number} đã đóng ({reason}) bởi {who}."
ALREADY_CLOSED = "Phiếu này đã đóng rồi."
ONLY_SUPPORT_CHAT = "Chỉ thành viên nhóm hỗ trợ mới thao tác được phiếu này."
TICKET_NOT_FOUND = "Không tìm thấy phiếu này."
ATTACH_USAGE = (
    "Cách dùng (trong nhóm hỗ trợ, chỉ quản trị viên cấp cao): <code>/hotro_tinh Tên tỉnh</code>, "
    "ví dụ <code>/hotro_tinh Nghệ An</code>. Bỏ gắn: <code>/hotro_bo</code>.\n\n<b>Đang gắn:</b>\n{lines}"
)
ATTACH_LINE = "• {province}: <code>{chat_id}</code>"
ATTACH_NONE = "chưa gắn tỉnh nào; mọi phiếu vào nhóm mặc định."
ATTACH_DEFAULT = "• Nhóm mặc định (SUPPORT_CHAT_ID): <code>{chat_id}</code>"
ATTACH_NO_DEFAULT = "• Chưa đặt nhóm mặc định (SUPPORT_CHAT_ID)."
ATTACH_DONE = "✅ Nhóm này nhận phiếu hỗ trợ của <b>{province}</b>."
ATTACH_UNKNOWN_PROVINCE = (
    "Không nhận ra tỉnh «{text}». Gõ đúng tên một trong 34 tỉnh/thành, ví dụ <code>Nghệ An</code>."
)
ATTACH_GROUP_ONLY = "Gõ lệnh này trong nhóm hỗ trợ (siêu nhóm có trợ lý làm quản trị viên)."
DETACH_DONE = "Đã bỏ gắn nhóm này khỏi: {provinces}."
DETACH_NONE = "Nhóm này chưa được gắn với tỉnh nào."
CLOSE_REASONS = {"resolved": "đã xử lý", "out_of_scope": "ngoài phạm vi", "expired": "hết thời gian chờ"}
COMMANDS_PRIVATE = [
    ("hotro", "Gửi câu hỏi cho người hỗ trợ"),
    ("tinh", "Chọn tỉnh/thành của bạn"),
]
COMMANDS_ADMIN = [
    ("hotro_tinh", "Gắn nhóm hỗ trợ với một tỉnh (gõ trong nhóm đó)"),
]
