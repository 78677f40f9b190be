"""Vietnamese for the district figure's weights and notes (see scripts/apply_translations.py)."""

VI = {
    "%(unit)s: no dossier count for %(months)s; those months are counted at the commune's average month of the period (%(n)d dossiers in all).": "%(unit)s: chưa có số hồ sơ tháng %(months)s; các tháng này được tính bằng số hồ sơ bình quân một tháng của xã trong kỳ (tổng cộng %(n)d hồ sơ).",
    "%(unit)s: no dossier count in the period; weighted at the district's ratio of dossiers to answers (about %(n)d dossiers).": "%(unit)s: chưa có số hồ sơ nào trong kỳ; được gia quyền theo tỷ lệ hồ sơ trên phiếu chung của huyện (khoảng %(n)d hồ sơ).",
    "%(unit)s: %(dossiers)d dossiers entered but %(answers)d answers received; counted as %(answers)d.": "%(unit)s: số hồ sơ nhập là %(dossiers)d nhưng đã nhận %(answers)d phiếu; tính là %(answers)d.",
    "%(unit)s: no answers in the period, so not in the district figure.": "%(unit)s: chưa có phiếu trong kỳ nên không tính vào tỷ lệ chung.",
    "Every commune has a single answer so far: a weighted interval cannot be estimated yet. The pooled figure is shown instead.": "Mỗi xã mới có một phiếu: chưa thể ước lượng khoảng tin cậy có gia quyền. Tỷ lệ gộp được hiển thị thay thế.",
    "Every dossier was rated: the figure is exact.": "Mọi hồ sơ đều đã được đánh giá: tỷ lệ là chính xác.",
    "A commune with a single answer: its spread is taken from the district's rate.": "Có xã chỉ có một phiếu: độ dao động của xã đó được lấy theo tỷ lệ chung của huyện.",
    "Every commune is at 0 % or 100 %: the interval uses the number of answers.": "Mọi xã đều ở mức 0 % hoặc 100 %: khoảng tin cậy tính theo số phiếu.",
    "No dossier counts were entered for this period: the district figure is the pooled one (every answer counts equally).": "Chưa nhập số hồ sơ của kỳ này: tỷ lệ chung của huyện là tỷ lệ gộp (mọi phiếu được tính như nhau).",
    "Each commune is weighted by the dossiers it handled in the period; some counts are estimated (see the notes).": "Mỗi xã được gia quyền theo số hồ sơ đã giải quyết trong kỳ; một số số liệu được ước tính (xem ghi chú).",
    "District figure (pooled: every answer counts equally)": "Tỷ lệ chung của huyện (gộp: mọi phiếu tính như nhau)",
    "Comments": "Góp ý",
    "Note": "Ghi chú",
    "the volumes of %(code)s are entered by its district": "số hồ sơ của %(code)s do huyện nhập",
    "%(dossiers)d dossiers is fewer than the %(responses)d responses already received (confirm to save it anyway)": "%(dossiers)d hồ sơ ít hơn %(responses)d phiếu đã nhận (đánh dấu xác nhận nếu vẫn muốn lưu)",
    "%(dossiers)d dossiers is far above the usual %(usual)d a month (confirm to save it anyway)": "%(dossiers)d hồ sơ cao hơn nhiều so với mức thường có %(usual)d hồ sơ một tháng (đánh dấu xác nhận nếu vẫn muốn lưu)",
    "These volumes weight the district figure, so they are entered by the district.": "Số hồ sơ là trọng số của tỷ lệ chung của huyện nên do huyện nhập.",
    "I have checked these figures: save them even if they look unusual": "Tôi đã kiểm tra các số liệu này: vẫn lưu dù chúng có vẻ bất thường",
}
