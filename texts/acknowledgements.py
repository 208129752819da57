"""Every sentence of the "✅ Đã nhận" acknowledgements: toasts, the report section, the reminder (Telegram HTML)."""

from __future__ import annotations

# --- toasts in the team group (plain text: Telegram shows a toast without formatting) -----------
TOAST_COUNTED = "✅ Cảm ơn bạn! Đã ghi nhận nhóm mình đã nhận thông báo."
TOAST_ALREADY = "👍 Nhóm mình đã xác nhận rồi, cảm ơn bạn!"
TOAST_NOT_IN_AUDIENCE = "Mình không thấy nhóm này trong danh sách nhận thông báo này, nên chưa ghi nhận được."
TOAST_UNKNOWN = "Nút này đã cũ hoặc không còn dùng được."
TOAST_NOT_HERE = "Nút «✅ Đã nhận» chỉ dùng trong nhóm nhận thông báo."

# --- the report and /baocao -----------------------------------------------------------------------
SECTION = (
    "\n\n📬 <b>Xác nhận đã nhận</b>\n"
    "✅ Đã xác nhận: {acked} nhóm · ⏳ Chưa xác nhận: {waiting} nhóm (trong {sent} nhóm đã nhận tin)"
)
BY_PROVINCE = "\n\n<b>Theo tỉnh/thành</b> (nhiều nhóm chưa xác nhận nhất trước):\n{lines}"
BY_COMMUNE = "\n\n<b>Theo xã/phường</b> (nhiều nhóm chưa xác nhận nhất trước):\n{lines}"
LINE = "• {name}: ✅ {acked} · ⏳ {waiting}"
COMMUNE_NAME = "{commune} ({province})"
MORE_PROVINCES = "• … và {count} tỉnh/thành khác: xem tệp CSV"
MORE_COMMUNES = "• … và {count} xã/phường khác: xem tệp CSV"
NO_PROVINCE = "Chưa gắn tỉnh"
NO_COMMUNE = "Chưa gắn xã/phường"
OF_REMINDER = "\n\n🔔 Đây là lời nhắc của thông báo #{original}; xác nhận được tính chung: /baocao {original}"
REMINDER_DUE = "\n\n🔔 Từ {when} bạn có thể gửi một lời nhắc tới các nhóm chưa xác nhận: gõ lại /baocao {id}."
REMINDER_SENT = "\n\n🔔 Đã gửi lời nhắc: thông báo #{id} (/baocao {id})."
REMINDER_READY = "\n\n🔔 Bạn có thể gửi một lời nhắc tới {count} nhóm chưa xác nhận bằng nút bên dưới."
REMINDER_AVAILABLE = "\n\n🔔 Bạn có thể gửi một lời nhắc tới {count} nhóm chưa xác nhận: gõ /baocao {id}."
BUTTON_REMIND = "🔔 Nhắc {count} nhóm chưa xác nhận"

# --- the CSV -----------------------------------------------------------------------------------------
CSV_HEADER = ("nhóm", "chat_id", "tỉnh/thành", "xã/phường", "trạng thái gửi", "đã xác nhận", "lúc xác nhận")
CSV_YES = "có"
CSV_NO = "không"
CSV_TIME_PATTERN = "%d/%m/%Y %H:%M"
CSV_FILENAME = "thong-bao-{id}-xac-nhan.csv"
CSV_CAPTION = "Các nhóm đã và chưa xác nhận — thông báo #{id} (giờ Việt Nam)"
DELIVERY_STATUS = {
    "pending": "chờ gửi",
    "sending": "đang gửi",
    "sent": "đã gửi",
    "failed": "lỗi",
    "cancelled": "đã hủy",
}

# --- the reminder ------------------------------------------------------------------------------------
# Above the original content, in the groups that have not acknowledged.
REMINDER_HEADER = (
    "🔔 <b>Nhắc lại thông báo</b>: nhóm mình chưa bấm «✅ Đã nhận». "
    "Bạn xem nội dung dưới đây rồi bấm nút để xác nhận giúp nhé."
)
# When the header and the original would not fit Telegram's limit: the header alone.
REMINDER_TOO_LONG = (
    "🔔 <b>Nhắc lại thông báo</b> gửi nhóm lúc {when}: nhóm mình chưa bấm «✅ Đã nhận». "
    "Bạn xem lại thông báo đó trong nhóm rồi bấm nút dưới đây để xác nhận giúp nhé."
)
REMINDER_CREATED = "🔔 Đã tạo lời nhắc #{id} tới {count} nhóm."
REMINDER_ALREADY = "Thông báo #{id} đã được nhắc rồi (mỗi thông báo chỉ nhắc một lần)."
REMINDER_TOO_EARLY = "Chưa tới lúc nhắc: từ {when} mới gửi được lời nhắc."
REMINDER_NOT_DONE = "Thông báo #{id} chưa gửi xong, chưa nhắc được."
REMINDER_NOBODY = "Không còn nhóm nào cần nhắc: các nhóm đã nhận tin đều đã xác nhận."
REMINDER_NO_BUTTON = "Thông báo #{id} không có nút «✅ Đã nhận», nên không có lời nhắc."
