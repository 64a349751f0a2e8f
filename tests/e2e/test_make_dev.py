"""`muhurta dev` (what `make dev` runs), as a person would use it: start it on an empty data
folder, see /ready green, the Temporal UI and the demo onboarding workflow waiting there, then
press Ctrl-C and find nothing left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support import poll_until
from temporalio.client import Client

from core.embedded import free_port, port_open, wait_until

pytestmark = pytest.mark.e2e

SERVER_ADDRESSES = ("DATABASE_URL", "REDIS_URL", "TEMPORAL_ADDRESS", "JWT_SECRET", "ENCRYPTION_KEYS",
                    "RAZORPAY_KEY_ID", "RAZORPAY_KEY_SECRET", "RAZORPAY_WEBHOOK_SECRET", "TEMPORAL_UI_URL")


def _ours(marker: str) -> list[int]:
    """Processes whose command line or environment names our data folder."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            seen = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if marker.encode() in seen:
            found.append(int(entry.name))
    return found


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], dict[str, int], Path]]:
    ports = {name: free_port() for name in ("api", "postgres", "redis", "temporal", "temporal_ui", "razorpay",
                                            "worker_metrics")}
    data = tmp_path / "dev-data"
    env = {key: value for key, value in os.environ.items() if key not in SERVER_ADDRESSES}
    env.update({
        "MUHURTA_DATA_DIR": str(data), "API_PORT": str(ports["api"]),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports['api']}",
        "DEV_POSTGRES_PORT": str(ports["postgres"]), "DEV_REDIS_PORT": str(ports["redis"]),
        "DEV_TEMPORAL_PORT": str(ports["temporal"]), "DEV_TEMPORAL_UI_PORT": str(ports["temporal_ui"]),
        "RAZORPAY_LOCAL_PORT": str(ports["razorpay"]), "MUHURTA_ENV": "development",
        "WORKER_METRICS_PORT": str(ports["worker_metrics"]),
    })
    log = (tmp_path / "dev.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "workers.cli", "dev"], env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process, ports, data
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        log.close()


async def test_make_dev_runs_everything_and_ctrl_c_stops_everything(dev, tmp_path):
    process, ports, data = dev
    base = f"http://127.0.0.1:{ports['api']}"

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError((tmp_path / "dev.log").read_text())
        if "Muhurta is running" not in (tmp_path / "dev.log").read_text():  # its banner, printed last
            return False
        try:
            return httpx.get(f"{base}/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, "muhurta dev", timeout=240)
    assert httpx.get(f"{base}/ready").json()["checks"] == {"postgres": "up", "redis": "up", "temporal": "up"}
    assert httpx.get(f"{base}/docs").status_code == 200
    assert httpx.get(f"http://127.0.0.1:{ports['temporal_ui']}/", timeout=5).status_code == 200
    output = (tmp_path / "dev.log").read_text()
    assert f"Temporal UI  http://127.0.0.1:{ports['temporal_ui']}" in output
    # the collector-free view: both /metrics readable from this machine, as the banner says
    worker_metrics = f"http://127.0.0.1:{ports['worker_metrics']}/metrics"
    assert f"metrics      {base}/metrics (API), {worker_metrics} (worker)" in output
    assert 'muhurta_http_requests_total{method="GET",route="/ready",status_class="2xx"}' in httpx.get(
        f"{base}/metrics").text
    wait_until(lambda: "temporal_worker_task_slots_available" in httpx.get(worker_metrics).text,
               "the worker's Temporal SDK metrics", timeout=30)  # drained from the SDK every second

    temporal = await Client.connect(f"127.0.0.1:{ports['temporal']}")
    query = "WorkflowType = 'Onboarding' AND EntityStatus = 'awaiting_approval'"

    async def waiting_onboardings() -> list[str]:
        return [w.id async for w in temporal.list_workflows(query)]
    found = await poll_until(waiting_onboardings, bool, timeout=30)  # visibility is eventually consistent
    assert len(found) == 1 and found[0].startswith("onboarding-")
    assert _ours(str(data)), "the servers should be running under the data folder"

    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole foreground group
    assert process.wait(90) == 0
    output = (tmp_path / "dev.log").read_text()
    assert output.rstrip().endswith("stopped") and "Traceback" not in output, output[-3000:]
    assert _ours(str(data)) == []
    assert not any(port_open(port) for port in ports.values())
