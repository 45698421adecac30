"""`make demo` (python -m devstack.demo): the whole journey, on ports and a tenant of its own, beside `make run`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from devstack.stack import DEFAULT_SERVICE_PORT, SPA_PORT, LocalStage

ROOT = Path(__file__).resolve().parents[2]


def test_two_demos_at_once_both_succeed_without_make_runs_ports_or_tenant() -> None:
    # Each would have needed make run's sandbox, S3 and service ports and .sandbox/state.json: two at once prove
    # neither takes them, so one also runs while `make run` holds them.
    state = ROOT / ".sandbox" / "state.json"
    before = state.stat().st_mtime_ns if state.exists() else None
    demos = [
        subprocess.Popen(
            [sys.executable, "-m", "devstack.demo"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(2)
    ]
    outputs = [demo.communicate(timeout=180)[0].decode() for demo in demos]

    assert [demo.returncode for demo in demos] == [0, 0], outputs
    used: set[int] = set()
    for output in outputs:
        assert output.rstrip().endswith("make demo: the whole journey works.")
        started = re.search(
            r"Auth0 sandbox on :(\d+) \(a throwaway tenant\), the local S3 on :(\d+) and chalice local on :(\d+)",
            output,
        )
        assert started is not None, output
        used |= {int(started[1]), int(started[2]), int(started[3])}
    assert len(used) == 6, "each demo has its own three ports"
    local = LocalStage.read()
    assert used.isdisjoint({local.sandbox_port, local.content.port, DEFAULT_SERVICE_PORT, SPA_PORT})
    assert (state.stat().st_mtime_ns if state.exists() else None) == before, "make run's tenant is untouched"
