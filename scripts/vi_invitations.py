"""Vietnamese for the invitations to rate dossiers filed online (see scripts/apply_translations.py)."""

VI = {
    "Give a phone number or an e-mail address to send to.": "Nhập số điện thoại hoặc địa chỉ thư điện tử để gửi lời mời.",
    "Give either a phone number or an e-mail address, not both.": "Chỉ nhập số điện thoại hoặc địa chỉ thư điện tử, không nhập cả hai.",
    "A phone number is sent to by SMS or Zalo.": "Số điện thoại chỉ gửi được qua SMS hoặc Zalo.",
    "This is a landline number; give a mobile number (starting with 03, 05, 07, 08 or 09).": "Đây là số máy bàn; hãy nhập số điện thoại di động (bắt đầu bằng 03, 05, 07, 08 hoặc 09).",
    "Not a Vietnamese mobile number: write 10 digits starting with 0 (0912 345 678) or +84 and 9 digits (+84 912 345 678).": "Không phải số điện thoại di động Việt Nam: nhập 10 chữ số bắt đầu bằng 0 (0912 345 678) hoặc +84 và 9 chữ số (+84 912 345 678).",
    "An e-mail address is sent to by e-mail.": "Địa chỉ thư điện tử chỉ gửi được qua thư điện tử.",
    "Not a valid e-mail address: write it as name@example.vn, without spaces.": "Địa chỉ thư điện tử không hợp lệ: nhập theo dạng ten@example.vn, không có dấu cách.",
    "This service cannot send by %(channel)s yet: ask its administrator.": "Hệ thống chưa được thiết lập để gửi qua %(channel)s: đề nghị liên hệ quản trị hệ thống.",
    "Invitations to rate": "Lời mời đánh giá",
    "Citizens who filed online receive their dossier's rating link by SMS, e-mail or Zalo, and one reminder if they have not rated. Counted here: invitations made in the period; answered: of those that reached the citizen, the dossiers rated.": "Người dân nộp hồ sơ trực tuyến nhận đường dẫn đánh giá hồ sơ qua SMS, thư điện tử hoặc Zalo, và một lần nhắc lại nếu chưa đánh giá. Tính ở đây: lời mời tạo trong kỳ; đã đánh giá: trong số lời mời đã đến người dân, số hồ sơ đã được đánh giá.",
    "Invitations": "Lời mời đánh giá",
    "Invited": "Đã mời",
    "Sent": "Đã gửi",
    "Dossiers rated": "Đã đánh giá",
    "Response rate": "Tỷ lệ trả lời",
    "Waiting to be sent": "Đang chờ gửi",
    "Not delivered": "Không gửi được",
    "Total": "Tổng cộng",
    "No invitations in this period. The one-stop software sends a citizen's phone number or e-mail address with the dossier's token request to invite them.": "Không có lời mời nào trong kỳ. Phần mềm một cửa gửi số điện thoại hoặc địa chỉ thư điện tử của người dân kèm yêu cầu cấp mã đánh giá của hồ sơ để mời họ đánh giá.",
    "The contact is kept only until the last message is sent, the dossier is rated or the link expires.": "Thông tin liên hệ chỉ được giữ đến khi gửi xong tin cuối cùng, hồ sơ đã được đánh giá hoặc đường dẫn hết hạn.",
}
