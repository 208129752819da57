"""Starting and stopping a local ``rasa run --enable-api`` on 127.0.0.1."""

from __future__ import annotations

import logging
import secrets
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import httpx

from nlu.settings import PROJECT_ROOT, NluSettings
from nlu.training import Manifest, TrainingError, rasa_environment, rasa_executable

logger = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def current_model(settings: NluSettings) -> Manifest:
    manifest = Manifest.load(settings.model_dir)
    if manifest is None or not manifest.model_path(settings.model_dir).exists():
        raise TrainingError(f"no trained model in {settings.model_dir}; run 'python -m nlu train'")
    return manifest


class LocalRasaServer:
    """A Rasa server child process; a context manager that stops it on exit."""

    def __init__(
        self,
        settings: NluSettings,
        *,
        port: int | None = None,
        token: str | None = None,
        model: Path | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.settings = settings
        self.port = port or free_port()
        self.token = (
            token or settings.rasa_token.get_secret_value() or secrets.token_hex(24)
        )  # hex: a token starting with '-' would read as an option
        self.model = model or current_model(settings).model_path(settings.model_dir)
        self.log_file = log_file or PROJECT_ROOT / "build" / "logs" / f"rasa-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            str(rasa_executable(self.settings)),
            "run",
            "--enable-api",
            "-i",
            "127.0.0.1",
            "-p",
            str(self.port),
            "--auth-token",
            self.token,
            "-m",
            str(self.model),
        ]

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        logger.info("starting Rasa on %s (log: %s)", self.url, self.log_file)
        with open(self.log_file, "ab") as output:
            self._process = subprocess.Popen(
                self.command(), env=rasa_environment(), stdout=output, stderr=subprocess.STDOUT
            )
        self.wait_ready(self.settings.rasa_startup_timeout_seconds)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                tail = self.log_file.read_text(errors="replace").splitlines()[-15:]
                raise TrainingError(
                    f"Rasa exited with code {self._process.returncode} while starting; "
                    f"last lines of {self.log_file}:\n" + "\n".join(tail)
                )
            try:
                response = httpx.get(f"{self.url}/status", params={"token": self.token}, timeout=2)
                if response.status_code == 200 and response.json().get("model_file"):
                    logger.info("Rasa is ready on %s", self.url)
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.5)
        self.stop()
        raise TrainingError(f"Rasa did not become ready within {timeout:.0f} s")

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> LocalRasaServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
