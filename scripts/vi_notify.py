"""Vietnamese translations of the officers' notification settings."""

VI = {
    "E-mail address": "Địa chỉ thư điện tử",
    "Alerts: harassment reports and runs of negative ratings": "Cảnh báo: phản ánh bị gây phiền "
    "hà, sách nhiễu và nhiều đánh giá không hài lòng liên tiếp",
    "Comments from citizens who agreed to be contacted": "Ý kiến của người dân đồng ý được liên "
    "hệ lại",
    "No e-mail from (HH:MM)": "Không nhận thư từ (giờ:phút)",
    "until (HH:MM)": "đến (giờ:phút)",
    "This is not an e-mail address. Please write it as name@domain.vn.": "Đây không phải địa chỉ "
    "thư điện tử. Xin viết theo dạng ten@tenmien.vn.",
    "Please write a time of day as HH:MM, for example 21:30.": "Xin viết giờ theo dạng giờ:phút, "
    "ví dụ 21:30.",
    "Notifications": "Nhận thông báo",
    "Messages never contain a citizen's words or contact details, only a link to this site, "
    "where you sign in to read them.": "Thư không bao giờ chứa nội dung ý kiến hay thông tin liên "
    "hệ của người dân, chỉ có đường dẫn đến trang này; đăng nhập để xem.",
    "What I receive": "Loại thư nhận",
    "Monthly reports": "Báo cáo hằng tháng",
    "E-mails that fall in your quiet hours (Vietnam time) wait until they end; none is "
    "dropped.": "Thư đến trong giờ không nhận thư (giờ Việt Nam) sẽ được gửi khi hết giờ đó; "
    "không thư nào bị bỏ.",
    "Overdue since %(when)s": "Quá hạn từ %(when)s",
    "Answer by %(when)s": "Hạn trả lời %(when)s",
    "Appeal sent to the district.": "Đã gửi đề nghị xem xét lại lên cấp huyện.",
    "Only the district decides appeals.": "Chỉ cấp huyện quyết định đề nghị xem xét lại.",
    "Only a low rating with a comment or a harassment report can be appealed.": "Chỉ đánh giá không hài lòng có ý kiến hoặc phản ánh bị gây phiền hà, sách nhiễu mới được đề nghị xem xét lại.",
    "This rating has been appealed already.": "Đánh giá này đã được đề nghị xem xét lại.",
    "There is no pending appeal for this rating.": "Đánh giá này không có đề nghị xem xét lại đang chờ.",
    "Why the rating is unfair": "Lý do đánh giá không khách quan",
    "Please give the reason for the appeal.": "Xin nêu lý do đề nghị xem xét lại.",
    "Appeal upheld by the district": "Cấp huyện chấp nhận đề nghị xem xét lại",
    "Appeal": "Đề nghị xem xét lại",
    "waiting for the district": "đang chờ cấp huyện",
    "upheld: left out of the figures": "được chấp nhận: không tính vào số liệu",
    "rejected: the rating counts": "không được chấp nhận: đánh giá vẫn được tính",
    "Uphold the appeal": "Chấp nhận",
    "Reject the appeal": "Không chấp nhận",
    "Appeal this rating as unfair": "Đề nghị xem xét lại đánh giá không khách quan",
    "Send the appeal to the district": "Gửi đề nghị lên cấp huyện",
}
