"""QR posters (one desk, or every desk of a unit), and retired desk codes."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import sqlalchemy as sa

from survey.data.models import Desk
from survey.extensions import db
from tests.conftest import hidden_fields
from tests.conftest import sign_in
from tests.conftest import skip_or_fail

INSTRUCTION = "Quét mã để đánh giá mức độ hài lòng của Ông/Bà"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        skip_or_fail(f"{name} is not installed (apt-get install poppler-utils zbar-tools)")
    return path


def pdf_info(pdf: bytes, tmp_path) -> dict[str, str]:
    path = tmp_path / "info.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([_tool("pdfinfo"), str(path)], capture_output=True, text=True, timeout=30)
    return dict(line.split(":", 1) for line in out.stdout.splitlines() if ":" in line)


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        [_tool("pdftotext"), "-layout", str(path), "-"], capture_output=True, text=True, timeout=30
    )
    return out.stdout


def decode_pages(pdf: bytes, tmp_path, artifact=None) -> list[str]:
    """Render every page to PNG (pdftoppm) and decode its QR code with zbar."""
    path = tmp_path / "poster.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        [_tool("pdftoppm"), "-png", "-r", "100", str(path), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    urls = []
    for png in sorted(tmp_path.glob("page-*.png")):
        out = subprocess.run(
            [_tool("zbarimg"), "--quiet", "--raw", str(png)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.returncode == 0, f"no QR code found on {png.name}"
        urls.append(out.stdout.strip())
        if artifact is not None:
            shutil.copy(png, artifact.parent / f"{artifact.stem}-{png.stem}.png")
    return urls


@pytest.mark.parametrize("size, mm", [("A4", (210, 297)), ("A5", (148, 210))])
def test_desk_poster_prints_and_scans(client, demo_units, tmp_path, artifacts, size, mm):
    reply = client.get(f"/s/LC-01/poster.pdf?size={size.lower()}")
    assert reply.status_code == 200
    assert reply.mimetype == "application/pdf"
    info = pdf_info(reply.data, tmp_path)
    assert info["Pages"].strip() == "1"
    width, _x, height = info["Page size"].split()[:3]
    assert (float(width), float(height)) == pytest.approx(
        (mm[0] * 72 / 25.4, mm[1] * 72 / 25.4), abs=0.5
    )
    text = " ".join(pdf_text(reply.data, tmp_path).split())
    for expected in (
        "Thị trấn Lai Cách",
        "Bàn 1 – Hộ tịch, chứng thực",
        INSTRUCTION.split(" của")[0],  # may wrap before "của Ông/Bà"
        "Ông/Bà",
        "khaosat.example.vn/s/LC-01",
        "KHẢO SÁT MỨC ĐỘ HÀI LÒNG",
        "Xem kết quả: khaosat.example.vn/results/HD-CG-LC",  # the published results
    ):
        assert expected in text, expected
    urls = decode_pages(reply.data, tmp_path, artifacts / f"poster-LC-01-{size}.png")
    assert urls == ["https://khaosat.example.vn/s/LC-01"]


def test_poster_size_and_desk_are_checked(client, demo_units):
    assert client.get("/s/LC-01/poster.pdf?size=A3").status_code == 400
    assert client.get("/s/NOPE/poster.pdf").status_code == 404


def test_unit_posters_need_sign_in_and_visibility(app, officers, tmp_path):
    anonymous = app.test_client()
    assert anonymous.get("/units/HD-CG/posters.pdf").status_code in (302, 401)
    commune = app.test_client()
    sign_in(commune, "laicach")
    assert commune.get("/units/HD-CG/posters.pdf").status_code == 404
    own = commune.get("/units/HD-CG-LC/posters.pdf?size=A5")
    assert own.status_code == 200
    assert pdf_info(own.data, tmp_path)["Pages"].strip() == "2"
    district = app.test_client()
    sign_in(district, "camgiang")
    every = district.get("/units/HD-CG/posters.pdf")
    assert every.status_code == 200
    urls = decode_pages(every.data, tmp_path)
    assert sorted(u.rsplit("/", 1)[1] for u in urls) == [
        "CA-01",
        "CGI-01",
        "CH-01",
        "LC-01",
        "LC-02",
        "LD-01",
        "TT-01",
        "TT-02",
    ]
    assert district.get("/units/HD-CG-LC/posters.pdf?size=B5").status_code == 400


def test_cli_prints_every_poster_of_a_unit(runner, demo_units, tmp_path):
    output = tmp_path / "posters.pdf"
    result = runner.invoke(
        args=["survey", "posters", "HD-CG-TT", "--size", "a5", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert "2 posters of Xã Tân Trường written to" in result.output
    assert decode_pages(output.read_bytes(), tmp_path) == [
        "https://khaosat.example.vn/s/TT-01",
        "https://khaosat.example.vn/s/TT-02",
    ]
    bad = runner.invoke(args=["survey", "posters", "ZZ", "--output", str(output)])
    assert bad.exit_code != 0 and "No unit with code ZZ" in bad.output


def test_retired_desk_forwards_to_its_replacement(app, client, runner, demo_units):
    add = runner.invoke(
        args=["survey", "add-desk", "LC-03", "Bàn 3 – Một cửa", "--unit", "HD-CG-LC"]
    )
    assert add.exit_code == 0, add.output
    page = client.get("/s/LC-02")
    data = hidden_fields(page.get_data(as_text=True))
    result = runner.invoke(args=["survey", "retire-desk", "lc-02", "--replaced-by", "LC-03"])
    assert result.exit_code == 0, result.output
    assert "forwards to https://khaosat.example.vn/s/LC-03" in result.output

    reply = client.get("/s/LC-02?lang=en&t=ABCDEFGH")
    assert reply.status_code == 302
    assert reply.headers["Location"].startswith("/s/LC-03?")
    assert "t=ABCDEFGH" in reply.headers["Location"]
    assert client.get("/s/LC-02/qr.png").headers["Location"] == "/s/LC-03/qr.png"
    # A form opened before the change is still accepted: its post is forwarded.
    post = client.post("/s/LC-02", data=data)
    assert post.status_code == 307 and post.headers["Location"] == "/s/LC-03"
    # The replacement's own poster works; the old one forwards to it.
    assert client.get("/s/LC-02/poster.pdf").headers["Location"] == "/s/LC-03/poster.pdf"

    app.config["SURVEY_FORWARD_RETIRED_DESKS"] = False
    polite = client.get("/s/LC-02")
    html = polite.get_data(as_text=True)
    assert polite.status_code == 410
    assert "Mã này không còn được sử dụng" in html
    assert 'href="/s/LC-03"' in html


def test_retire_desk_without_replacement_and_errors(app, client, runner, demo_units):
    result = runner.invoke(args=["survey", "retire-desk", "TT-02"])
    assert result.exit_code == 0, result.output
    reply = client.get("/s/TT-02")
    assert reply.status_code == 410
    assert "Vui lòng quét mã mới tại bàn tiếp nhận." in reply.get_data(as_text=True)
    for args, message in [
        (["retire-desk", "ZZ-1"], "No desk with code ZZ-1"),
        (["retire-desk", "TT-01", "--replaced-by", "TT-02"], "another, active desk"),
        (["retire-desk", "TT-01", "--replaced-by", "TT-01"], "another, active desk"),
    ]:
        bad = runner.invoke(args=["survey", *args])
        assert bad.exit_code != 0 and message in bad.output
    with app.app_context():
        assert db.session.scalar(sa.select(Desk).where(Desk.code == "TT-01")).active
