"""Settings read from files (``X_FILE``), as container secrets are mounted."""

from __future__ import annotations

import pytest

from survey.config import ConfigError
from survey.config import load_config


def test_secrets_and_database_url_come_from_files(tmp_path):
    (tmp_path / "secret").write_text("s3cret-from-file\n")
    (tmp_path / "hash").write_text("hash-from-file\r\n")
    (tmp_path / "url").write_text("postgresql+psycopg://sipas:pw@db/sipas\n")
    config = load_config(
        tmp_path,
        {
            "SURVEY_ENV": "production",
            "SURVEY_PUBLIC_BASE_URL": "https://khaosat.example.vn",
            "SURVEY_SECRET_KEY_FILE": str(tmp_path / "secret"),
            "SURVEY_HASH_KEY_FILE": str(tmp_path / "hash"),
            "DATABASE_URL_FILE": str(tmp_path / "url"),
        },
    )
    # The trailing newline an editor or `echo` leaves is not part of the secret.
    assert config["SECRET_KEY"] == "s3cret-from-file"
    assert config["SURVEY_HASH_KEY"] == "hash-from-file"
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://sipas:pw@db/sipas"


def test_any_survey_setting_may_come_from_a_file(tmp_path):
    (tmp_path / "limit").write_text("12\n")
    config = load_config(tmp_path, {"SURVEY_LIMIT_IP_PER_HOUR_FILE": str(tmp_path / "limit")})
    assert config["SURVEY_LIMIT_IP_PER_HOUR"] == 12


def test_missing_file_is_a_config_error_naming_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="SURVEY_SECRET_KEY_FILE.*No such file"):
        load_config(
            tmp_path,
            {"SURVEY_ENV": "production", "SURVEY_SECRET_KEY_FILE": str(tmp_path / "absent")},
        )


def test_value_and_file_together_are_refused(tmp_path):
    (tmp_path / "secret").write_text("one")
    with pytest.raises(ConfigError, match="both set"):
        load_config(
            tmp_path,
            {"SURVEY_SECRET_KEY": "two", "SURVEY_SECRET_KEY_FILE": str(tmp_path / "secret")},
        )


def test_production_without_any_secret_still_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="SURVEY_SECRET_KEY is not set"):
        load_config(tmp_path, {"SURVEY_ENV": "production", "SURVEY_SECRET_KEY_FILE": ""})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SURVEY_LIMIT_IP_PER_HOUR", "thirty", "SURVEY_LIMIT_IP_PER_HOUR must be a whole number"),
        ("SURVEY_LIMIT_IP_PER_HOUR", "2.5", "SURVEY_LIMIT_IP_PER_HOUR must be a whole number"),
        ("SURVEY_DB_PING_IDLE_SECONDS", "1s", "SURVEY_DB_PING_IDLE_SECONDS must be a number"),
    ],
)
def test_a_number_setting_that_is_not_one_is_a_config_error_naming_it(
    tmp_path, name, value, message
):
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path, {name: value})


def test_an_empty_number_setting_takes_its_default(tmp_path):
    config = load_config(
        tmp_path, {"SURVEY_LIMIT_IP_PER_HOUR": "", "SURVEY_DB_PING_IDLE_SECONDS": " "}
    )
    assert config["SURVEY_LIMIT_IP_PER_HOUR"] == 30
    assert config["SURVEY_DB_PING_IDLE_SECONDS"] == 1.0
