"""The pages render from their template files: values are text, never markup, and every template is used."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from sandbox.oidc import pages

SOURCE = Path(pages.__file__)


def test_values_are_shown_as_text_even_when_they_look_like_markup_or_placeholders() -> None:
    page = pages.login_page(
        action="/u/login?state=a&b",
        transaction='"><script>alert(1)</script>',
        application="$username ${action}",
        username="<b>buyer</b>@example.com",
        error="<img src=x onerror=alert(1)>",
    ).body.decode("utf-8")

    assert "<script>" not in page
    assert "<img" not in page
    assert "<b>" not in page
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    assert "Log in to continue to $username ${action}." in page  # substituted once, never again
    assert 'action="/u/login?state=a&amp;b"' in page
    assert '<p class=error role=alert id="error-message">&lt;img src=x onerror=alert(1)&gt;</p>' in page


def test_a_template_without_a_value_it_names_is_an_error_not_a_page_with_a_hole() -> None:
    with pytest.raises(KeyError, match="message"):
        pages.render("error", title="Only a title")


def test_the_silent_auth_answer_carries_its_json_into_the_script_unescaped_for_html_but_safe() -> None:
    answer = pages.web_message_page("http://127.0.0.1:3000", {"code": "c", "state": "</script><!--"})
    document = answer.body.decode("utf-8")

    assert document.count("</script>") == 1
    assert '"state":"\\u003c/script\\u003e\\u003c!--"' in document
    assert ',"http://127.0.0.1:3000");' in document
    nonce = re.search(r'<script nonce="([^"]+)">', document)
    assert nonce is not None
    assert f"'nonce-{nonce.group(1)}'" in answer.headers["Content-Security-Policy"]


def test_every_template_file_is_rendered_by_the_module() -> None:
    rendered = {
        node.args[0].value
        for node in ast.walk(ast.parse(SOURCE.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "render"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    files = {path.stem for path in pages.TEMPLATES.glob("*.html")}

    assert files == rendered
    assert len(files) >= 8
