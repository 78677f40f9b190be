"""Vietnamese for the rating channels and their figures (see scripts/apply_translations.py)."""

VI = {
    "QR code at the desk": "Mã QR tại quầy",
    "Receipt link": "Đường dẫn trên giấy hẹn",
    "Tablet at the counter": "Máy tính bảng tại quầy",
    "Paper ballot": "Phiếu giấy",
    "Interview": "Phỏng vấn",
    "Invitation (SMS, e-mail, Zalo)": "Lời mời (SMS, thư điện tử, Zalo)",
    "all channels": "mọi kênh",
    "%(share)s of the responses came by one channel (%(channel)s): the figure speaks mostly for the people that channel reaches. See the rate of each channel below.": "%(share)s số phiếu đến từ một kênh (%(channel)s): tỷ lệ chủ yếu phản ánh những người dân mà kênh này tiếp cận được. Xem tỷ lệ của từng kênh bên dưới.",
    "There is no rating channel called “%(name)s”. The channels are: %(known)s.": "Không có kênh đánh giá “%(name)s”. Các kênh là: %(known)s.",
    "Channel": "Kênh",
    "Share": "Tỷ trọng",
    "No responses in this period.": "Chưa có phiếu nào trong kỳ này.",
    "Ratings by channel": "Đánh giá theo kênh",
    "People answer differently on their own phone, on a tablet in front of the officer, on paper or to an interviewer: read each channel's rate beside the others.": "Người dân trả lời khác nhau khi dùng điện thoại của mình, máy tính bảng trước mặt cán bộ, phiếu giấy hay khi được phỏng vấn: hãy đọc tỷ lệ của từng kênh bên cạnh nhau.",
    "By channel": "Theo kênh",
}
