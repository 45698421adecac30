"""CloudWatch metrics as embedded metric format (EMF) log lines: no API call, no dependency, no extra permission.

CloudWatch Logs turns a JSON line whose ``_aws.CloudWatchMetrics`` names some of its members into metric
data points; the line is written through the logging module in the service's one shape
(``chalicelib.logs.log_event``), so it is also an ordinary, searchable log line.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from chalicelib.config.environment import lambda_function_name
from chalicelib.logs import log_event

log = logging.getLogger("gumroad_auth0.metrics")

NAMESPACE = "GumroadAuth0Gate"
# One dimension, the function (``<stack>-worker``, ``<stack>-reconcile``): two stages in one account keep their
# numbers apart, and the template names each function, so its dashboard and alarms know the values.
DIMENSION = "function"
LOCAL_FUNCTION = "local"

# The metric names, one place: the template's dashboard and alarms use the same strings.
PURCHASES_FULFILLED = "PurchasesFulfilled"
ACCESS_REMOVED = "AccessRemoved"
SECONDS_TO_ACCESS = "SecondsFromSaleToAccess"
AUTH0_THROTTLED = "Auth0Throttled"
DEAD_LETTERS = "DeadLetters"
RECONCILIATION_ENQUEUED = "ReconciliationEnqueued"
RECONCILIATION_GRANTED = "ReconciliationGranted"
RECONCILIATION_REVOKED = "ReconciliationRevoked"
RECONCILIATION_ALREADY_RIGHT = "ReconciliationAlreadyRight"
MISSING_SUBSCRIPTIONS = "MissingSubscriptions"

COUNT = "Count"
SECONDS = "Seconds"


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: str = COUNT


def emit(
    event: str,
    metrics: list[Metric],
    *,
    function: str | None = None,
    clock: Callable[[], float] = time.time,
    properties: Mapping[str, object] | None = None,
) -> None:
    """Write one EMF line named ``event`` carrying ``metrics`` (nothing when the list is empty).

    ``properties`` are searchable fields that are not metrics (counts per kind, ids): never a secret,
    a token or a full e-mail address.
    """
    if not metrics:
        return
    name = function or lambda_function_name(os.environ) or LOCAL_FUNCTION
    directive = {
        "Namespace": NAMESPACE,
        "Dimensions": [[DIMENSION]],
        "Metrics": [{"Name": metric.name, "Unit": metric.unit} for metric in _unique(metrics)],
    }
    values: dict[str, object] = {metric.name: metric.value for metric in _unique(metrics)}
    log_event(
        log,
        logging.INFO,
        event,
        _aws={"Timestamp": int(clock() * 1000), "CloudWatchMetrics": [directive]},
        **{DIMENSION: name},
        **values,
        **(properties or {}),
    )


def _unique(metrics: list[Metric]) -> list[Metric]:
    """The last value of each name: EMF takes one member per metric name."""
    by_name: Mapping[str, Metric] = {metric.name: metric for metric in metrics}
    return list(by_name.values())
