"""Rendered charts, reports and spreadsheets are cached by the digest of what they show:
a repeated download is a cache hit with the same bytes, any change in the data is a new
file, and a broken cache never breaks a download."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import subprocess
import sys
from datetime import UTC
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from cachelib.serializers import FileSystemSerializer
from PIL import Image

from survey.data.models import DossierVolume
from survey.data.models import Unit
from survey.extensions import db
from survey.web.render_cache import Drawing
from survey.web.render_cache import counters
from survey.web.render_cache import digest
from tests.conftest import add_responses
from tests.conftest import csrf_of
from tests.conftest import sign_in

WHEN = datetime(2025, 3, 5, 3, tzinfo=UTC)  # in "2025-03" for calendar and 15th cut-off alike
COMMUNE = "/reports/HD-CG-LC/2025-03"
DISTRICT = "/reports/HD-CG/2025-03"
DOWNLOADS = [
    f"{COMMUNE}/chart.png",
    f"{COMMUNE}/chart.svg",
    f"{COMMUNE}/chart.pdf",
    f"{COMMUNE}/report.pdf",
    f"{COMMUNE}/report.docx",
    f"{COMMUNE}/report.xlsx",
    f"{COMMUNE}/report.csv",
    f"{DISTRICT}/chart.png",
    f"{DISTRICT}/report.pdf",
    f"{DISTRICT}/report.docx",
    f"{DISTRICT}/report.xlsx",
    f"{DISTRICT}/report.csv",
]


@pytest.fixture
def district(officers, client):
    add_responses(officers, "LC-01", WHEN, {"5": 40, "4": 8, "2": 3}, comment="Nhanh, gọn.")
    add_responses(officers, "CH-01", WHEN, {"5": 12, "1": 4})
    sign_in(client, "camgiang")
    return officers


def cache_files(app) -> list[Path]:
    """The cached files, without cachelib's file counter."""
    counter = hashlib.sha256(b"__wz_cache_count").hexdigest()
    return [p for p in Path(app.config["SURVEY_CACHE_DIR"]).iterdir() if p.name != counter]


def get(client, url: str) -> bytes:
    reply = client.get(url)
    assert reply.status_code == 200, url
    return reply.data


def test_a_repeated_download_is_a_hit_with_the_same_bytes(app, client, district):
    for n, url in enumerate(DOWNLOADS, start=1):
        first = get(client, url)
        assert counters(app) == {"hits": n - 1, "misses": n, "errors": 0}, url
        assert get(client, url) == first
        assert counters(app) == {"hits": n, "misses": n, "errors": 0}, url
    assert len(cache_files(app)) == len(DOWNLOADS)


def test_a_new_response_gives_a_new_file(app, client, district):
    before = get(client, f"{COMMUNE}/chart.png")
    before_csv = get(client, f"{DISTRICT}/report.csv")
    add_responses(district, "LC-02", WHEN, {"1": 5})
    after = get(client, f"{COMMUNE}/chart.png")
    after_csv = get(client, f"{DISTRICT}/report.csv")
    assert counters(app)["hits"] == 0
    assert after != before and after_csv != before_csv
    assert get(client, f"{COMMUNE}/chart.png") == after
    assert counters(app) == {"hits": 1, "misses": 4, "errors": 0}


def test_a_changed_target_gives_a_new_file(app, client, district):
    before = get(client, f"{COMMUNE}/chart.png")
    before_csv = get(client, f"{COMMUNE}/report.csv")
    token = csrf_of(client, "/units/HD-CG-LC/targets")
    reply = client.post(
        "/units/HD-CG-LC/targets",
        data={"csrf_token": token, "year": "2025", "procedure_field": "", "percent": "95"},
    )
    assert reply.status_code == 303
    after = get(client, f"{COMMUNE}/chart.png")
    assert after != before and get(client, f"{COMMUNE}/report.csv") != before_csv
    assert counters(app) == {"hits": 0, "misses": 4, "errors": 0}
    # The target line moved to 95%: the chart is the one drawn for it, not the old one.
    assert Image.open(io.BytesIO(after)).size == (1000, 500)


def test_changed_volumes_give_a_new_district_file(app, client, district):
    before = get(client, f"{DISTRICT}/report.csv")
    with app.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == "HD-CG-LC"))
        db.session.add(DossierVolume(unit_id=unit.id, month="2025-03", dossiers=500))
        db.session.commit()
    assert get(client, f"{DISTRICT}/report.csv") != before
    assert counters(app)["hits"] == 0


def test_another_language_gives_another_file(app, client, district):
    vietnamese = get(client, f"{COMMUNE}/report.csv?lang=vi")
    english = get(client, f"{COMMUNE}/report.csv?lang=en")
    assert english != vietnamese
    assert b"Satisfaction rate" in english
    assert get(client, f"{COMMUNE}/report.csv?lang=vi") == vietnamese
    assert get(client, f"{COMMUNE}/report.csv?lang=en") == english
    assert counters(app) == {"hits": 2, "misses": 2, "errors": 0}


def test_a_cache_folder_that_cannot_be_opened_still_serves_the_file(
    app, client, district, tmp_path
):
    not_a_folder = tmp_path / "cache-is-a-file"
    not_a_folder.write_text("")
    app.config["SURVEY_CACHE_DIR"] = str(not_a_folder)
    for url in (f"{COMMUNE}/chart.png", f"{COMMUNE}/chart.png", f"{DISTRICT}/report.xlsx"):
        assert get(client, url)
    assert Image.open(io.BytesIO(get(client, f"{COMMUNE}/chart.png"))).format == "PNG"
    assert counters(app)["hits"] == 0 and counters(app)["errors"] >= 1


def test_a_full_disk_still_serves_the_file(app, client, district, monkeypatch):
    def disk_full(self, value, f, protocol=None):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(FileSystemSerializer, "dump", disk_full)
    first = get(client, f"{COMMUNE}/report.pdf")
    assert first.startswith(b"%PDF")
    assert get(client, f"{COMMUNE}/report.pdf").startswith(b"%PDF")
    assert counters(app) == {"hits": 0, "misses": 2, "errors": 2}


def test_a_corrupt_entry_is_rendered_again(app, client, district):
    first = get(client, f"{COMMUNE}/chart.svg")
    for path in cache_files(app):
        path.write_bytes(b"\0\0\0\0not a pickle")
    assert get(client, f"{COMMUNE}/chart.svg") == first
    assert counters(app) == {"hits": 0, "misses": 2, "errors": 0}
    assert get(client, f"{COMMUNE}/chart.svg") == first  # stored again
    assert counters(app)["hits"] == 1


def test_a_failing_cache_object_still_serves_the_file(app, client, district, monkeypatch):
    from survey.web.render_cache import _FileCache

    def broken(*args, **kwargs):
        raise RuntimeError("cache exploded")

    get(client, f"{COMMUNE}/chart.svg")  # the cache is open
    monkeypatch.setattr(_FileCache, "get", broken)
    monkeypatch.setattr(_FileCache, "set", broken)
    assert get(client, f"{COMMUNE}/report.csv").startswith(b"\xef\xbb\xbf")
    assert counters(app) == {"hits": 0, "misses": 2, "errors": 2}


def test_cache_off(app, client, district):
    app.config["SURVEY_CACHE"] = False
    assert get(client, f"{COMMUNE}/report.csv") == get(client, f"{COMMUNE}/report.csv")
    assert counters(app) == {"hits": 0, "misses": 0, "errors": 0}
    assert not Path(app.config["SURVEY_CACHE_DIR"]).exists()


# The digest itself: plain data only, the same in every process.

DATA = {
    "rows": [(1, "Hài lòng", 0.914, None, True, datetime(2025, 3, 5, 3, tzinfo=UTC))],
    "columns": frozenset({"a", "b", "c", "d"}),
}


def test_digest_is_the_same_for_the_same_data():
    assert digest(DATA) == digest({"columns": frozenset("dcba"), "rows": [list(DATA["rows"][0])]})
    assert digest(0.5) == digest(np.float64(0.5)) == digest(np.float32(0.5))
    assert digest(3) == digest(np.int64(3))
    assert digest(1) != digest(1.0) != digest(True)
    assert digest(0.1 + 0.2) != digest(0.3)  # floats by their repr, exactly
    assert digest(["ab", "c"]) != digest(["a", "bc"])


def test_digest_is_the_same_in_another_process():
    code = f"import datetime\nfrom survey.web.render_cache import digest\nprint(digest({DATA!r}))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=root
    )
    assert out.stdout.strip() == digest(DATA)


def test_digest_refuses_objects_without_plain_text():
    from matplotlib.figure import Figure

    from survey.render import charts

    with pytest.raises(TypeError, match="object is not plain data"):
        digest([object()])
    with pytest.raises(TypeError, match="Figure is not plain data"):
        digest(Figure())
    args = ([], [], "T")
    assert digest(Drawing(charts.trend_chart, args)) == digest(Drawing(charts.trend_chart, args))
    assert digest(Drawing(charts.trend_chart, args)) != digest(Drawing(charts.funnel_chart, args))
