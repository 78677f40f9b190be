"""Fixtures: the app on SQLite and on a throwaway PostgreSQL server, a client,
a CLI runner, a live server and a headless Chromium.

Every test that uses ``app`` runs twice, once per database. Each test gets a
fresh database cloned from one that the real Alembic migrations built.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings

# The app reads its settings from the environment; tests never touch the
# developer's instance/ folder or secret.
os.environ["SURVEY_ENV"] = "testing"
os.environ["SURVEY_SECRET_KEY"] = "test-secret-" + uuid.uuid4().hex
# Production-cost password hashing buys nothing in tests, which create hundreds
# of officers; the hash format and its checking are the same at any cost.
os.environ["SURVEY_PASSWORD_HASH"] = "scrypt:1024:8:1"
# The rollup's counting thread is off: a test's reads include the responses still
# waiting (survey/data/rollup.py), and tests that count them say when
# (rollup.count_waiting). tests/test_counting.py runs the thread itself.
os.environ["SURVEY_ROLLUP_BACKGROUND"] = "0"

from survey import create_app  # noqa: E402
from survey.extensions import db  # noqa: E402
from tests.pg_server import PostgresServer  # noqa: E402

IN_CI = os.environ.get("CI") == "true"

# In CI the property-based tests draw the same examples every run, so a run
# fails for a change in the code, never for a lucky draw; locally they explore.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if IN_CI else "dev")
ARTIFACTS = Path(__file__).parent / "artifacts"


def skip_or_fail(reason: str) -> None:
    """Skip locally when a tool is missing; in CI a missing tool is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} — CI must run this test, not skip it")
    pytest.skip(reason)


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_server():
    try:
        server = PostgresServer().start()
    except (FileNotFoundError, OSError) as exc:
        skip_or_fail(f"PostgreSQL server unavailable: {exc}")
    base = server.url.rsplit("/", 1)[0]
    admin = sa.create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("CREATE DATABASE survey_template"))
    _migrate(f"{base}/survey_template")
    server.admin = admin
    server.base = base
    yield server
    admin.dispose()
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, migrated database for one test, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "survey.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("pg_server")
    name = "t_" + uuid.uuid4().hex[:12]
    with server.admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE survey_template"))
    yield f"{server.base}/{name}"
    with server.admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SURVEY_PUBLIC_BASE_URL": "https://khaosat.example.vn",
            "SURVEY_DEMO": True,
            # Rendered downloads are cached per test, never in instance/.
            "SURVEY_CACHE_DIR": str(tmp_path / "render-cache"),
            # Tests post many ratings from one test client (one phone); the
            # replacement of a phone's earlier rating is tested where it is on
            # (tests/web/test_one_rating.py).
            "SURVEY_REPLACE_MINUTES": 0,
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def demo_units(app):
    """The demo province, district, communes and desks, without responses."""
    from survey.cli import demo
    from survey.data.queries import ensure_questionnaire

    with app.app_context():
        ensure_questionnaire()
        demo.load_units_and_desks()
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_HIDDEN = re.compile(r'<input id="(\w+)" name="\w+" type="hidden" value="([^"]*)">')


def statements_during(app, action) -> list[str]:
    """The SQL statements the app's engine runs while ``action()`` runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return seen


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a served form (CSRF token, submission id, version)."""
    return dict(_HIDDEN.findall(html))


# The procedure fields (lĩnh vực) the issue requires, as citizens read them.
REQUIRED_FIELDS_VI = [
    "Hộ tịch",
    "Chứng thực",
    "Đất đai",
    "Xây dựng",
    "Đầu tư",
    "Lao động – Thương binh – Xã hội",
    "Kinh doanh hộ gia đình",
    "Khác",
]

VALID_ANSWERS = {
    "q_field": "dat_dai",
    "q_access": "4",
    "q_procedure": "5",
    "q_official": "5",
    "q_result": "3",
    "q_feedback": "na",
    "q_overall": "4",
    "q_wait": "15to30",
    "q_visits": "1",
    "q_trouble": "no",
    "q_comment": "Cán bộ nhiệt tình.",
}


@pytest.fixture
def form_post(client, demo_units):
    """GET a desk's form, then return its hidden fields merged with valid answers."""

    def make(desk_code: str = "LC-01", **changes) -> dict[str, str]:
        page = client.get(f"/s/{desk_code}")
        assert page.status_code == 200
        data = {**hidden_fields(page.get_data(as_text=True)), **VALID_ANSWERS}
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        return data

    return make


@pytest.fixture
def live_server(demo_units):
    """The app served over real HTTP on a loopback port, in a thread."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, demo_units, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    thread.join(timeout=5)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium from Debian, driven by Playwright."""
    if not os.path.exists(CHROMIUM):
        skip_or_fail("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    """A fresh browser page at a cheap Android phone's viewport (360×740)."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="vi-VN",
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def add_responses(
    app,
    desk_code: str,
    when,
    ratings: dict[str, int],
    *,
    field: str = "ho_tich",
    comment: str | None = None,
    channel: str = "qr",
    served_by_id: int | None = None,
) -> None:
    """Store responses whose overall answer is each key of ``ratings``, that many times.

    Every SIPAS element gets the same answer as the overall question.
    """
    from survey.data.models import Answer
    from survey.data.models import Desk
    from survey.data.models import SurveyResponse
    from survey.data.queries import current_questionnaire

    with app.app_context():
        desk = db.session.scalar(sa.select(Desk).where(Desk.code == desk_code))
        questionnaire = current_questionnaire()
        for value, count in ratings.items():
            for _ in range(count):
                answers = {
                    q: value
                    for q in ("access", "procedure", "official", "result", "feedback", "overall")
                }
                answers.update(field=field, wait="lt15", visits="1", trouble="no")
                db.session.add(
                    SurveyResponse(
                        submission_id=str(uuid.uuid4()),
                        unit_id=desk.unit_id,
                        desk_id=desk.id,
                        questionnaire_id=questionnaire.id,
                        submitted_at=when,
                        procedure_field=field,
                        comment=comment,
                        language="vi",
                        channel=channel,
                        served_by_id=served_by_id,
                        answers=[Answer(question_id=k, value=v) for k, v in answers.items()],
                    )
                )
        db.session.commit()


@pytest.fixture
def officers(demo_units):
    """Demo units plus the demo officers ``laicach`` (commune) and ``camgiang`` (district),
    an officer of another district, and an administrator."""
    from survey.cli import demo
    from survey.data.models import Officer
    from survey.data.models import Unit
    from survey.officers.accounts import hash_password

    with demo_units.app_context():
        demo.load_officers()
        province = db.session.scalar(sa.select(Unit).where(Unit.code == "HD"))
        other = Unit(code="HD-BG", name="Huyện Bình Giang", level="district", parent=province)
        other_commune = Unit(code="HD-BG-KS", name="Thị trấn Kẻ Sặt", level="commune", parent=other)
        db.session.add_all([other, other_commune])
        db.session.flush()
        db.session.add_all(
            [
                Officer(
                    username="binhgiang",
                    full_name="Phòng Nội vụ Bình Giang",
                    role="district",
                    unit_id=other.id,
                    password_hash=hash_password("binhgiang-pass"),
                ),
                Officer(
                    username="quantri",
                    full_name="Quản trị",
                    role="admin",
                    password_hash=hash_password("quantri-pass"),
                ),
            ]
        )
        db.session.commit()
    return demo_units


PASSWORDS = {
    "laicach": "demo-laicach",
    "camgiang": "demo-camgiang",
    "binhgiang": "binhgiang-pass",
    "quantri": "quantri-pass",
}


def csrf_of(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client, username: str, password: str | None = None):
    token = csrf_of(client, "/login")
    return client.post(
        "/login",
        data={
            "csrf_token": token,
            "username": username,
            "password": password or PASSWORDS[username],
        },
    )


def pytest_collection_modifyitems(config, items) -> None:
    """Mark what each test pays for, so a developer can run the quick part alone:
    ``pytest -m "not slow and not postgres and not browser"``. CI runs them all."""
    for item in items:
        params = getattr(item, "callspec", None)
        if params is not None and params.params.get("database_url") == "postgresql":
            item.add_marker(pytest.mark.postgres)
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & {"browser", "phone"}:
            item.add_marker(pytest.mark.browser)
        if fixtures & {"live_server", "browser", "phone"} or "reliability" in item.nodeid:
            item.add_marker(pytest.mark.slow)
