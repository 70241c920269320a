"""Real faults, each in a child process: a full or read-only disk, unreadable files, Ctrl-C, two trainers at once.

The disks are small tmpfs mounts in a private mount namespace (`unshare -m`, which needs root); an unreadable
file is read by a child without the capabilities that let root read anything (`setpriv`), or, for a normal
user, by the user. Where the machine allows neither, the test is skipped and says why.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every test starts Python processes that load PyTorch

# Every child builds the same tiny data set, so it trains in well under a second once torch is imported.
PRELUDE = """
import json, os, sys, warnings
from pathlib import Path
import torch
from torch.utils.data import TensorDataset
import lenet_utils.cache as cache_module
from lenet_utils import DataSplits, LenetError, TrainConfig, train_or_load

torch.set_num_threads(1)
x = torch.randn(40, 1, 28, 28, generator=torch.Generator().manual_seed(0))
y = torch.arange(40) % 10
DATA = DataSplits(TensorDataset(x, y), TensorDataset(x[:20], y[:20]), TensorDataset(x[20:], y[20:]), 0.0, 1.0, 0)
CONFIG = TrainConfig(epochs=1, batch_size=20)
CPU = torch.device("cpu")


def report(**fields):
    print(json.dumps(fields), flush=True)


def after_training(result):
    return result
"""

# train_or_load in a folder given as argv[1]; reports whether training ran, the error or warnings, the files left.
TRAIN_OR_LOAD = """
trained = []
real_train = cache_module.train
cache_module.train = lambda *args: trained.append(1) or after_training(real_train(*args))
folder = sys.argv[1]
try:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = train_or_load(CONFIG, DATA, CPU, directory=Path(folder))
    report(trained=bool(trained), model=result.model is not None, warnings=[str(w.message) for w in caught],
           categories=[w.category.__name__ for w in caught], files=sorted(os.listdir(folder)))
except LenetError as exc:
    report(trained=bool(trained), error=type(exc).__name__, message=str(exc))
"""

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def can_unshare() -> str | None:
    """Why a private tmpfs cannot be mounted here, or None if it can."""
    if shutil.which("unshare") is None:
        return "the unshare command is missing"
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, text=True)
    return None if probe.returncode == 0 else f"unshare -m failed ({probe.stderr.strip()}); it needs root"


def run_child(code: str, *args: str, mount: str | None = None, unprivileged: bool = False, timeout: int = 300):
    """Run PRELUDE + `code` in a fresh interpreter; `mount` mounts a tmpfs with those options on args[0]."""
    command = [sys.executable, "-c", PRELUDE + code, *args]
    if unprivileged and os.geteuid() == 0:
        # Root reads any file; without these two capabilities it obeys permission bits like anyone else.
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv, so no child can be denied a file")
        dac = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--bounding-set={dac}", f"--inh-caps={dac}", *command]
    if mount is not None:
        reason = can_unshare()
        if reason:
            pytest.skip(f"no private tmpfs for a real disk fault: {reason}")
        # In `sh -c SCRIPT FOLDER COMMAND...`, $0 is the folder and "$@" the command to run once it is mounted.
        command = ["unshare", "-m", "sh", "-c", f'mount -t tmpfs -o {mount} tmpfs "$0" && exec "$@"', args[0], *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=ENV)
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def train_or_load_in(folder: Path, mount: str | None = None, fill_after_training: bool = False) -> dict:
    """Run train_or_load in `folder` in a child; optionally fill the disk once training is over."""
    fill = (
        "def after_training(result):\n"
        "    with open(sys.argv[1] + '/filler', 'wb', buffering=0) as fh:  # the disk fills up while the model trains\n"
        "        try:\n"
        "            while True: fh.write(bytes(4096))\n"
        "        except OSError:\n"
        "            pass\n"
        "    return result\n"
    )
    folder.mkdir(exist_ok=True)
    return run_child((fill if fill_after_training else "") + TRAIN_OR_LOAD, str(folder), mount=mount)


# --------------------------------------------------------------------------- the cache cannot be written


def test_a_full_disk_is_reported_before_training(tmp_path):
    outcome = train_or_load_in(tmp_path / "disk", mount="size=100k")
    assert outcome["error"] == "CacheError"
    assert not outcome["trained"]
    assert f"cannot save checkpoints in {tmp_path / 'disk'} (No space left on device" in outcome["message"]
    assert "set LENET_CACHE" in outcome["message"]


def test_a_read_only_cache_is_reported_before_training(tmp_path):
    outcome = train_or_load_in(tmp_path / "disk", mount="ro,size=1m")
    assert outcome["error"] == "CacheError"
    assert not outcome["trained"]
    assert f"cannot save checkpoints in {tmp_path / 'disk'} (Read-only file system)" in outcome["message"]


def test_a_disk_that_fills_during_training_keeps_the_model(tmp_path):
    outcome = train_or_load_in(tmp_path / "disk", mount="size=1m", fill_after_training=True)
    assert outcome["trained"]
    assert outcome["model"]
    assert outcome["categories"] == ["CheckpointNotSavedWarning"]
    [warning] = outcome["warnings"]
    assert warning.startswith(f"could not save the trained model in {tmp_path / 'disk'} (No space left on device)")
    assert outcome["files"] == ["filler"]  # no checkpoint, no temporary file left behind


def test_a_checkpoint_on_a_tmpfs_is_saved_and_loaded(tmp_path):
    first = train_or_load_in(tmp_path / "disk", mount="size=2m")
    assert first["trained"]
    assert first["warnings"] == []
    assert len(first["files"]) == 1


# --------------------------------------------------------------------------- files that cannot be read


def test_an_unreadable_checkpoint_is_not_called_damaged(tmp_path):
    folder = tmp_path / "cache"
    assert train_or_load_in(folder)["trained"]
    [checkpoint] = folder.iterdir()
    checkpoint.chmod(0)
    outcome = run_child(TRAIN_OR_LOAD, str(folder), unprivileged=True)
    assert outcome["error"] == "CacheError"
    assert not outcome["trained"]
    assert outcome["message"].startswith(f"cannot read {checkpoint} (Permission denied)")
    assert "damaged" not in outcome["message"]


def test_an_unreadable_data_file_is_not_called_damaged(tmp_path, write_idx):
    labels = write_idx(tmp_path / "t10k-labels-idx1-ubyte", list(range(10)))
    labels.chmod(0)
    code = (
        "from lenet_utils.idx import read_idx\n"
        "try:\n    read_idx(sys.argv[1])\nexcept LenetError as exc:\n    report(message=str(exc))\n"
    )
    message = run_child(code, str(labels), unprivileged=True)["message"]
    assert message == f"{labels} cannot be read (Permission denied); make it readable (chmod a+r) or use another copy."


# --------------------------------------------------------------------------- Ctrl-C on the command line

# The command line on the tiny data set; the training lasts long enough to be interrupted.
CLI = """
import lenet_utils.cli as cli
def load(data_dir=None, seed=None):
    print("loading", flush=True)
    if sys.argv[1] == "slow-data":
        __import__("time").sleep(60)
    return DATA
cli.load_fashion_mnist = load
sys.exit(cli.main(["train", "--epochs", "1000", "--batch-size", "20", "--device", "cpu"]))
"""


def interrupt_cli(wait_for: str, mode: str) -> subprocess.CompletedProcess:
    """Start the command line in a child, send it SIGINT once it printed `wait_for`, and collect the result."""
    child = subprocess.Popen(
        [sys.executable, "-u", "-c", PRELUDE + CLI, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    lines = []
    deadline = time.monotonic() + 300
    while not any(line.startswith(wait_for) for line in lines) and time.monotonic() < deadline:
        lines.append(child.stdout.readline())
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    return subprocess.CompletedProcess(child.args, child.returncode, "".join(lines) + out, err)


def test_ctrl_c_during_training_exits_130_without_an_accuracy():
    result = interrupt_cli("epoch 1/1000", "fast-data")
    assert result.returncode == 130
    assert "test accuracy" not in result.stdout
    assert result.stderr.startswith("error: interrupted after ")
    assert result.stderr.count("\n") == 1
    assert "of 1000 epochs, so there is no test accuracy" in result.stderr


def test_ctrl_c_while_loading_the_data_exits_130_without_a_traceback():
    result = interrupt_cli("loading", "slow-data")
    assert result.returncode == 130
    assert result.stderr == ("error: interrupted before the test accuracy was measured; run it again for one.\n")


def test_a_reader_that_goes_away_stops_the_command_line_quietly():
    """`python -m lenet_utils train | head -1`: the pipe closes after the first epoch line."""
    child = subprocess.Popen(
        [sys.executable, "-u", "-c", PRELUDE + CLI, "fast-data"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    while not child.stdout.readline().startswith(b"epoch 1/"):
        pass
    child.stdout.close()
    assert child.wait(timeout=120) == 141  # 128 + SIGPIPE, as for any tool whose reader went away
    assert child.stderr.read() == b""


# --------------------------------------------------------------------------- two processes at once


def test_two_processes_training_the_same_model_leave_one_valid_checkpoint(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", PRELUDE + TRAIN_OR_LOAD, str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        for _ in range(2)
    ]
    outcomes = [json.loads(child.communicate(timeout=300)[0].strip().splitlines()[-1]) for child in children]
    assert all("error" not in outcome for outcome in outcomes), outcomes
    assert all(outcome["warnings"] == [] for outcome in outcomes), outcomes
    [checkpoint] = os.listdir(folder)
    assert checkpoint.endswith(".pt")
    assert not train_or_load_in(folder)["trained"]  # a third run loads it


# --------------------------------------------------------------------------- installing a room's bundle

# install_bundle with LENET_CACHE=argv[1] and the bundle argv[2]; argv[3], if given, caps this process's memory at
# that many MiB above what it holds once PyTorch is loaded. Reports the outcome and every file left in the cache.
INSTALL_BUNDLE = """
import resource
from lenet_utils.room import install_bundle

os.environ["LENET_CACHE"] = sys.argv[1]
if len(sys.argv) > 3:
    used = int(Path("/proc/self/status").read_text().split("VmSize:")[1].split()[0]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (used + int(sys.argv[3]) * 2**20,) * 2)
try:
    outcome = {"installed": len(install_bundle(Path(sys.argv[2])))}
except LenetError as exc:
    outcome = {"error": type(exc).__name__, "message": str(exc)}
except MemoryError:
    outcome = {"error": "MemoryError"}
files = sorted(str(p.relative_to(sys.argv[1])) for p in Path(sys.argv[1]).rglob("*") if not p.is_dir())
report(files=files, **outcome)
"""


def write_bundle(path: Path, members: dict[str, bytes]) -> Path:
    """A bundle of `members` (path inside it -> content) with their SHA256SUMS."""
    sums = "".join(f"{hashlib.sha256(content).hexdigest()}  {name}\n" for name, content in members.items())
    with tarfile.open(path, "w:gz") as tar:
        for name, content in {**members, "SHA256SUMS": sums.encode()}.items():
            info = tarfile.TarInfo(f"lenet-room/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


def a_room(tmp_path: Path) -> Path:
    """A bundle of 1.5 MB of files (random, so that they do not compress)."""
    files = {
        "fashion-mnist/t10k-labels-idx1-ubyte": os.urandom(500_000),
        "checkpoints/lenet-tanh-0.pt": os.urandom(500_000),
        "checkpoints/lenet-relu-0.pt": os.urandom(500_000),
    }
    return write_bundle(tmp_path / "room.tar.gz", files)


@pytest.mark.parametrize(
    ("mount", "reason"), [("size=1m", "No space left on device"), ("ro,size=4m", "Read-only file system")]
)
def test_a_bundle_into_a_full_or_read_only_cache_is_one_sentence_and_installs_nothing(tmp_path, mount, reason):
    (tmp_path / "disk").mkdir()
    outcome = run_child(INSTALL_BUNDLE, str(tmp_path / "disk"), str(a_room(tmp_path)), mount=mount)
    assert outcome["error"] == "CacheError"
    assert outcome["message"].startswith(f"cannot install the bundle into {tmp_path / 'disk'}")
    assert f"({reason}), so nothing was installed" in outcome["message"]
    assert outcome["files"] == []


def test_a_bundle_fits_a_disk_just_large_enough(tmp_path):
    (tmp_path / "disk").mkdir()
    outcome = run_child(INSTALL_BUNDLE, str(tmp_path / "disk"), str(a_room(tmp_path)), mount="size=3m")
    assert outcome["installed"] == 3
    assert len(outcome["files"]) == 3


def test_a_bundle_of_many_large_members_is_refused_in_little_memory(tmp_path):
    """A 1 MB bundle of zeros that unpacks to 400 MB: the members are streamed and counted, never all held."""
    zeros = bytes(4 << 20)
    bundle = write_bundle(tmp_path / "bomb.tar.gz", {f"checkpoints/lenet-{n}.pt": zeros for n in range(100)})
    outcome = run_child(INSTALL_BUNDLE, str(tmp_path / "cache"), str(bundle), "200")
    assert outcome["error"] == "BundleError"
    assert "more checkpoints than the book has models" in outcome["message"]
    assert outcome["files"] == []
