"""SSM Parameter Store through boto3: the reconciliation's watermark."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from chalicelib.purchases.gumroad import format_timestamp
from chalicelib.purchases.reconcile import parse_instant

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

# The value the template stores before the first run (SSM refuses an empty parameter).
UNSET_WATERMARK = "not-yet-run"


def ssm_client() -> SSMClient:
    import boto3

    return boto3.client("ssm")


class ParameterWatermark:
    """The watermark in one SSM Parameter Store parameter (a String the template creates)."""

    def __init__(self, *, client_factory: Callable[[], SSMClient], name: str) -> None:
        self._client_factory = client_factory
        self._client: SSMClient | None = None
        self._name = name

    def read(self) -> str | None:
        value = self._ssm().get_parameter(Name=self._name)["Parameter"].get("Value", "")
        if not value or value == UNSET_WATERMARK:
            return None
        return format_timestamp(parse_instant(value))

    def write(self, value: str) -> None:
        self._ssm().put_parameter(Name=self._name, Value=value, Type="String", Overwrite=True)

    def _ssm(self) -> SSMClient:
        if self._client is None:
            self._client = self._client_factory()
        return self._client
