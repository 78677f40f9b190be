"""Vietnamese for the hardening work's strings (scripts/apply_translations.py)."""

VI = {
    "The spreadsheet is too large: at most %(rows)d rows and %(columns)d columns.": (
        "Bảng tính quá lớn: tối đa %(rows)d dòng và %(columns)d cột."
    ),
    "Please enter a number.": "Vui lòng nhập một số.",
    "More ratings than the desk or the network plausibly sends (burst)": "Nhiều phiếu hơn mức bàn hoặc mạng này có thể gửi (dồn dập)",
    "Replaced by a later rating of the desk from the same phone": "Đã được thay bằng phiếu sau đó của cùng điện thoại cho bàn này",
    "Your answers have been updated: they replace the rating this phone sent for this desk a little earlier.": "Câu trả lời của Ông/Bà đã được cập nhật: thay cho phiếu điện thoại này đã gửi cho bàn này trước đó ít phút.",
    "This form had already been sent: the answers sent the first time were kept. To change them, open the form again from the QR code.": "Phiếu này đã được gửi trước đó: giữ nguyên câu trả lời gửi lần đầu. Để thay đổi, vui lòng mở lại phiếu từ mã QR.",
}
