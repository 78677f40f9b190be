"""No English on Vietnamese pages, and what assistive technology needs: labelled scrolling
regions, large download targets, a summary of a refused form that links to each question."""

from __future__ import annotations

import re

from tests.conftest import csrf_of
from tests.conftest import sign_in


def test_number_fields_explain_in_vietnamese(client, officers):
    sign_in(client, "laicach")
    token = csrf_of(client, "/units/HD-CG-LC/targets")
    reply = client.post(
        "/units/HD-CG-LC/targets",
        data={"csrf_token": token, "year": "abc", "percent": "chín mươi", "procedure_field": "x"},
    )
    html = reply.get_data(as_text=True)
    assert reply.status_code == 422
    assert "Not a valid" not in html
    assert "Vui lòng nhập một số, ví dụ 90 hoặc 92,5." in html
    assert "Vui lòng chọn một mục trong danh sách." in html


def test_page_titles_use_the_services_vietnamese_name(client, officers):
    sign_in(client, "laicach")
    html = client.get("/units/HD-CG-LC").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", html).group(1)
    assert "sipas" not in title.lower()
    assert title.endswith("Khảo sát mức độ hài lòng")


def test_dashboard_scroll_regions_are_focusable_and_named(client, officers):
    sign_in(client, "camgiang")
    for url in ("/units/HD-CG-LC", "/units/HD-CG"):
        html = client.get(url).get_data(as_text=True)
        regions = re.findall(r'<div class="scroll"[^>]*>', html)
        assert regions, url
        for region in regions:
            assert 'tabindex="0"' in region and 'role="region"' in region
            assert re.search(r'aria-label="[^"]+"', region)
        assert "report.docx" in html and "sep=comma" in html


def test_refused_citizen_form_lists_the_missing_questions(client, form_post):
    data = form_post(q_overall=None, q_access=None)
    html = client.post("/s/LC-01", data=data).get_data(as_text=True)
    notice = html.split('id="notice"')[1].split("</div>")[0]
    assert "data-focus-on-load" in notice and 'tabindex="-1"' in notice
    links = re.findall(r'<a href="#q-([a-z_]+)">', notice)
    assert set(links) == {"overall", "access"}
    for question in links:
        assert f'id="q-{question}"' in html
    assert "focus.js" in html
