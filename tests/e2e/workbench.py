"""A real VS Code for tests: code-server (the workbench and extension host) driven by headless
Chromium, both offline, in private directories, each in its own process group.

scripts/setup-vscode-e2e.sh installs code-server, Node 24 and Chromium and writes env.json in
its cache directory; this module reads it. The extension under test runs its self-test
(vscode-client/src/selfTest.ts) when TIERWISE_VSCODE_SELFTEST names a directory; the driver
here answers its two requests from outside the workbench: a screenshot while the tier
picker is open, and a click on the progress notification's Cancel button.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.e2e.cdp import CdpPipe

SKIP_ENV = "TIERWISE_SKIP_VSCODE_E2E"
WIDTH, HEIGHT = 1200, 720


def e2e_cache() -> Path:
    """Where scripts/setup-vscode-e2e.sh installs code-server, Node 24 and writes env.json."""
    configured = os.environ.get("TIERWISE_E2E_CACHE", "").strip()
    return Path(configured) if configured else Path.home() / ".cache" / "tierwise-e2e"


def tools() -> dict[str, str] | None:
    """The paths the setup script recorded, or None when it has not run."""
    env = e2e_cache() / "env.json"
    if not env.is_file():
        return None
    data: dict[str, str] = json.loads(env.read_text(encoding="utf-8"))
    return data if all(Path(p).exists() for p in data.values()) else None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start(
    cmd: list[str], env: dict[str, str], log: Path, **kwargs: Any
) -> subprocess.Popen[bytes]:
    # start_new_session: setsid, so that the whole tree (code-server leaves helpers behind)
    # is killed with its process group.
    with log.open("ab") as out:
        return subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
        )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    # Helpers that outlived their parent are still in the group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def install_extension(
    code_server: str, vsix: Path, dirs: dict[str, Path], env: dict[str, str]
) -> None:
    """code-server --install-extension into the private extensions directory."""
    subprocess.run(
        [
            code_server,
            "--user-data-dir",
            str(dirs["user_data"]),
            "--extensions-dir",
            str(dirs["extensions"]),
            "--install-extension",
            str(vsix),
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )


@contextlib.contextmanager
def workbench(
    tool: dict[str, str], folder: Path, dirs: dict[str, Path], env: dict[str, str]
) -> Iterator[tuple[CdpPipe, str]]:
    """Serve `folder` with code-server and open it in headless Chromium; yields (cdp, session)."""
    port = free_port()
    server = _start(
        [
            tool["code_server"],
            "--auth",
            "none",
            "--bind-addr",
            f"127.0.0.1:{port}",
            "--user-data-dir",
            str(dirs["user_data"]),
            "--extensions-dir",
            str(dirs["extensions"]),
            "--disable-telemetry",
            "--disable-update-check",
            "--disable-workspace-trust",
            "--disable-getting-started-override",
            str(folder),
        ],
        env,
        dirs["logs"] / "code-server.log",
    )
    browser: subprocess.Popen[bytes] | None = None
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "code-server did not start: "
                        + (dirs["logs"] / "code-server.log").read_text(errors="replace")[-2000:]
                    ) from None
                time.sleep(0.2)
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        chrome = (
            f'exec "{tool["chromium"]}" --headless=new --no-sandbox --disable-gpu '
            "--remote-debugging-pipe --no-first-run --no-default-browser-check "
            "--disable-background-networking --disable-component-update --disable-sync "
            f"--user-data-dir={dirs['chrome']} --window-size={WIDTH},{HEIGHT} about:blank "
            f"3<&{to_browser_r} 4>&{from_browser_w}"
        )
        browser = _start(
            ["bash", "-c", chrome],
            env,
            dirs["logs"] / "chromium.log",
            pass_fds=(to_browser_r, from_browser_w),
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        cdp = CdpPipe(to_browser_w, from_browser_r)
        target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        cdp.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        cdp.send("Page.navigate", {"url": f"http://127.0.0.1:{port}/"}, session=session)
        yield cdp, session
    finally:
        if browser is not None:
            _kill_group(browser)
        _kill_group(server)


# The progress notification's Cancel button, found by its toast's title.
_CANCEL_BUTTON = """
(() => {
  for (const toast of document.querySelectorAll('.notification-toast')) {
    if (!toast.textContent.includes(%s)) continue;
    for (const b of toast.querySelectorAll('.monaco-button')) {
      if (b.textContent.trim() === 'Cancel') {
        const r = b.getBoundingClientRect();
        return {x: r.x + r.width / 2, y: r.y + r.height / 2};
      }
    }
  }
  return null;
})()
"""


def drive(
    cdp: CdpPipe, session: str, out: Path, screenshot: Path, timeout: float = 300
) -> dict[str, Any]:
    """Answer the self-test's requests until it is done; returns its result.json."""
    deadline = time.monotonic() + timeout
    shot_taken = cancel_clicked = False
    while not (out / "done").exists():
        if time.monotonic() > deadline:
            partial = out / "result.json"
            raise AssertionError(
                "the self-test did not finish; so far: "
                + (partial.read_text() if partial.exists() else "nothing")
            )
        if not shot_taken and (out / "quickpick-open").exists():
            time.sleep(0.5)  # let the picker's list render
            data = cdp.send("Page.captureScreenshot", {"format": "png"}, session=session)
            screenshot.write_bytes(base64.b64decode(data["data"]))
            (out / "screenshot-done").write_text("")
            shot_taken = True
        if not cancel_clicked and (out / "progress-open").exists():
            where = cdp.evaluate(_CANCEL_BUTTON % json.dumps("tierwise explain"), session=session)
            if where:
                cdp.click(where["x"], where["y"], session=session)
                cancel_clicked = True
        time.sleep(0.1)
    result: dict[str, Any] = json.loads((out / "result.json").read_text(encoding="utf-8"))
    result["_driver"] = {"screenshot": shot_taken, "cancel_clicked": cancel_clicked}
    return result
