"""Vietnamese translations of the QR poster and response-integrity strings."""

VI = {
    "Desks and posters": "Bàn tiếp nhận và áp phích",
    "Flagged responses": "Phiếu bị gắn cờ",
    "Verified and open ratings": "Đánh giá đã xác thực và đánh giá mở",
    "Verified ratings come with a one-time code from a dossier's receipt slip; open ratings "
    "come from the desk's poster.": "Đánh giá đã xác thực đi kèm mã dùng một lần in trên phiếu "
    "hẹn trả kết quả của hồ sơ; đánh giá mở đến từ mã QR dán tại bàn.",
    "Forms": "Số phiếu",
    "Verified by receipt": "Xác thực bằng phiếu hẹn",
    "Open QR code": "Mã QR mở",
    "Share of verified ratings:": "Tỷ lệ đánh giá đã xác thực:",
    "%(n)d flagged responses left out": "%(n)d phiếu bị gắn cờ không được tính",
    "Scans and forms sent by desk": "Lượt quét và số phiếu gửi theo bàn",
    "A scan is the first opening of a desk's form by a phone on a day; reloads are not "
    "counted.": "Một lượt quét là lần đầu một điện thoại mở phiếu của bàn trong ngày; tải lại "
    "trang không được tính.",
    "Scans": "Lượt quét",
    "Forms sent": "Phiếu đã gửi",
    "Verified": "Đã xác thực",
    "Open": "Mở",
    "Flagged": "Gắn cờ",
    "Sent per scan": "Phiếu gửi / lượt quét",
    "Poster": "Áp phích",
    "retired": "ngừng sử dụng",
    "All posters of %(unit)s in one file:": "Tất cả áp phích của %(unit)s trong một tệp:",
    "These responses look automated or gamed. They are kept, but left out of every rate, "
    "chart and download until a district officer reinstates them.": "Các phiếu này có dấu hiệu "
    "gửi tự động hoặc không khách quan. Phiếu vẫn được lưu nhưng không được tính vào tỷ lệ, "
    "biểu đồ và tệp tải về cho đến khi cán bộ cấp huyện khôi phục.",
    "Only district officers may reinstate flagged responses.": "Chỉ cán bộ cấp huyện được "
    "khôi phục phiếu bị gắn cờ.",
    "%(n)d flagged responses": "%(n)d phiếu bị gắn cờ",
    "verified by receipt": "xác thực bằng phiếu hẹn",
    "Reason": "Lý do",
    "Left out of the statistics": "Không tính vào thống kê",
    "Reinstated": "Đã khôi phục",
    "Reinstate in the statistics": "Khôi phục vào thống kê",
    "Leave out again": "Loại khỏi thống kê lại",
    "No flagged responses.": "Không có phiếu nào bị gắn cờ.",
    "Your rating will be linked to the receipt %(code)s: one dossier, one rating.": "Đánh giá "
    "của Ông/Bà sẽ gắn với phiếu hẹn %(code)s: mỗi hồ sơ một lần đánh giá.",
    "Leave this field empty": "Để trống ô này",
    "The desk's QR code has been replaced. Thank you for taking the time to rate our "
    "service.": "Mã QR của bàn này đã được thay thế. Cảm ơn Ông/Bà đã dành thời gian đánh giá.",
    "Open the form of %(desk)s": "Mở phiếu đánh giá của %(desk)s",
    "Please scan the new code at the desk.": "Vui lòng quét mã mới tại bàn tiếp nhận.",
    "Hidden anti-robot field filled in": "Ô ẩn chống máy tự động bị điền",
    "Sent faster than a person can read the form": "Gửi nhanh hơn thời gian một người đọc phiếu",
    "Form not served by this site (no valid time stamp)": "Phiếu không do trang này cung cấp "
    "(không có dấu thời gian hợp lệ)",
    "Response reinstated in the statistics.": "Đã khôi phục phiếu vào thống kê.",
    "Response left out of the statistics.": "Đã loại phiếu khỏi thống kê.",
    "This unit has no active desk.": "Đơn vị này không có bàn tiếp nhận nào đang hoạt động.",
    "The receipt code “%(code)s” is not valid.": "Mã phiếu hẹn “%(code)s” không hợp lệ.",
    "The receipt code %(code)s was not found.": "Không tìm thấy mã phiếu hẹn %(code)s.",
    "The receipt code %(code)s expired on %(date)s.": "Mã phiếu hẹn %(code)s đã hết hạn ngày "
    "%(date)s.",
    "The receipt code %(code)s has already been used: each dossier is rated once.": "Mã phiếu "
    "hẹn %(code)s đã được sử dụng: mỗi hồ sơ chỉ được đánh giá một lần.",
    "The receipt code %(code)s was issued by another office, not %(unit)s.": "Mã phiếu hẹn "
    "%(code)s do cơ quan khác cấp, không phải %(unit)s.",
    "You can still answer: your rating will be counted as not linked to a receipt.": "Ông/Bà "
    "vẫn có thể trả lời: đánh giá sẽ được tính là không gắn với phiếu hẹn.",
    "This phone has already sent %(n)d ratings for this desk in the last 24 hours. Thank you! "
    "If you have more to tell us, please speak to the staff at the desk.": "Điện thoại này đã "
    "gửi %(n)d phiếu đánh giá cho bàn này trong 24 giờ qua. Xin cảm ơn Ông/Bà! Nếu còn ý kiến, "
    "xin vui lòng trao đổi trực tiếp với cán bộ tại bàn.",
    "Many ratings have been sent from this network in the last hour. Please try again a "
    "little later.": "Đã có nhiều phiếu đánh giá được gửi từ mạng này trong một giờ qua. Xin "
    "vui lòng thử lại sau ít phút.",
    "The poster size must be A4 or A5.": "Khổ áp phích phải là A4 hoặc A5.",
    "Citizen satisfaction survey": "Khảo sát mức độ hài lòng của người dân",
    "Scan the code to rate how satisfied you are with our service": "Quét mã để đánh giá mức "
    "độ hài lòng của Ông/Bà",
    "No camera? Type this address:": "Không quét được mã? Nhập địa chỉ:",
    "Anonymous · no sign-in · under a minute · desk code %(code)s": "Ẩn danh · không cần đăng "
    "nhập · dưới một phút · mã bàn %(code)s",
}
