"""CloudFormation's intrinsic functions, as far as the template's SPA hosting uses them (Ref, Fn::GetAtt, Fn::Sub,
Fn::Join, Fn::Split), resolved for given parameter and resource values: what CloudFormation would hand to CloudFront.
Anything else is refused, so a template that starts using it fails a test instead of being resolved wrongly."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class UnknownIntrinsic(ValueError):
    """The template uses a function or a name this resolver was not given."""


def resolve(node: Any, values: Mapping[str, str]) -> Any:
    """``node`` with every intrinsic function replaced by its value; ``values`` by Ref name (``Auth0Domain``,
    ``AWS::Region``) and by ``Resource.Attribute`` for Fn::GetAtt."""
    if isinstance(node, list):
        return [resolve(item, values) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) != 1 or not next(iter(node)).startswith(("Ref", "Fn::")):
        return {key: resolve(value, values) for key, value in node.items()}
    [(function, argument)] = node.items()
    if function == "Ref":
        return _value(values, argument)
    if function == "Fn::GetAtt":
        return _value(values, ".".join(argument))
    if function == "Fn::Join":
        separator, items = argument
        return str(separator).join(resolve(items, values))
    if function == "Fn::Split":
        separator, text = argument
        return str(resolve(text, values)).split(separator)
    if function == "Fn::Sub":
        text, local = (argument, {}) if isinstance(argument, str) else argument
        known = {**values, **{name: str(resolve(value, values)) for name, value in local.items()}}
        return _VARIABLE.sub(lambda match: _value(known, match.group(1)), text)
    raise UnknownIntrinsic(f"{function} is not resolved here")


def _value(values: Mapping[str, str], name: str) -> str:
    if name not in values:
        raise UnknownIntrinsic(f"no value given for {name}")
    return values[name]
