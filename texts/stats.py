"""Every sentence of the statistics: /thongke, its charts and CSV headers, and the daily digest (Telegram HTML)."""

from __future__ import annotations

# --- /thongke ----------------------------------------------------------------------------------
STATS_USAGE = (
    "Cách dùng: <code>/thongke</code> (7 ngày gần nhất), <code>/thongke 30</code> hoặc <code>/thongke 90</code>."
)
STATS_PRIVATE_ONLY = "Thống kê chỉ xem được trong tin nhắn riêng với trợ lý: bấm vào tên trợ lý rồi gõ /thongke."
STATS_NOT_ALLOWED = "Xin lỗi, thống kê chỉ dành cho quản trị viên và người được cấp quyền gửi thông báo."
STATS_WORKING = "⏳ Đang tổng hợp số liệu {days} ngày, bạn chờ một chút nhé…"
STATS_SCOPE_ALL = "toàn quốc"
STATS_SUMMARY = (
    "📊 <b>Thống kê {days} ngày</b> ({first} – {last}) · phạm vi: {scope}\n\n"
    "❓ Câu hỏi: <b>{questions}</b> từ <b>{askers}</b> người hỏi\n"
    "✅ Trả lời: {answered_pct} · 🤔 Hỏi lại: {clarified_pct} · 😔 Chưa biết: {unknown_pct}\n"
    "👍 Hữu ích: {helpful} · 👎 Chưa đúng: {not_helpful}\n"
    "🙋 Phiếu hỗ trợ: mở {opened} · đóng {closed} · đang chờ {open_now}\n"
    "⏱ Thời gian phản hồi đầu tiên (trung vị): {median}"
)
STATS_CAPTION_DAYS = "Số liệu theo ngày, {first} – {last}"
STATS_CAPTION_TOPICS = "Số câu hỏi theo chủ đề, {first} – {last}"
NO_VALUE = "–"
DURATION_UNDER_MINUTE = "dưới 1 phút"
DURATION_MINUTES = "{minutes} phút"
DURATION_HOURS = "{hours} giờ {minutes} phút"
# For the super-admins' command list (broadcasters may use /thongke too, for their own scope).
COMMANDS_ADMIN = [("thongke", "Thống kê câu hỏi và phiếu hỗ trợ (7, 30 hoặc 90 ngày)")]

# --- the daily digest ---------------------------------------------------------------------------
DIGEST = (
    "🗓 <b>Tóm tắt ngày {day}</b>\n"
    "❓ Câu hỏi: <b>{questions}</b> từ {askers} người · ✅ {answered_pct} · 🤔 {clarified_pct} · 😔 {unknown_pct}\n"
    "👍 {helpful} · 👎 {not_helpful}\n"
    "🙋 Phiếu: mở {opened} · đóng {closed} · <b>đang chờ {open_now}</b> · phản hồi đầu (trung vị): {median}"
)
DIGEST_UNANSWERED = "\n\n<b>Câu hỏi chưa trả lời được nhiều nhất:</b>\n{lines}"
DIGEST_UNANSWERED_LINE = "• {text} <i>({count} lần)</i>"

# --- charts (plain text: matplotlib draws it; no emoji, the bundled font has none) -------------
CHART_NO_DATA = "Chưa có dữ liệu trong thời gian này"
CHART_QUESTIONS_TITLE = "Câu hỏi mỗi ngày"
CHART_TOPICS_TITLE = "Chủ đề được hỏi nhiều nhất"
CHART_RATES_TITLE = "Tỉ lệ chưa trả lời được và đánh giá hữu ích"
CHART_TICKETS_TITLE = "Phiếu hỗ trợ mỗi ngày"
CHART_PROVINCES_TITLE = "Câu hỏi theo tỉnh/thành"
CHART_ANSWERED = "Trả lời"
CHART_CLARIFIED = "Hỏi lại"
CHART_UNKNOWN = "Chưa biết"
CHART_QUESTIONS_AXIS = "Số câu hỏi"
CHART_PERCENT_AXIS = "%"
CHART_UNKNOWN_RATE = "Chưa biết (% câu hỏi)"
CHART_HELPFUL_RATE = "Hữu ích (% lượt đánh giá)"
CHART_TICKETS_OPENED = "Mở"
CHART_TICKETS_CLOSED = "Đóng"
CHART_TICKETS_AXIS = "Số phiếu"
CHART_MEDIAN_RESPONSE = "Phản hồi đầu, trung vị (phút)"
CHART_MINUTES_AXIS = "Phút"
CHART_UNKNOWN_PROVINCE = "Chưa rõ tỉnh"
CHART_PERIOD = "{first} – {last}"

# --- CSV headers -----------------------------------------------------------------------------------
CSV_DAY_HEADER = (
    "ngay",
    "cau_hoi",
    "nguoi_hoi",
    "tra_loi",
    "hoi_lai",
    "chua_biet",
    "huu_ich",
    "chua_dung",
    "phieu_mo",
    "phieu_dong",
    "phan_hoi_dau_trung_vi_phut",
)
CSV_TOPIC_HEADER = ("chu_de", "ten_chu_de", "cau_hoi", "huu_ich", "chua_dung")
CSV_DAYS_FILENAME = "thongke-{first}-{last}-theo-ngay.csv"
CSV_TOPICS_FILENAME = "thongke-{first}-{last}-theo-chu-de.csv"
