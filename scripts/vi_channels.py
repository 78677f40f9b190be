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
VI.update(
    {
        "The figures on this page include: %(channels)s.": "Số liệu trên trang này gồm: %(channels)s.",
        "Show the figures of:": "Xem số liệu của:",
        "Only: %(channels)s": "Chỉ gồm: %(channels)s",
        "Channels included": "Các kênh được tính",
        "Channels": "Các kênh",
    }
)
VI.update(
    {
        "%(points)s points (%(low)s to %(high)s): a real difference": "%(points)s điểm (từ %(low)s đến %(high)s): khác biệt thật",
        "%(points)s points (%(low)s to %(high)s): may be chance": "%(points)s điểm (từ %(low)s đến %(high)s): có thể do ngẫu nhiên",
        "Against the other channels": "So với các kênh còn lại",
    }
)
VI.update(
    {
        "Response rates": "Tỷ lệ phản hồi",
        "How many of the citizens whose dossiers were handled gave a rating, and by which channel. A rate heard from few citizens, or from one channel only, speaks for them rather than for everyone.": "Bao nhiêu người dân đã được giải quyết hồ sơ đã đánh giá, và qua kênh nào. Tỷ lệ hài lòng chỉ từ ít người, hoặc chỉ từ một kênh, phản ánh những người đó chứ không phải mọi người dân.",
        "Dossiers handled": "Hồ sơ đã giải quyết",
        "Ratings": "Số phiếu",
        "Ratings per dossier": "Số phiếu trên số hồ sơ",
        "not entered": "chưa nhập",
        "missing: %(months)s": "thiếu: %(months)s",
        "Ratings per dossier is shown only when every month of the period has its dossier count (entered by the district on the volumes page).": "Số phiếu trên số hồ sơ chỉ hiện khi mọi tháng trong kỳ đã có số hồ sơ (huyện nhập ở trang số hồ sơ).",
        "Handed out and answered": "Đã phát và đã trả lời",
        "Handed out": "Đã phát",
        "Answered": "Đã phản hồi",  # the feedback status (the reach page says "Rated")
        "Rated": "Đã đánh giá",
        "Response rate": "Tỷ lệ phản hồi",
        "No receipt links, paper ballots or invitations were handed out in this period.": "Trong kỳ này chưa phát đường dẫn giấy hẹn, phiếu giấy hay lời mời nào.",
        "Receipt links issued": "Đường dẫn giấy hẹn đã cấp",
        "Paper ballots printed": "Phiếu giấy đã in",
        "Invitations sent": "Lời mời đã gửi",
    }
)
