"""Vietnamese for the hardening work's strings (scripts/apply_translations.py)."""

VI = {
    "The spreadsheet is too large: at most %(rows)d rows and %(columns)d columns.": (
        "Bảng tính quá lớn: tối đa %(rows)d dòng và %(columns)d cột."
    ),
    "Please enter a number.": "Vui lòng nhập một số.",
    "More ratings than the desk or the network plausibly sends (burst)": "Nhiều phiếu hơn mức bàn hoặc mạng này có thể gửi (dồn dập)",
}
