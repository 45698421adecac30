"""ops's AWS clients: each is built from a session that has a region and credentials, or refused in one line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ops import aws
from ops.errors import AwsNotConfigured
from tests.unit.ops.test_stack import AWS_VARIABLES

FACTORIES: dict[str, Callable[[], Any]] = {"sqs": aws.sqs, "ssm": aws.ssm, "cloudformation": aws.cloudformation}


@pytest.fixture(autouse=True)
def no_aws_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.parametrize("service", sorted(FACTORIES))
def test_a_client_without_a_region_is_refused_in_one_line(service: str) -> None:
    with pytest.raises(AwsNotConfigured) as refused:
        FACTORIES[service]()

    assert refused.value.message == aws.NO_REGION


@pytest.mark.parametrize("service", sorted(FACTORIES))
def test_a_client_without_credentials_is_refused_in_one_line(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")

    with pytest.raises(AwsNotConfigured) as refused:
        FACTORIES[service]()

    assert refused.value.message == aws.NO_CREDENTIALS


@pytest.mark.parametrize("service", sorted(FACTORIES))
def test_a_client_is_built_for_its_service_in_the_configured_region(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")

    client = FACTORIES[service]()

    assert client.meta.service_model.service_name == service
    assert client.meta.region_name == "eu-central-1"
