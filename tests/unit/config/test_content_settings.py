"""The lessons' settings: bucket, prefix, region and URL lifetime, each refused with a message naming its variable."""

from __future__ import annotations

import pytest

from chalicelib.config.content_settings import (
    DEFAULT_URL_LIFETIME_SECONDS,
    MAX_URL_LIFETIME_SECONDS,
    load_content_settings,
)
from chalicelib.errors import ConfigurationError

DEPLOYED = {"CONTENT_BUCKET": "shop-contentbucket-1a2b3c", "CONTENT_PREFIX": "courses/", "AWS_REGION": "eu-west-1"}


def test_the_templates_variables_give_the_bucket_prefix_region_and_the_default_lifetime() -> None:
    settings = load_content_settings(DEPLOYED)

    assert (settings.bucket, settings.prefix, settings.region) == ("shop-contentbucket-1a2b3c", "courses/", "eu-west-1")
    assert settings.url_lifetime_seconds == DEFAULT_URL_LIFETIME_SECONDS == 300


def test_the_bucket_may_live_in_another_region_than_the_function() -> None:
    settings = load_content_settings({**DEPLOYED, "CONTENT_BUCKET_REGION": "us-west-2"})

    assert settings.region == "us-west-2"


@pytest.mark.parametrize(("raw", "seconds"), [("60", 60), (" 3600 ", 3600), ("10", 10), ("900.0", 900)])
def test_the_lifetime_is_whole_seconds_up_to_an_hour(raw: str, seconds: int) -> None:
    settings = load_content_settings({**DEPLOYED, "CONTENT_URL_LIFETIME_SECONDS": raw})

    assert settings.url_lifetime_seconds == seconds
    assert MAX_URL_LIFETIME_SECONDS == 3600


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"CONTENT_BUCKET": None}, "CONTENT_BUCKET is not set: the catalogue lists lessons"),
        ({"CONTENT_BUCKET": "  "}, "CONTENT_BUCKET is not set"),
        ({"CONTENT_BUCKET": "Shop_Bucket"}, "CONTENT_BUCKET must be an S3 bucket name"),
        ({"CONTENT_BUCKET": "ab"}, "CONTENT_BUCKET must be an S3 bucket name"),
        ({"CONTENT_BUCKET": "bucket-"}, "CONTENT_BUCKET must be an S3 bucket name"),
        ({"CONTENT_PREFIX": "courses"}, 'CONTENT_PREFIX must be empty or end with "/"'),
        ({"CONTENT_PREFIX": "*/"}, "CONTENT_PREFIX must be folders of letters"),
        ({"AWS_REGION": None}, "CONTENT_BUCKET_REGION is not set, nor AWS_REGION"),
        ({"CONTENT_URL_LIFETIME_SECONDS": "3601"}, "CONTENT_URL_LIFETIME_SECONDS must be between 10 and 3600"),
        ({"CONTENT_URL_LIFETIME_SECONDS": "604800"}, "CONTENT_URL_LIFETIME_SECONDS must be between 10 and 3600"),
        ({"CONTENT_URL_LIFETIME_SECONDS": "5"}, "CONTENT_URL_LIFETIME_SECONDS must be between 10 and 3600"),
        ({"CONTENT_URL_LIFETIME_SECONDS": "nan"}, "CONTENT_URL_LIFETIME_SECONDS must be between 10 and 3600"),
        ({"CONTENT_URL_LIFETIME_SECONDS": "five minutes"}, "CONTENT_URL_LIFETIME_SECONDS must be a number"),
        ({"CONTENT_URL_LIFETIME_SECONDS": "300.5"}, "CONTENT_URL_LIFETIME_SECONDS must be a whole number of seconds"),
    ],
)
def test_a_bad_setting_is_refused_when_read_naming_its_variable(changes: dict[str, str | None], message: str) -> None:
    environ = {**DEPLOYED, **{name: value for name, value in changes.items() if value is not None}}
    for name in (name for name, value in changes.items() if value is None):
        del environ[name]

    with pytest.raises(ConfigurationError) as raised:
        load_content_settings(environ)

    assert raised.value.message.startswith(message)
