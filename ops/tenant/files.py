"""Where `ops tenant apply` writes what the service reads: the catalogue's role ids, and the applications'
credentials (a local file, or the stack's Secrets Manager secret with the stage's AUTH0_LOGIN_CLIENT_ID)."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import secrets
import shlex
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ops.errors import InvalidOption, NotConfigured
from ops.tenant.model import Credentials

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

# A course's "role_id" member and its string value (JSON escapes allowed inside it).
_ROLE_ID = re.compile(r'"role_id"(\s*:\s*)"((?:[^"\\]|\\.)*)"')


# --- the catalogue ----------------------------------------------------------------------------------


def with_role_ids(text: str, role_ids: Mapping[str, str]) -> str:
    """The catalogue's text with these courses' ``role_id`` replaced (slug -> role id), all else as it was.

    Only the values change, so the creator's layout and their other keys stay; should the file be laid out in
    a way the edit cannot follow, it is written again whole (two-space indents), holding the same document.
    """
    document = json.loads(text)
    courses = document["courses"]
    wanted = copy.deepcopy(document)
    for course in wanted["courses"]:
        if course.get("slug") in role_ids:
            course["role_id"] = role_ids[course["slug"]]
    found = list(_ROLE_ID.finditer(text))
    if len(found) == len(courses):
        pieces, last = [], 0
        for course, match in zip(courses, found, strict=True):
            if course.get("slug") in role_ids:
                pieces += [
                    text[last : match.start()],
                    f'"role_id"{match.group(1)}{json.dumps(role_ids[course["slug"]])}',
                ]
                last = match.end()
        edited = "".join(pieces) + text[last:]
        if json.loads(edited) == wanted:
            return edited
    return json.dumps(wanted, indent=2, ensure_ascii=False) + "\n"


def write_role_ids(path: Path, role_ids: Mapping[str, str]) -> None:
    write_atomically(path, with_role_ids(path.read_text(encoding="utf-8"), role_ids))


def write_atomically(path: Path, text: str, *, mode: int | None = None) -> None:
    """Replace ``path`` whole (a temporary file renamed over it): a reader never sees half a file."""
    keep = mode if mode is not None else (path.stat().st_mode & 0o777 if path.exists() else 0o644)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, keep)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


# --- credentials ------------------------------------------------------------------------------------


class CredentialsDestination(Protocol):
    """Where the service's application ids and secrets go; ``keys`` are what it holds."""

    @property
    def description(self) -> str: ...

    @property
    def keys(self) -> tuple[str, ...]: ...

    def read(self) -> Credentials | None: ...

    def write(self, values: Mapping[str, str]) -> None: ...


class CredentialsFile:
    """``--write-credentials FILE``: ``NAME=value`` lines (mode 0600) of the variables the service and the SPA read."""

    NAMES: ClassVar[dict[str, str]] = {
        "client_id": "AUTH0_CLIENT_ID",
        "client_secret": "AUTH0_CLIENT_SECRET",
        "login_client_id": "AUTH0_LOGIN_CLIENT_ID",
        "login_client_secret": "AUTH0_LOGIN_CLIENT_SECRET",
        "spa_client_id": "VITE_AUTH0_CLIENT_ID",
        "post_login_secret": "POST_LOGIN_SECRET",
        "post_login_url": "POST_LOGIN_URL",
    }

    def __init__(self, path: Path, *, stage: str) -> None:
        self.path = path
        self._stage = stage

    @property
    def description(self) -> str:
        return str(self.path)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.NAMES)

    def check(self) -> None:
        """Refuse, before any call to Auth0, a destination ``write`` could not replace: a folder, a path through a
        file, an unwritable folder (the file is written beside itself, then renamed; missing folders are made in
        the nearest existing one), a file it cannot read back."""
        option = f"--write-credentials {self.path}"
        if self.path.is_dir():
            raise InvalidOption(f"{option} is a folder: name a file in it, e.g. {self.path / 'auth0.env'}")
        folder = next(parent for parent in self.path.parents if parent.exists() or parent == parent.parent)
        if not folder.is_dir():
            raise InvalidOption(f"{option}: {folder} is a file, not a folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise InvalidOption(f"{option}: the folder {folder} is not writable")
        if self.path.exists() and not os.access(self.path, os.R_OK):
            raise InvalidOption(f"{option}: the file is not readable")

    def read(self) -> Credentials | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        by_name = {name: key for key, name in self.NAMES.items()}
        values: dict[str, str] = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            name, _, value = raw.strip().partition("=")
            if name in by_name and value:
                try:
                    values[by_name[name]] = " ".join(shlex.split(value))
                except ValueError:  # an unclosed quote or a trailing backslash; the value itself is never said
                    raise NotConfigured(
                        f"{self.path} line {number}: the value of {name} is not shell-quoted as ops tenant writes "
                        "it: fix the line or delete it"
                    ) from None
        return Credentials(values)

    def write(self, values: Mapping[str, str]) -> None:
        current = self.read()
        merged = {**(current.values if current else {}), **values}
        lines = [
            f"# The Auth0 applications of stage {self._stage}, written by `ops tenant apply`.",
            "# It holds secrets: keep it out of git.",
            *(f"{name}={shlex.quote(merged[key])}" for key, name in self.NAMES.items() if merged.get(key)),
        ]
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # e.g. .sandbox/ before `make run` made it
        write_atomically(self.path, "\n".join(lines) + "\n", mode=0o600)


class ServiceSecret:
    """``AUTH0_SECRET_ID``: the service's JSON secret (``client_id``, ``client_secret``, ``login_client_secret``,
    ``post_login_secret``: the post-login Action's shared secret; ``post_login_url``: the service's URL it was
    given, not a secret, recorded because Auth0 never shows it back);
    created, with a fresh ``gumroad_ping_secret``, when it does not exist yet. The login application's id is a
    setting, not a secret: it goes into the stage's ``AUTH0_LOGIN_CLIENT_ID`` in ``.chalice/config.json``."""

    SECRET_KEYS = ("client_id", "client_secret", "login_client_secret", "post_login_secret", "post_login_url")

    def __init__(self, client: SecretsManagerClient, secret_id: str, *, config: Path, stage: str) -> None:
        self._client = client
        self._secret_id = secret_id
        self._config = config
        self._stage = stage

    @property
    def description(self) -> str:
        return f"Secrets Manager secret {self._secret_id} and AUTH0_LOGIN_CLIENT_ID of stage {self._stage}"

    @property
    def keys(self) -> tuple[str, ...]:
        return (*self.SECRET_KEYS, "login_client_id")

    def read(self) -> Credentials | None:
        document = self._document()
        values = {key: value for key in self.SECRET_KEYS if isinstance(value := (document or {}).get(key), str)}
        login = self._stage_variables().get("AUTH0_LOGIN_CLIENT_ID")
        if isinstance(login, str):
            values["login_client_id"] = login
        return Credentials(values) if document is not None or values else None

    def write(self, values: Mapping[str, str]) -> None:
        secret = {key: values[key] for key in self.SECRET_KEYS if key in values}
        document = self._document()
        if document is None:
            created = {**secret, "gumroad_ping_secret": secrets.token_hex(32)}
            self._client.create_secret(Name=self._secret_id, SecretString=json.dumps(created))
        elif any(document.get(key) != value for key, value in secret.items()):
            self._client.put_secret_value(SecretId=self._secret_id, SecretString=json.dumps({**document, **secret}))
        if "login_client_id" in values:
            self._set_stage_variable("AUTH0_LOGIN_CLIENT_ID", values["login_client_id"])

    def _document(self) -> dict[str, Any] | None:
        try:
            answer = self._client.get_secret_value(SecretId=self._secret_id)
        except self._client.exceptions.ResourceNotFoundException:
            return None
        try:
            document = json.loads(answer.get("SecretString") or "")
        except json.JSONDecodeError:
            document = None
        if not isinstance(document, dict):
            raise NotConfigured(f"the secret {self._secret_id} (AUTH0_SECRET_ID) is not a JSON object")
        return document

    def _stage_variables(self) -> dict[str, Any]:
        config = json.loads(self._config.read_text(encoding="utf-8"))
        variables = config.get("stages", {}).get(self._stage, {}).get("environment_variables", {})
        return dict(variables)

    def _set_stage_variable(self, name: str, value: str) -> None:
        config = json.loads(self._config.read_text(encoding="utf-8"))
        stage = config.setdefault("stages", {}).setdefault(self._stage, {})
        stage.setdefault("environment_variables", {})[name] = value
        write_atomically(self._config, json.dumps(config, indent=2) + "\n")
