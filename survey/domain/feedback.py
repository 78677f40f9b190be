"""How far the handling of a citizen's comment has gone."""

from __future__ import annotations

import enum


class FeedbackStatus(enum.StrEnum):
    """mới → đang xử lý → đã phản hồi; stored as these values in ``response.feedback_status``."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
