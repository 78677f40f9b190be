"""Demo data: Cẩm Giàng district of Hải Dương, its communes and desks,
and optionally a year of synthetic responses with realistic rates.

Loading is idempotent: units and desks are matched by code, and responses are
generated only when the database has none.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import sqlalchemy as sa

from survey.data.models import Answer
from survey.data.models import Desk
from survey.data.models import SurveyResponse
from survey.data.models import Unit
from survey.data.queries import current_questionnaire
from survey.data.queries import definition_of
from survey.domain.channels import Channel
from survey.extensions import db

PROVINCE = ("HD", "Tỉnh Hải Dương")
DISTRICT = ("HD-CG", "Huyện Cẩm Giàng")
# (code, name, desks, typical satisfaction rate of its citizens)
COMMUNES = [
    (
        "HD-CG-LC",
        "Thị trấn Lai Cách",
        [("LC-01", "Bàn 1 – Hộ tịch, chứng thực"), ("LC-02", "Bàn 2 – Đất đai, xây dựng")],
        0.95,
    ),
    ("HD-CG-CGI", "Thị trấn Cẩm Giang", [("CGI-01", "Bộ phận Một cửa")], 0.92),
    ("HD-CG-CH", "Xã Cẩm Hưng", [("CH-01", "Bộ phận Một cửa")], 0.88),
    ("HD-CG-CA", "Xã Cao An", [("CA-01", "Bộ phận Một cửa")], 0.90),
    ("HD-CG-TT", "Xã Tân Trường", [("TT-01", "Bàn 1"), ("TT-02", "Bàn 2")], 0.86),
    ("HD-CG-LD", "Xã Lương Điền", [("LD-01", "Bộ phận Một cửa")], 0.97),
]
DEMO_COMMENTS = [
    "Cán bộ hướng dẫn nhiệt tình, chu đáo.",
    "Phải chờ lâu, đề nghị bố trí thêm ghế ngồi.",
    "Hồ sơ đất đai trả chậm hơn hẹn 3 ngày.",
    "Nên có thêm hướng dẫn trên mạng để chuẩn bị hồ sơ trước.",
    "Rất hài lòng, thủ tục nhanh gọn.",
    "Phải đi lại 2 lần vì thiếu giấy tờ mà lần đầu không được hướng dẫn.",
]


def _upsert_unit(code: str, name: str, level: str, parent: Unit | None) -> Unit:
    unit = db.session.scalar(sa.select(Unit).where(Unit.code == code))
    if unit is None:
        unit = Unit(code=code, name=name, level=level, parent=parent)
        db.session.add(unit)
    return unit


def load_units_and_desks() -> None:
    """Create the demo province, district, communes and desks that are missing."""
    province = _upsert_unit(*PROVINCE, "province", None)
    district = _upsert_unit(*DISTRICT, "district", province)
    for code, name, desks, _rate in COMMUNES:
        commune = _upsert_unit(code, name, "commune", district)
        db.session.flush()
        for desk_code, desk_name in desks:
            if db.session.scalar(sa.select(Desk).where(Desk.code == desk_code)) is None:
                db.session.add(Desk(code=desk_code, name=desk_name, unit=commune))
    db.session.commit()


# Published in the README; they work only while SURVEY_DEMO is on.
DEMO_OFFICERS = [
    ("laicach", "demo-laicach", "Công chức Văn phòng – Thống kê (Lai Cách)", "commune", "HD-CG-LC"),
    ("camgiang", "demo-camgiang", "Phòng Nội vụ huyện Cẩm Giàng", "district", "HD-CG"),
]


def load_officers() -> None:
    """Create the demo officer accounts that are missing."""
    from survey.data.models import Officer
    from survey.officers.accounts import hash_password

    for username, password, full_name, role, unit_code in DEMO_OFFICERS:
        if db.session.scalar(sa.select(Officer).where(Officer.username == username)):
            continue
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == unit_code))
        db.session.add(
            Officer(
                username=username,
                full_name=full_name,
                password_hash=hash_password(password),
                role=role,
                unit_id=unit.id,
                is_demo=True,
            )
        )
    # The plans count the months from the 15th to the 14th (reports are due by the
    # 15th): one calendar for the whole province, so every page agrees on the dates.
    for unit in db.session.scalars(sa.select(Unit).where(Unit.code.startswith("HD"))):
        unit.report_cutoff_day = 15
    db.session.commit()


def _likert(rng: random.Random, satisfied_rate: float) -> str:
    if rng.random() < 0.03:
        return "na"
    if rng.random() < satisfied_rate:
        return "5" if rng.random() < 0.45 else "4"
    return rng.choice(["3", "3", "2", "1"])


#: The demo's mix of channels: mostly the desk's QR code.
DEMO_CHANNELS = (Channel.QR, Channel.KIOSK, Channel.PAPER, Channel.INTERVIEW)
DEMO_CHANNEL_WEIGHTS = (65, 20, 10, 5)


def load_responses(
    months: int = 12,
    per_month: tuple[int, int] = (30, 90),
    seed: int = 2024,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Add synthetic responses over the past ``months`` unless any response exists.

    Returns how many responses were added.
    """
    if db.session.scalar(sa.select(sa.func.count(SurveyResponse.id))):
        return 0
    rng = random.Random(seed)  # nosec B311  # reproducible synthetic demo data, not a secret
    # Channels from their own stream, so the answers stay those of earlier demo data.
    channel_rng = random.Random(seed + 1)  # nosec B311
    questionnaire = current_questionnaire()
    definition = definition_of(questionnaire)
    now = now or datetime.now(UTC)
    added = 0
    for code, _name, desk_specs, base_rate in COMMUNES:
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == code))
        desks = [db.session.scalar(sa.select(Desk).where(Desk.code == d)) for d, _ in desk_specs]
        for month_back in range(months):
            rate = min(0.995, max(0.6, base_rate + rng.gauss(0, 0.025)))
            for _ in range(rng.randint(*per_month)):
                desk = rng.choice(desks)
                when = now - timedelta(days=30 * month_back + rng.random() * 30)
                channel = channel_rng.choices(DEMO_CHANNELS, DEMO_CHANNEL_WEIGHTS)[0]
                # In front of the officer people rate a little higher (a mode effect).
                lift = 0.03 if channel in (Channel.KIOSK, Channel.INTERVIEW) else 0.0
                answers = {}
                for q in definition.answer_questions:
                    if q.type == "scale":
                        answers[q.id] = _likert(rng, min(0.995, rate + lift))
                    elif q.role == "procedure_field":
                        answers[q.id] = rng.choice(
                            ["ho_tich"] * 4
                            + ["chung_thuc"] * 4
                            + ["dat_dai"] * 2
                            + ["xay_dung", "dau_tu", "ldtbxh", "ldtbxh", "kinh_doanh", "khac"]
                        )
                    elif q.id == "wait":
                        answers[q.id] = rng.choice(
                            ["lt15"] * 6 + ["15to30"] * 3 + ["30to60", "gt60"]
                        )
                    elif q.id == "visits":
                        answers[q.id] = rng.choice(["1"] * 8 + ["2", "3plus"])
                    elif q.id == "trouble":
                        answers[q.id] = (
                            "yes" if rng.random() < 0.02 else rng.choice(["no"] * 20 + ["na"])
                        )
                    else:
                        answers[q.id] = rng.choice(q.values())
                comment = rng.choice(DEMO_COMMENTS) if rng.random() < 0.08 else None
                db.session.add(
                    SurveyResponse(
                        submission_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        unit_id=unit.id,
                        desk_id=desk.id,
                        questionnaire_id=questionnaire.id,
                        submitted_at=when,
                        procedure_field=answers.get("field"),
                        comment=comment,
                        language="vi",
                        channel=channel.value,
                        answers=[Answer(question_id=k, value=v) for k, v in answers.items()],
                    )
                )
                added += 1
            db.session.flush()
            if progress:
                progress(added)
    db.session.commit()
    load_volumes(now=now, months=months, seed=seed)
    return added


def load_volumes(now: datetime | None = None, months: int = 12, seed: int = 2024) -> None:
    """Dossier volumes for the demo communes: a few times their number of responses.

    The month two months back is left empty on purpose, so the district page
    shows how it falls back to response counts and says so.
    """
    from survey.data.models import DossierVolume
    from survey.domain.periods import last_months
    from survey.domain.periods import period_containing

    rng = random.Random(seed + 1)  # nosec B311  # reproducible synthetic demo data
    now = now or datetime.now(UTC)
    for code, *_ in COMMUNES:
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == code))
        current = period_containing(now.date(), "month", unit.report_cutoff_day)
        for index, month in enumerate(last_months(current, months)):
            if index == months - 3:
                continue
            start, end = month.utc_bounds()
            responses = db.session.scalar(
                sa.select(sa.func.count(SurveyResponse.id)).where(
                    SurveyResponse.unit_id == unit.id,
                    SurveyResponse.submitted_at >= start,
                    SurveyResponse.submitted_at < end,
                )
            )
            exists = db.session.scalar(
                sa.select(DossierVolume.id).where(
                    DossierVolume.unit_id == unit.id,
                    DossierVolume.month == month.code,
                    DossierVolume.procedure_field == "",
                )
            )
            if exists is None:
                dossiers = max(responses, 1) * rng.randint(3, 9)
                db.session.add(
                    DossierVolume(
                        unit_id=unit.id, month=month.code, dossiers=dossiers, source="demo"
                    )
                )
    db.session.commit()
