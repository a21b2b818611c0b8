"""Matrix login that survives restarts: the device id and access token are kept next to the crypto store."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from nio import AsyncClient, LoginResponse, WhoamiResponse

from bot.config import MatrixSettings
from bot.errors import ChannelError

__all__ = ["log_in"]

log = logging.getLogger(__name__)

SESSION_FILE = "session.json"


def _load(path: Path, user_id: str) -> tuple[str, str] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if data.get("user_id") != user_id or not data.get("device_id") or not data.get("access_token"):
        return None
    return str(data["device_id"]), str(data["access_token"])


def _save(path: Path, user_id: str, device_id: str, access_token: str) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"user_id": user_id, "device_id": device_id, "access_token": access_token}, fh)
    tmp.replace(path)


async def _whoami_device(client: AsyncClient, token: str) -> str | None:
    """The device of `token`, or None if the homeserver no longer accepts it (raises on other errors)."""
    client.access_token = token
    resp = await client.whoami()
    if isinstance(resp, WhoamiResponse):
        return str(resp.device_id)
    if getattr(resp, "status_code", None) == "M_UNKNOWN_TOKEN":
        return None
    raise ChannelError("matrix", f"whoami failed: {resp}", errcode=getattr(resp, "status_code", None))


async def log_in(client: AsyncClient, cfg: MatrixSettings, store_dir: Path) -> None:
    """Log `client` in and load its crypto store: a saved session first, then the configured access
    token, then the password (whose new device is saved so the next start reuses it).

    Raises `ChannelError` when the homeserver refuses; connection errors propagate for the caller to retry.
    """
    user_id = cfg.user_id or client.user
    session = store_dir / SESSION_FILE
    saved = _load(session, user_id)
    if saved is not None:
        device_id, token = saved
        if await _whoami_device(client, token) == device_id:
            client.restore_login(user_id, device_id, token)
            log.info("matrix: resumed device %s", device_id)
            return
        log.warning("matrix: saved session was refused; logging in again")
    if cfg.access_token is not None:
        token = cfg.access_token.get_secret_value()
        found = await _whoami_device(client, token)
        if found is None:
            raise ChannelError(
                "matrix", "the configured access token was refused", status=401, errcode="M_UNKNOWN_TOKEN"
            )
        client.restore_login(user_id, found, token)
        _save(session, user_id, found, token)
        return
    if cfg.password is None:
        raise ChannelError("matrix", "set matrix.password or matrix.access_token")
    resp = await client.login(cfg.password.get_secret_value(), device_name=cfg.device_name)
    if not isinstance(resp, LoginResponse):
        raise ChannelError("matrix", f"login failed: {resp}", errcode=getattr(resp, "status_code", None))
    _save(session, user_id, resp.device_id, resp.access_token)
    log.info("matrix: logged in as new device %s", resp.device_id)
