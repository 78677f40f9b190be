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
VI.update(
    {
        "%(title)s (provisional)": "%(title)s (tạm tính)",
        "No comments, suggestions or complaints in this period.": "Không có góp ý, phản ánh nào trong kỳ.",
        "Trend": "Diễn biến theo tháng",
        "Answer": "Câu trả lời",
        "Share": "Tỷ lệ",
    }
)
VI.update(
    {
        "Parent body (cơ quan chủ quản)": "Cơ quan chủ quản",
        "Issuing body": "Cơ quan ban hành",
        "Please enter the issuing body.": "Vui lòng nhập tên cơ quan ban hành.",
        "Number symbol (after “Số: …/”)": "Ký hiệu văn bản (sau “Số: …/”)",
        "Please enter the number symbol, e.g. BC-UBND.": "Vui lòng nhập ký hiệu văn bản, ví dụ BC-UBND.",
        "Place (before the date)": "Địa danh (trước ngày tháng)",
        "Please enter the place.": "Vui lòng nhập địa danh.",
        "Signer's title (one line each)": "Chức vụ người ký (mỗi dòng một ý)",
        "Please enter the signer's title.": "Vui lòng nhập chức vụ người ký.",
        "Signer's name": "Họ tên người ký",
        "Recipients (“Nơi nhận”, one a line)": "Nơi nhận (mỗi dòng một nơi)",
        "Report settings saved.": "Đã lưu thông tin văn bản báo cáo.",
        "Report settings": "Thông tin văn bản báo cáo",
        "What the report says when it is issued as an administrative document (Nghị định 30/2020/NĐ-CP): the heading, the number, the place and date, the signature and “Nơi nhận”.": "Các thông tin in trên báo cáo khi ban hành thành văn bản hành chính (Nghị định 30/2020/NĐ-CP): tên cơ quan, số và ký hiệu, địa danh và ngày tháng, người ký và nơi nhận.",
        "These are suggestions from the unit's name: check them and save.": "Đây là gợi ý theo tên đơn vị: vui lòng kiểm tra và lưu lại.",
    }
)
VI.update(
    {
        "Please enter a number, for example 90 or 92,5.": "Vui lòng nhập một số, ví dụ 90 hoặc 92,5.",
        "Please choose one of the options in the list.": "Vui lòng chọn một mục trong danh sách.",
        "Report (Word, to edit)": "Báo cáo (Word, để chỉnh sửa)",
        "CSV for other programs (comma, decimal point)": "CSV cho phần mềm khác (dấu phẩy, dấu chấm thập phân)",
        "The report's heading, number, signer and recipients:": "Tên cơ quan, số ký hiệu, người ký và nơi nhận của báo cáo:",
    }
)
VI.update(
    {
        "There is no unit with the code %(code)s.": "Không có đơn vị nào có mã %(code)s.",
        "Results": "Kết quả",
        "provisional": "tạm tính",
        "%(n)d people answered": "%(n)d người đã trả lời",
        "satisfied": "hài lòng",
        "Not enough responses": "Chưa đủ phiếu",
        "A rate is published from %(n)d answers.": "Tỷ lệ chỉ được công bố khi có từ %(n)d câu trả lời.",
        "The five elements of the service": "Năm yếu tố của dịch vụ",
        "How satisfied people are with %(unit)s": "Mức độ hài lòng của người dân với %(unit)s",
        "Results of the satisfaction survey at the one-stop desk, published for everyone. People answer of their own accord, so the figures describe those who chose to answer; the interval shows how uncertain a rate is.": "Kết quả khảo sát mức độ hài lòng tại Bộ phận Một cửa, công khai cho mọi người. Người dân tự nguyện trả lời nên số liệu phản ánh ý kiến của những người đã trả lời; khoảng tin cậy cho biết tỷ lệ còn chưa chắc chắn đến đâu.",
        "Last month": "Tháng trước",
        "This year": "Năm nay",
        "Month by month": "Theo từng tháng",
        "Communes, last month": "Các xã, tháng trước",
        "See the results": "Xem kết quả",
    }
)
VI.update({"Open data:": "Dữ liệu mở:"})
VI.update({"See the results: %(url)s": "Xem kết quả: %(url)s"})
