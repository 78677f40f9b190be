"""Configuration from the environment, and the refusal to run unsafely."""

from __future__ import annotations

import pytest

from survey.config import ConfigError
from survey.config import load_config


def test_production_refuses_to_start_without_a_secret(tmp_path):
    with pytest.raises(ConfigError, match="SURVEY_SECRET_KEY is not set"):
        load_config(tmp_path, {"SURVEY_ENV": "production"})


def test_production_refuses_to_start_without_a_public_address(tmp_path):
    for value in ("", "khaosat.example.vn"):
        with pytest.raises(ConfigError, match="SURVEY_PUBLIC_BASE_URL is not set"):
            load_config(
                tmp_path,
                {
                    "SURVEY_ENV": "production",
                    "SURVEY_SECRET_KEY": "s3cret",
                    "SURVEY_PUBLIC_BASE_URL": value,
                },
            )


def test_unknown_environment_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="SURVEY_ENV \\('prod'\\)"):
        load_config(tmp_path, {"SURVEY_ENV": "prod"})


def test_production_reads_its_settings(tmp_path):
    config = load_config(
        tmp_path,
        {
            "SURVEY_ENV": "production",
            "SURVEY_SECRET_KEY": "s3cret",
            "DATABASE_URL": "postgresql+psycopg://u@db/survey",
            "SURVEY_PUBLIC_BASE_URL": "https://khaosat.example.vn/",
        },
    )
    assert config["SECRET_KEY"] == "s3cret"
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/survey"
    assert config["SURVEY_PUBLIC_BASE_URL"] == "https://khaosat.example.vn"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SURVEY_DEMO"] is False


def test_development_makes_one_random_secret_and_keeps_it(tmp_path):
    first = load_config(tmp_path, {})
    second = load_config(tmp_path, {})
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert len(first["SECRET_KEY"]) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'survey.db'}"
    assert first["SURVEY_DEMO"] is True


def test_create_app_refuses_production_without_secret(monkeypatch):
    from survey import create_app

    monkeypatch.setenv("SURVEY_ENV", "production")
    monkeypatch.delenv("SURVEY_SECRET_KEY")
    with pytest.raises(ConfigError):
        create_app()


def test_the_wsgi_entry_point_leaves_the_app_out_of_garbage_collections(tmp_path):
    """A gunicorn worker's app and modules are frozen out of the collector: a full
    collection then walks a request's objects, not the whole app's (a pause
    every queued request waits for; measured in docs/PERFORMANCE.md)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import gc, wsgi; print(gc.get_freeze_count(), sum(gc.get_count()), len(gc.get_objects()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'survey.db'}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    frozen, _pending, tracked = map(int, done.stdout.split()[-3:])
    # Nearly every object the import made is frozen; few are left to collect.
    assert frozen > 50_000 and tracked < frozen / 10
