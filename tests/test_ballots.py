"""Paper ballots without the app: serials and their check character, the keys of each
question, reading what was typed, and the printable PDF."""

from __future__ import annotations

import re
import string
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.domain import ballots
from survey.domain.questionnaire import latest_bundled
from survey.domain.questionnaire import parse
from survey.render.ballots import Ballot
from survey.render.ballots import BallotQuestion
from survey.render.ballots import BallotSheet
from survey.render.ballots import render_ballots

DEFINITION = parse(latest_bundled())
ALNUM = string.digits + string.ascii_uppercase
desk_codes = st.from_regex(r"[A-Z]{1,4}-[0-9]{2}", fullmatch=True)
sequences = st.integers(min_value=1, max_value=ballots.MAX_SEQ)
# A printed ballot's desk code and number (about one number in 37 has no check character).
printed = st.tuples(desk_codes, sequences).filter(
    lambda pair: ballots.usable(ballots.serial_body(*pair))
)


@given(printed)
def test_a_printed_serial_reads_back_however_the_hyphens_are_typed(pair):
    code, seq = pair
    serial = ballots.make_serial(code, seq)
    key = ballots.key_of(serial)
    assert ballots.parse_typed(serial) == key
    assert ballots.parse_typed(key.lower()) == key
    assert ballots.parse_typed(f"  {serial.replace('-', ' ')} ") == key
    assert ballots.parse_typed(f"https://khaosat.example.vn/p/{serial}") == key


@given(printed, st.data())
def test_every_mistyped_character_is_caught(pair, data):
    code, seq = pair
    key = ballots.key_of(ballots.make_serial(code, seq))
    at = data.draw(st.integers(0, len(key) - 1))
    other = data.draw(st.sampled_from([c for c in ALNUM if c != key[at]]))
    typo = key[:at] + other + key[at + 1 :]
    with pytest.raises(ballots.SerialError) as refused:
        ballots.parse_typed(typo)
    assert refused.value.reason == "check"


@given(printed, st.data())
def test_every_swap_of_two_neighbours_is_caught(pair, data):
    code, seq = pair
    key = ballots.key_of(ballots.make_serial(code, seq))
    swaps = [i for i in range(len(key) - 1) if key[i] != key[i + 1]]
    at = data.draw(st.sampled_from(swaps))
    swapped = key[:at] + key[at + 1] + key[at] + key[at + 2 :]
    assert not ballots.is_valid_key(swapped)


def test_a_serial_too_short_or_empty_is_refused_with_its_reason():
    for typed, reason in (("", "empty"), ("--", "empty"), ("LC01", "short")):
        with pytest.raises(ballots.SerialError) as refused:
            ballots.parse_typed(typed)
        assert refused.value.reason == reason


def test_a_number_without_a_check_character_is_never_made():
    skipped = [n for n in range(1, 200) if not ballots.usable(ballots.serial_body("LC-01", n))]
    assert skipped  # about one in 37
    for n in skipped:
        with pytest.raises(ValueError):
            ballots.make_serial("LC-01", n)


def test_sequences_beyond_five_digits_are_not_printed():
    with pytest.raises(ValueError):
        ballots.make_serial("LC-01", ballots.MAX_SEQ + 1)
    with pytest.raises(ValueError):
        ballots.make_serial("LC-01", 0)


def test_the_same_ballot_always_has_the_same_submission_id():
    key = ballots.key_of(ballots.make_serial("LC-01", 5))
    assert ballots.submission_id(key) == ballots.submission_id(key)
    assert ballots.submission_id(key) != ballots.submission_id(
        ballots.key_of(ballots.make_serial("LC-01", 6))
    )
    assert len(ballots.submission_id(key)) == 36  # the response's submission_id column


def test_keys_are_the_printed_numbers_and_zero_for_no_opinion():
    scale = DEFINITION.question("overall")
    assert ballots.keys_of(scale) == {
        "1": "1",
        "2": "2",
        "3": "3",
        "4": "4",
        "5": "5",
        "0": "na",
        "n": "na",
    }
    assert ballots.printed_numbers(scale)[-1] == ("0", "na")
    visits = DEFINITION.question("visits")
    assert ballots.keys_of(visits) == {"1": "1", "2": "2", "3": "3plus"}  # no "no opinion"
    field = DEFINITION.question("field")
    assert ballots.keys_of(field)["8"] == "khac"
    # Every coded question can be answered with one key.
    assert all(ballots.keys_of(q) for q in ballots.ballot_questions(DEFINITION))


def test_reading_a_typed_ballot():
    typed = {
        "field": "3",
        "access": "4",
        "procedure": "N",
        "official": "5",
        "result": "3",
        "feedback": "0",
        "overall": "4",
        "wait": "lt15",  # the value itself is taken too
        "visits": "1",
        "trouble": "n",
    }
    answers, problems = ballots.read_answers(DEFINITION, typed)
    assert problems == []
    assert answers["field"] == "dat_dai" and answers["procedure"] == "na"
    assert answers["wait"] == "lt15" and answers["trouble"] == "na"
    answers, problems = ballots.read_answers(DEFINITION, {**typed, "overall": "", "visits": "9"})
    assert "overall" not in answers and "visits" not in answers
    assert problems == [
        ballots.EntryProblem("overall", "missing"),
        ballots.EntryProblem("visits", "invalid", "9"),
    ]


def _sheet() -> BallotSheet:
    questions = []
    for number, q in enumerate(ballots.ballot_questions(DEFINITION), start=1):
        labels = {o.value: o.label["vi"] for o in q.options}
        if q.no_opinion:
            labels[q.no_opinion.value] = q.no_opinion.label["vi"]
        boxes = tuple((k, labels[v]) for k, v in ballots.printed_numbers(q))
        questions.append(BallotQuestion(number, q.text["vi"], boxes, grid=q.type == "scale"))
    return BallotSheet(
        title=DEFINITION.title["vi"],
        unit_name="Thị trấn Lai Cách",
        desk_name="Bàn 1 – Hộ tịch, chứng thực",
        intro=DEFINITION.intro["vi"],
        instruction="Đánh dấu ✗ vào một ô cho mỗi câu.",
        serial_label="Số phiếu",
        scale_prompt="Ông/Bà hài lòng thế nào về:",
        questions=tuple(questions),
        comment_label="Góp ý, phản ánh hoặc kiến nghị (không bắt buộc)",
        footer="Phiếu không ghi tên.",
    )


@pytest.mark.parametrize("layout, count, pages", [("a4x2", 3, 2), ("a5", 3, 3), ("a4x2", 1, 1)])
def test_the_ballots_pdf_has_a_page_per_ballot_or_per_two(layout, count, pages):
    items = [
        Ballot(s, f"https://khaosat.example.vn/p/{s}")
        for s in (ballots.make_serial("LC-01", n) for n in range(1, count + 1))
    ]
    data = render_ballots(_sheet(), items, layout)
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b", data)) == pages
    # The same ballots render to the same bytes (the render cache relies on it).
    assert render_ballots(_sheet(), items, layout) == data


def test_an_unknown_layout_or_no_ballot_is_refused():
    item = [Ballot("LC-01-00001-M", "https://khaosat.example.vn/p/LC-01-00001-M")]
    with pytest.raises(ValueError):
        render_ballots(_sheet(), item, "a3")
    with pytest.raises(ValueError):
        render_ballots(_sheet(), [], "a5")


def test_each_ballots_qr_code_decodes_to_its_own_address_and_its_text_reads_back(tmp_path):
    from tests.web.test_posters import _tool

    serials = [ballots.make_serial("LC-01", n) for n in (1, 2, 3)]
    items = [Ballot(s, f"https://khaosat.example.vn/p/{s}") for s in serials]
    path = tmp_path / "ballots.pdf"
    path.write_bytes(render_ballots(_sheet(), items, "a5"))
    subprocess.run(
        [_tool("pdftoppm"), "-png", "-r", "150", str(path), str(tmp_path / "page")],
        check=True,
        timeout=120,
    )
    found = []
    for png in sorted(tmp_path.glob("page-*.png")):
        out = subprocess.run(
            [_tool("zbarimg"), "--quiet", "--raw", str(png)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.returncode == 0, f"no QR code found on {png.name}"
        found.append(out.stdout.strip())
    assert found == [item.url for item in items]
    # The text is real text (fonts embedded with their Unicode map), Vietnamese included.
    text = subprocess.run(
        [_tool("pdftotext"), "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    for serial in serials:
        assert serial in text
    assert "Ông/Bà hài lòng thế nào về:" in text
    assert "Rất không hài lòng" in text or "Rất không" in text
