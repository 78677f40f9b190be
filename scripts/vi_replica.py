"""Vietnamese for the read replica's notice (survey/web/replica.py)."""

VI = {
    "Figures as of %(time)s: the copy of the database used for reports is catching up.": (
        "Số liệu cập nhật đến %(time)s: bản sao cơ sở dữ liệu dùng cho báo cáo đang được đồng bộ."
    ),
}
