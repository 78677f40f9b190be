"""Vietnamese for the report downloads, the period picker and the volumes page
(see scripts/apply_translations.py)."""

VI = {
    "From": "Từ ngày",
    "To": "Đến ngày",
    "Response number": "Mã phiếu",
    "The CSV separator must be “semicolon” or “comma”.": "Dấu phân cách CSV phải là “semicolon” (dấu chấm phẩy) hoặc “comma” (dấu phẩy).",
    "The reporting period %(code)s is not valid. Type for example %(examples)s, or choose one from the list.": "Kỳ báo cáo %(code)s không hợp lệ. Hãy gõ, ví dụ: %(examples)s, hoặc chọn trong danh sách.",
    "Months": "Tháng",
    "Quarters": "Quý",
    "Half years": "6 tháng",
    "Nine months": "9 tháng",
    "Years": "Năm",
    "Choose a reporting period": "Chọn kỳ báo cáo",
    "Reporting period": "Kỳ báo cáo",
    "Or type a period": "Hoặc gõ kỳ báo cáo",
    "For example: 11/2026, T11/2026, Q3/2026, quý 3/2026, 6T/2026, 9T/2026, 2026": "Ví dụ: 11/2026, T11/2026, Q3/2026, quý 3/2026, 6T/2026 (6 tháng đầu năm), 9T/2026, 2026",
    "Reporting period not valid": "Kỳ báo cáo không hợp lệ",
}
VI.update(
    {
        "Month": "Tháng",
        "For example: 11/2026 or T11/2026": "Ví dụ: 11/2026 hoặc T11/2026",
        "Code": "Mã",
        "Stored": "Đã lưu",
        "Start from a template with this district's communes and %(month)s (rows left blank are skipped):": "Dùng tệp mẫu có sẵn các xã của đơn vị và %(month)s (dòng để trống sẽ được bỏ qua):",
        "Template (XLSX)": "Tệp mẫu (XLSX)",
        "Template (CSV)": "Tệp mẫu (CSV)",
        "File to import (.csv or .xlsx)": "Tệp cần nhập (.csv hoặc .xlsx)",
        "Dossier volumes": "Số hồ sơ",
    }
)
