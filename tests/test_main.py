"""`python -m lenet_utils` (lenet_utils/__main__.py): Ctrl-C while PyTorch loads is one line, not a traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest


@pytest.mark.slow
def test_ctrl_c_while_starting_stops_without_a_traceback(tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-m", "lenet_utils", "train", "--data-dir", str(tmp_path)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.3)  # Python is up and PyTorch, which takes a second or more, is being imported
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert "Traceback" not in err, err
    assert err.startswith("error: interrupted"), err
    assert err.count("\n") == 1, err
    assert child.returncode == 130, err
