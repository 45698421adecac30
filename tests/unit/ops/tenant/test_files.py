"""Where `ops tenant apply` writes: the catalogue's role ids (layout kept), the credentials file (0600, values
read back), the service's Secrets Manager secret (created or merged) and the stage's AUTH0_LOGIN_CLIENT_ID."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from chalicelib.catalogue import load_catalogue
from ops.errors import InvalidOption, NotConfigured
from ops.tenant.files import CredentialsFile, ServiceSecret, with_role_ids, write_role_ids
from tests.unit.test_packaging import PLACEHOLDER_CATALOGUE

ROOT = Path(__file__).resolve().parents[4]
LOCAL_CATALOGUE = ROOT / "chalicelib" / "courses.local.json"
SECRET = "gumroad-auth0-gate/prod"


def test_only_the_role_ids_change_and_the_creators_layout_stays() -> None:
    text = LOCAL_CATALOGUE.read_text(encoding="utf-8")

    edited = with_role_ids(text, {"pro-membership": "rol_NewMembership1"})

    assert edited == text.replace('"rol_LocalMembership2"', '"rol_NewMembership1"')


def test_a_placeholder_role_id_is_replaced_for_the_right_course_only() -> None:
    text = PLACEHOLDER_CATALOGUE.read_text(encoding="utf-8")
    two = json.loads(text)
    two["courses"].append({**two["courses"][0], "slug": "second-course", "permission": "read:course:second"})
    text = json.dumps(two, indent=2)

    edited = json.loads(with_role_ids(text, {"second-course": "rol_Second000001"}))

    assert [course["role_id"] for course in edited["courses"]] == [
        "rol_REPLACE_WITH_THE_AUTH0_ROLE_ID",
        "rol_Second000001",
    ]


def test_a_title_that_quotes_role_id_is_not_mistaken_for_the_key() -> None:
    document = {"courses": [{"slug": "tricky", "title": 'A "role_id": "rol_x" title', "role_id": "rol_Old"}]}
    text = json.dumps(document)

    edited = with_role_ids(text, {"tricky": "rol_New"})

    assert edited == text.replace('"rol_Old"', '"rol_New"')


def test_a_layout_the_edit_cannot_follow_is_written_again_whole_with_the_same_document() -> None:
    # A repeated key (JSON keeps the last) puts two role_id members in one course: the edit cannot tell which.
    text = '{"courses": [{"slug": "twice", "role_id": "rol_First", "role_id": "rol_Old"}]}'

    edited = with_role_ids(text, {"twice": "rol_New"})

    assert edited == json.dumps({"courses": [{"slug": "twice", "role_id": "rol_New"}]}, indent=2) + "\n"


def test_the_written_catalogue_still_loads_and_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "courses.json"
    shutil.copy(LOCAL_CATALOGUE, path)
    path.chmod(0o640)

    write_role_ids(path, {"serverless-handbook": "rol_Handbook0000a"})

    assert load_catalogue(path).by_slug("serverless-handbook") is not None
    assert [course.role_id for course in load_catalogue(path)] == ["rol_Handbook0000a", "rol_LocalMembership2"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [entry.name for entry in tmp_path.iterdir()] == ["courses.json"]


# --- the credentials file ---------------------------------------------------------------------------


def test_the_credentials_file_is_private_and_reads_back_what_was_written(tmp_path: Path) -> None:
    file = CredentialsFile(tmp_path / "local.env", stage="local")
    values = {"client_id": "m2mId", "client_secret": "se$cret 'quoted'", "spa_client_id": "spaId"}

    file.write(values)

    assert stat.S_IMODE(file.path.stat().st_mode) == 0o600
    found = file.read()
    assert found is not None
    assert dict(found.values) == values
    text = file.path.read_text()
    assert "AUTH0_CLIENT_ID=m2mId\n" in text
    assert "VITE_AUTH0_CLIENT_ID=spaId\n" in text
    assert "se$cret" not in repr(found)


def test_a_credentials_file_keeps_the_values_a_write_does_not_name(tmp_path: Path) -> None:
    file = CredentialsFile(tmp_path / "local.env", stage="local")
    file.write({"client_id": "m2mId", "client_secret": "one"})

    file.write({"client_secret": "two"})

    found = file.read()
    assert found is not None
    assert dict(found.values) == {"client_id": "m2mId", "client_secret": "two"}


def test_no_credentials_file_yet_holds_nothing(tmp_path: Path) -> None:
    assert CredentialsFile(tmp_path / "missing.env", stage="local").read() is None


def test_a_credentials_line_with_an_unclosed_quote_is_named_by_file_and_line_never_by_its_value(
    tmp_path: Path,
) -> None:
    path = tmp_path / "local.env"
    path.write_text("# written by hand\nAUTH0_CLIENT_ID=m2mId\nAUTH0_CLIENT_SECRET='oops-s3cret\n")

    with pytest.raises(NotConfigured) as refused:
        CredentialsFile(path, stage="local").read()

    assert refused.value.message == (
        f"{path} line 3: the value of AUTH0_CLIENT_SECRET is not shell-quoted as ops tenant writes it: fix the line "
        "or delete it"
    )
    assert "oops-s3cret" not in refused.value.message


@pytest.mark.parametrize(
    ("where", "said"),
    [
        (".", "is a folder: name a file in it"),
        ("a-file/auth0.env", "{tmp}/a-file is a file, not a folder"),
        ("a-file/deeper/auth0.env", "{tmp}/a-file is a file, not a folder"),
    ],
)
def test_a_credentials_destination_write_could_not_replace_is_refused_by_check(
    tmp_path: Path, where: str, said: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    path = tmp_path / where

    with pytest.raises(InvalidOption) as refused:
        CredentialsFile(path, stage="local").check()

    assert refused.value.message.startswith(f"--write-credentials {path}")
    assert said.format(tmp=tmp_path) in refused.value.message


def test_a_credentials_file_in_a_writable_folder_passes_check(tmp_path: Path) -> None:
    CredentialsFile(tmp_path / "auth0.env", stage="local").check()
    (tmp_path / "auth0.env").write_text("AUTH0_CLIENT_ID=m2mId\n")
    CredentialsFile(tmp_path / "auth0.env", stage="local").check()


def test_missing_folders_pass_check_and_are_made_private_when_the_file_is_written(tmp_path: Path) -> None:
    # `.sandbox/auth0.env` on a fresh clone, before `make run` made .sandbox/: the guide's command works as written.
    credentials = CredentialsFile(tmp_path / "new" / "deeper" / "auth0.env", stage="local")

    credentials.check()
    credentials.write({"client_id": "m2mId"})

    assert credentials.read() is not None
    assert stat.S_IMODE((tmp_path / "new" / "deeper").stat().st_mode) == 0o700
    assert stat.S_IMODE(credentials.path.stat().st_mode) == 0o600


# --- the service's secret ---------------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A Chalice config whose prod stage names no login application yet (whatever the repository's says)."""
    path = tmp_path / "config.json"
    stages = {"prod": {"environment_variables": {"COURSES_FILE": "chalicelib/courses.json"}}}
    path.write_text(json.dumps({"version": "2.0", "app_name": "gumroad-auth0-gate", "stages": stages}))
    return path


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("aws")
def test_a_missing_secret_is_created_with_a_new_ping_secret(config: Path) -> None:
    with mock_aws():
        client = boto3.client("secretsmanager")
        destination = ServiceSecret(client, SECRET, config=config, stage="prod")
        assert destination.read() is None

        destination.write({"client_id": "m2mId", "client_secret": "m2mSecret"})

        document = json.loads(client.get_secret_value(SecretId=SECRET)["SecretString"])
    assert document["client_id"] == "m2mId"
    assert document["client_secret"] == "m2mSecret"
    assert len(document["gumroad_ping_secret"]) == 64


@pytest.mark.usefixtures("aws")
def test_an_existing_secret_keeps_its_other_keys_and_the_login_id_goes_into_the_stage(config: Path) -> None:
    with mock_aws():
        client = boto3.client("secretsmanager")
        kept = {"client_id": "old", "client_secret": "old", "gumroad_ping_secret": "ping", "gumroad_access_token": "g"}
        client.create_secret(Name=SECRET, SecretString=json.dumps(kept))
        destination = ServiceSecret(client, SECRET, config=config, stage="prod")

        destination.write(
            {
                "client_id": "m2mId",
                "client_secret": "m2mSecret",
                "login_client_id": "loginId",
                "login_client_secret": "l",
            }
        )

        document = json.loads(client.get_secret_value(SecretId=SECRET)["SecretString"])
        found = destination.read()
    assert document == {**kept, "client_id": "m2mId", "client_secret": "m2mSecret", "login_client_secret": "l"}
    stage = json.loads(config.read_text())["stages"]["prod"]["environment_variables"]
    assert stage["AUTH0_LOGIN_CLIENT_ID"] == "loginId"
    assert found is not None
    assert found.values["login_client_id"] == "loginId"
    assert found.values["client_secret"] == "m2mSecret"
