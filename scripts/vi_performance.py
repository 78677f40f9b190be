"""Vietnamese for the strings added with the rollup (issue #8)."""

VI = {
    "Every commune has a single answer so far: a weighted interval cannot be estimated yet. "
    "See the pooled figure.": (
        "Mỗi xã mới có một câu trả lời: chưa thể ước lượng khoảng tin cậy có gia quyền. "
        "Xem tỷ lệ gộp (mọi phiếu như nhau)."
    ),
}
