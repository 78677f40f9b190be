"""Paper ballots: serial numbers with a check character, and the entry keys.

A printed ballot carries a serial made of its desk's code, a sequence number
and one check character: ``LC-01-00042-G``. Officers type it back from the
paper, so the check character (a weighted sum modulo 37 over the letters and
digits, :func:`check_char`) catches every single mistyped character and every
swap of two different neighbours before the database is asked. Hyphens and
spaces are for the eye only: an officer may type ``lc010004 2g`` and it is the
same serial.

Each answer is then one keystroke: the number printed beside the box (1, 2, 3,
…) or ``0``/``n`` for "no opinion" / "prefer not to say" where the question
offers it.

This module is pure Python: no Flask, no database.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from .questionnaire import Question
from .questionnaire import Questionnaire

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VALUE = {c: i for i, c in enumerate(_ALPHABET)}

#: Digits of the sequence number: up to 99 999 ballots per desk, so that every
#: serial of a desk has the same length (the entry screen moves on by itself
#: when a serial is complete).
SEQ_DIGITS = 5
MAX_SEQ = 10**SEQ_DIGITS - 1

#: Keys for "no opinion" (a scale's no-opinion box) or a choice whose value is ``na``.
NA_KEYS = ("0", "n")
NA_VALUE = "na"

# Namespace of the submission ids of paper ballots (uuid5 of the serial key): a
# ballot posted twice at once has one submission id, so it is stored once.
_NAMESPACE = uuid.UUID("5b0c3f4e-2d43-4f0e-9a57-7c1f3a5e9b21")


class SerialError(ValueError):
    """A typed serial that cannot be a printed one; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def key_of(text: str) -> str:
    """The comparable form of a serial: upper-case letters and digits only.

    >>> key_of(" lc-01-00042-g ")
    'LC0100042G'
    """
    return "".join(c for c in text.upper() if c in _VALUE)


def _weight(position: int) -> int:
    """The weight of the ``position``-th character (1-based): 1 to 36, never 0 mod 37."""
    return (position - 1) % 36 + 1


def _check_value(body: str) -> int:
    """The value (0 to 36) that makes the weighted sum of ``body`` and it divisible by 37."""
    key = key_of(body)
    total = sum(_weight(i) * _VALUE[c] for i, c in enumerate(key, start=1))
    weight = _weight(len(key) + 1)
    return (-total * pow(weight, -1, 37)) % 37


def check_char(body: str) -> str:
    """The check character of the letters and digits of ``body``.

    A weighted sum modulo 37 (a prime): every weight is invertible, so any one
    character typed wrong changes the sum, and neighbours have weights one apart,
    so any two different neighbours swapped change it too. The one value of 37
    that is no letter or digit makes the serial unusable (:func:`usable`): such a
    number is skipped when ballots are numbered, about one in 37.

    >>> check_char("LC0100042")
    'G'
    """
    value = _check_value(body)
    if value == 36:
        raise ValueError(f"{body!r} has no check character: skip this number")
    return _ALPHABET[value]


def usable(body: str) -> bool:
    """Whether ``body`` has a check character that is a letter or a digit."""
    return _check_value(body) != 36


def is_valid_key(key: str) -> bool:
    """Whether a serial key (see :func:`key_of`) ends in its right check character."""
    if len(key) < 2 or any(c not in _VALUE for c in key):
        return False
    return sum(_weight(i) * _VALUE[c] for i, c in enumerate(key, start=1)) % 37 == 0


def serial_body(desk_code: str, seq: int) -> str:
    """The serial without its check character: ``LC-01-00042``."""
    if not 1 <= seq <= MAX_SEQ:
        raise ValueError(f"sequence ({seq}) must be 1 to {MAX_SEQ}")
    if not key_of(desk_code):
        raise ValueError(f"desk code ({desk_code!r}) has no letter or digit")
    return f"{desk_code.upper()}-{seq:0{SEQ_DIGITS}d}"


def make_serial(desk_code: str, seq: int) -> str:
    """The printed serial of a desk's ``seq``-th ballot.

    >>> make_serial("LC-01", 42)
    'LC-01-00042-G'

    :raise ValueError: a sequence out of range, or a number without a check
        character (see :func:`usable`).
    """
    body = serial_body(desk_code, seq)
    return f"{body}-{check_char(body)}"


#: A serial inside what a QR scanner types (the ballot's URL ends in /p/<serial>).
_IN_URL = re.compile(r"/p/([A-Za-z0-9-]+)/?$")


def parse_typed(text: str) -> str:
    """The serial key of what was typed or scanned, its check character verified.

    A scanned QR code arrives as the ballot's URL: the serial is taken from its end.

    :raise SerialError: ``"empty"``, ``"short"`` or ``"check"`` (a typing mistake).
    """
    text = (text or "").strip()
    found = _IN_URL.search(text)
    if found:
        text = found.group(1)
    key = key_of(text)
    if not key:
        raise SerialError("empty")
    if len(key) < SEQ_DIGITS + 2:
        raise SerialError("short")
    if not is_valid_key(key):
        raise SerialError("check")
    return key


def submission_id(key: str) -> str:
    """The response's submission id for a ballot: the same for every post of it."""
    return str(uuid.uuid5(_NAMESPACE, "paper:" + key))


# --- Answers as keystrokes -----------------------------------------------------------------


def keys_of(question: Question) -> dict[str, str]:
    """{key: answer value} of one question: ``"1"`` for the first printed box, and so on;
    ``"0"`` and ``"n"`` for its no-opinion box (or its ``na`` option) when it has one.

    >>> from survey.domain.questionnaire import parse
    >>> from survey.domain.questionnaire import latest_bundled
    >>> q = parse(latest_bundled()).question("trouble")
    >>> keys_of(q)
    {'1': 'no', '2': 'yes', '3': 'na', '0': 'na', 'n': 'na'}
    """
    found = {str(i): option.value for i, option in enumerate(question.options, start=1)}
    if len(found) > 9:
        raise ValueError(f"question {question.id!r}: more than 9 options cannot be one key")
    na = question.no_opinion.value if question.no_opinion else None
    if na is None and NA_VALUE in (o.value for o in question.options):
        na = NA_VALUE
    if na is not None:
        for key in NA_KEYS:
            found[key] = na
    return found


def printed_numbers(question: Question) -> list[tuple[str, str]]:
    """(number printed beside the box, answer value) in print order; no-opinion last, as 0."""
    numbers = [(str(i), o.value) for i, o in enumerate(question.options, start=1)]
    if question.no_opinion is not None:
        numbers.append(("0", question.no_opinion.value))
    return numbers


def ballot_questions(definition: Questionnaire) -> tuple[Question, ...]:
    """The questions entered with one keystroke each (every coded question)."""
    return definition.answer_questions


@dataclass(frozen=True)
class EntryProblem:
    """One answer that cannot be stored: ``kind`` is ``"missing"`` or ``"invalid"``."""

    question_id: str
    kind: str
    typed: str = ""


def read_answers(
    definition: Questionnaire, typed: Mapping[str, str]
) -> tuple[dict[str, str], list[EntryProblem]]:
    """The answers typed for a ballot (``{question id: key}``), as stored values.

    A key is the printed number (or 0/n); the answer value itself is accepted too
    (what a script or an older screen may send). A blank optional question is left
    out; a blank required one, or a key the question does not have, is a problem.
    """
    answers: dict[str, str] = {}
    problems: list[EntryProblem] = []
    for question in ballot_questions(definition):
        raw = (typed.get(question.id) or "").strip()
        if not raw or raw in ("-", " "):
            if question.required:
                problems.append(EntryProblem(question.id, "missing"))
            continue
        keys = keys_of(question)
        value = keys.get(raw.lower())
        if value is None and raw.lower() in question.values():
            value = raw.lower()
        if value is None:
            problems.append(EntryProblem(question.id, "invalid", raw[:10]))
            continue
        answers[question.id] = value
    return answers, problems
