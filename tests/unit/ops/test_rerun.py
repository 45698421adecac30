"""`ops rerun`'s sale id on the command line, where a Gumroad id may start with '-' (runs: integration/test_ops.py)."""

from __future__ import annotations

import pytest

from ops.__main__ import main as ops
from ops.__main__ import parser

DASHED = "-Uq7ZtQmB3kR9xW2vN5pLg=="  # URL-safe base64, as every Gumroad sale id: one in 64 starts with '-'


@pytest.mark.parametrize(
    "words",
    [
        ["rerun", f"--sale-id={DASHED}"],
        ["rerun", "--apply", "--", DASHED],
        ["--stack", "gumroad-auth0-gate-prod", "rerun", "--apply", "--", DASHED],
    ],
    ids=["as-an-option", "after-a-double-dash", "after-a-double-dash-with-the-stack"],
)
def test_a_sale_id_that_starts_with_a_dash_reaches_the_command_whole(words: list[str]) -> None:
    args = parser().parse_args(words)

    assert DASHED in (args.sale_id, args.sale_id_option)
    assert args.run.__name__ == "run_rerun"


@pytest.mark.parametrize("words", [["rerun", DASHED], ["rerun", "--sale-id", DASHED]], ids=["bare", "option-apart"])
def test_a_dashed_sale_id_read_as_an_option_is_refused_saying_how_to_write_it(
    words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        ops(words)

    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert DASHED in err or "--sale-id: expected one argument" in err
    assert "is written --option=VALUE, or after --" in err


@pytest.mark.parametrize(
    "words", [["rerun"], ["rerun", "Sale0000000000000000000==", "--sale-id=Other000000000000000=="]]
)
def test_no_sale_id_or_two_of_them_is_refused_before_any_call(
    words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert ops(words) == 2

    assert capsys.readouterr().err == (
        "ops: invalid_option: give one sale id: rerun SALE_ID, or rerun --sale-id=SALE_ID for an id that starts "
        "with '-'\n"
    )
