"""Every command safe in any folder and account (issue 21): nothing deleted that is not the build's, no tracebacks.

The checkouts live in a folder whose path has a space and a non-ASCII letter (".../My Projects/lénet"). Another
account is a real one (`setpriv --reuid=nobody`) where this Python can run as it, else root without the two
capabilities that let it read anyone's files; a full disk is a real tmpfs in a private mount namespace. Where the
machine allows none of these, the test is skipped and says why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
NO_DAC = "-dac_override,-dac_read_search"  # root without these obeys permission bits like anyone else
WITHOUT_DAC = ["setpriv", f"--bounding-set={NO_DAC}", f"--inh-caps={NO_DAC}"]
LONG_NAME = "x" * 300
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def odd_folder(base: Path) -> Path:
    """A folder named as a student's might be: a space and an accent in its path."""
    folder = base / "My Projects" / "lénet"
    folder.mkdir(parents=True)
    return folder


# --------------------------------------------------------------------------- the Makefile in an odd folder


BUILT = {".git", ".venv", "node_modules", "_build", ".cache", ".pytest_cache", ".ruff_cache"}


def make_checkout(base: Path) -> Path:
    """A copy of what the Makefile's mutation recipe uses, with stand-ins for python and mutmut.

    The stand-in mutmut records the folder it ran in and its arguments in mutmut.log beside the checkout.
    """
    checkout = odd_folder(base)
    for path in REPO.iterdir():  # the sources, a few MB: what the recipes copy may grow
        if path.name in BUILT or path.name.endswith(".egg-info"):
            continue
        if path.is_dir():
            shutil.copytree(path, checkout / path.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, checkout / path.name)
    bin_dir = checkout / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text("#!/bin/sh\nexit 0\n")  # `python -m pip install mutmut`: nothing to do
    (bin_dir / "mutmut").write_text('#!/bin/sh\nprintf "%s|%s\\n" "$PWD" "$*" >> "$MUTMUT_LOG"\n')
    for stub in bin_dir.iterdir():
        stub.chmod(0o755)
    (checkout / ".venv" / ".installed").touch()  # newer than what it depends on: make installs nothing
    return checkout


def make(checkout: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run `make ARGS` in `checkout`."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    log = str(checkout.parent / "mutmut.log")
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=checkout,
        env={**ENV, "MUTMUT_LOG": log, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_make_mutation_with_a_space_in_tmpdir_deletes_nothing_outside(tmp_path):
    """Issue 21 item 1: TMPDIR="<dir>/My Stuff" ran `rm -rf <dir>/My` and made a stray Stuff/ in the checkout."""
    checkout = make_checkout(tmp_path)
    victim = tmp_path / "My"
    victim.write_text("a file of mine")
    result = make(checkout, "mutation", TMPDIR=str(tmp_path / "My Stuff"))
    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "a file of mine"
    assert not (checkout / "Stuff").exists()
    copy = tmp_path / "My Stuff" / "lenet-utils-mutation"
    assert (copy / ".made-by-make-mutation").is_file()
    assert (copy / "lenet_utils" / "data.py").is_file()
    assert (checkout.parent / "mutmut.log").read_text().splitlines() == [f"{copy}|run", f"{copy}|results"]


@pytest.mark.slow
def test_make_mutation_reuses_its_own_copy(tmp_path):
    checkout = make_checkout(tmp_path)
    copy = tmp_path / "scratch copy"
    assert make(checkout, "mutation", f"MUTATION_DIR={copy}").returncode == 0
    (copy / "left over").write_text("")
    assert make(checkout, "mutation", f"MUTATION_DIR={copy}").returncode == 0
    assert not (copy / "left over").exists()  # emptied: the folder is the recipe's own


@pytest.mark.slow
def test_make_mutation_takes_an_empty_folder(tmp_path):
    """A run killed between making its folder and marking it leaves an empty folder, which is no one's work."""
    checkout = make_checkout(tmp_path)
    (tmp_path / "empty").mkdir()
    assert make(checkout, "mutation", f"MUTATION_DIR={tmp_path / 'empty'}").returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["a folder of mine", "a link to it", "the checkout itself"])
def test_make_mutation_refuses_a_folder_it_did_not_make(tmp_path, kind):
    checkout = make_checkout(tmp_path)
    mine = tmp_path / "my work"
    mine.mkdir()
    (mine / "thesis.tex").write_text("months of work")
    target = {"a folder of mine": mine, "a link to it": tmp_path / "link", "the checkout itself": checkout}[kind]
    if kind == "a link to it":
        target.symlink_to(mine)
    result = make(checkout, "mutation", f"MUTATION_DIR={target}")
    assert result.returncode != 0
    assert f"make mutation: {target} exists and is not a copy this recipe made; remove it or set MUTATION_DIR" in (
        result.stderr
    )
    assert (mine / "thesis.tex").read_text() == "months of work"
    assert (checkout / "Makefile").is_file()
    assert not (checkout.parent / "mutmut.log").exists()


# --------------------------------------------------------------------------- another account


def another_account(kind: str) -> list[str]:
    """The command prefix that runs a child as another account of `kind`, or skip saying why it cannot."""
    if kind == "this user":  # a normal user is already denied what its permission bits deny
        if os.geteuid() == 0:
            pytest.skip("runs as root, who reads every file; the other two kinds cover it")
        return []
    if os.geteuid() != 0:
        pytest.skip(f"only root can become {kind}")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is missing")
    prefix = NOBODY if kind == "nobody" else WITHOUT_DAC
    probe = subprocess.run([*prefix, sys.executable, "-c", "import lenet_utils"], capture_output=True, text=True)
    if probe.returncode != 0:
        reason = probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else f"exit {probe.returncode}"
        pytest.skip(f"{kind} cannot run {sys.executable} and import lenet_utils here ({reason})")
    return prefix


def make_private(folder: Path, kind: str) -> None:
    """Make `folder` a private folder of an account other than the child's."""
    if kind == "this user":
        folder.chmod(0)
        return
    if kind != "nobody":
        os.chown(folder, 65534, 65534)  # the child is root, so the folder must belong to someone else
    folder.chmod(0o700)


@pytest.fixture
def shared_tmp():
    """A temporary folder every account may enter (pytest's own is private to the user running the tests)."""
    folder = Path(tempfile.mkdtemp(prefix="lenet-safety-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


# Finds the data with no configuration, then asks train_or_load for a tiny model: the cache check comes second.
LOOKUP = """
import json, sys, torch
from torch.utils.data import TensorDataset
from lenet_utils import DataSplits, LenetError, TrainConfig, find_data_dir, load_split, train_or_load
try:
    found = str(find_data_dir(download=False))
    labels = load_split("test")[1]
except LenetError as exc:
    print(json.dumps({"error": str(exc)}))
    sys.exit()
x, y = torch.zeros(20, 1, 28, 28), torch.arange(20) % 10
data = DataSplits(TensorDataset(x, y), TensorDataset(x, y), TensorDataset(x, y), 0.0, 1.0, 0)
try:
    train_or_load(TrainConfig(epochs=1, batch_size=20), data, torch.device("cpu"))
    cache = "usable"
except LenetError as exc:
    cache = f"{type(exc).__name__}: {exc}"
print(json.dumps({"found": found, "labels": len(labels), "cache": cache}))
"""


def run_lookup(prefix: list[str], **env: str) -> dict:
    """Run LOOKUP in a fresh interpreter; fail on any traceback."""
    result = subprocess.run(
        [*prefix, sys.executable, "-c", LOOKUP],
        env={**{k: v for k, v in ENV.items() if k != "FASHION_MNIST_DIR"}, **env},
        capture_output=True,
        text=True,
        timeout=300,
        cwd="/",
    )
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def debian_copy() -> Path:
    """Debian's copy of Fashion-MNIST, which CI installs (the case of the issue: it exists, yet a traceback came)."""
    import lenet_utils.locate as locate

    if not (locate.DEBIAN_DIR / "t10k-labels-idx1-ubyte.gz").is_file():
        pytest.fail(f"Debian's dataset-fashion-mnist is not installed in {locate.DEBIAN_DIR}; make system-data")
    return locate.DEBIAN_DIR


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["nobody", "root without the power to read any file", "this user"])
def test_another_accounts_private_cache_is_skipped_for_the_debian_copy(shared_tmp, debian_copy, kind):
    """Issue 21 item 5: an unreadable home cache, or a cache folder of mode 700 owned by someone else."""
    prefix = another_account(kind)
    cache = shared_tmp / "someone's cache"
    (cache / "data" / "FashionMNIST" / "raw").mkdir(parents=True)
    make_private(cache, kind)
    try:
        outcome = run_lookup(prefix, LENET_CACHE=str(cache), HOME=str(shared_tmp))
    finally:
        cache.chmod(0o700)  # so that the fixture can remove it
    assert outcome["found"] == str(debian_copy)
    assert outcome["labels"] == 10_000
    assert outcome["cache"].startswith(f"CacheError: cannot save checkpoints in {cache / 'checkpoints'} (Permission")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["nobody", "root without the power to read any file", "this user"])
def test_an_unreadable_file_in_a_found_copy_is_named_once_nothing_else_is_found(shared_tmp, tmp_path, kind):
    """The lookup opens each file before it chooses a folder, so "cannot read" comes with the folder it skipped."""
    prefix = another_account(kind)
    debian = shared_tmp / "debian copy"
    debian.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"):
        (debian / f"{name}.gz").write_bytes(b"")
    private = debian / "t10k-labels-idx1-ubyte.gz"
    private.write_bytes(b"")
    make_private(private, kind)
    code = (
        "import json, sys\nfrom pathlib import Path\nimport lenet_utils.locate as locate\n"
        "locate.DEBIAN_DIR = Path(sys.argv[1])\n"
        "try:\n    locate.find_data_dir(download=False)\nexcept locate.DataUnavailableError as exc:\n"
        "    print(json.dumps(str(exc)))\n"
    )
    result = subprocess.run(
        [*prefix, sys.executable, "-c", code, str(debian)],
        env={**ENV, "LENET_CACHE": str(shared_tmp / "cache")},
        capture_output=True,
        text=True,
        timeout=300,
        cwd="/",
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert json.loads(result.stdout) == (
        f"Fashion-MNIST is not on this machine (skipped: {debian} (t10k-labels-idx1-ubyte.gz: Permission denied)); "
        "name a folder holding the four IDX files (data_dir, --data-dir or FASHION_MNIST_DIR), install Debian's "
        "package dataset-fashion-mnist, or connect to the internet so torchvision can download it."
    )


@pytest.mark.slow
def test_a_cache_name_too_long_falls_back_to_the_debian_copy(tmp_path, debian_copy):
    """Issue 21 item 5: a 300-character LENET_CACHE gave `OSError: [Errno 36] File name too long`."""
    outcome = run_lookup([], LENET_CACHE=str(tmp_path / LONG_NAME))
    assert outcome["found"] == str(debian_copy)
    assert outcome["labels"] == 10_000
    assert "File name too long" in outcome["cache"]


@pytest.mark.slow
def test_no_home_at_all_falls_back_to_the_debian_copy(tmp_path, debian_copy):
    env = {k: v for k, v in ENV.items() if k not in ("HOME", "LENET_CACHE")}
    result = subprocess.run(
        [sys.executable, "-c", LOOKUP], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert "Traceback" not in result.stderr, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["found"] == str(debian_copy)


# --------------------------------------------------------------------------- the command line


def run_cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """Run `python -m lenet_utils ARGS` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "lenet_utils", *args],
        cwd=cwd,
        env={**ENV, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "data_dir, message",
    [
        ("", "error: the data folder's name is empty; name a folder holding the four IDX files"),
        (LONG_NAME, "cannot be looked into (File name too long); name a folder holding the four IDX files"),
    ],
)
def test_an_unusable_data_dir_is_one_line_in_an_odd_folder(tmp_path, data_dir, message):
    """`--data-dir ''` was silently ignored (issue 16); a 300-character one gave a traceback (issue 21)."""
    result = run_cli("train", "--epochs", "1", "--data-dir", data_dir, cwd=odd_folder(tmp_path))
    assert result.returncode == 1
    assert result.stdout == ""
    assert message in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


@pytest.mark.slow
def test_a_batch_larger_than_fashion_mnist_is_refused_before_the_data_loads(tmp_path):
    """Issue 21 item 9: `--batch-size 100000` was refused only after the data had loaded, with the top usage."""
    missing = tmp_path / "no data here"
    result = run_cli("train", "--batch-size", "100000", "--data-dir", str(missing), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: python -m lenet_utils train ")
    assert "argument --batch-size: must be at most 55000, the number of training images, got 100000" in result.stderr
    assert str(missing) not in result.stderr  # the data was never looked for


# --------------------------------------------------------------------------- a full disk


def can_mount() -> str | None:
    """Why a private tmpfs cannot be mounted here, or None if it can."""
    if shutil.which("unshare") is None:
        return "the unshare command is missing"
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True, text=True
    )
    return None if probe.returncode == 0 else f"mounting a tmpfs failed ({probe.stderr.strip()}); it needs root"


@pytest.mark.slow
def test_a_full_disk_for_the_download_names_the_folder(tmp_path):
    """No data anywhere and a cache on a 1 MB disk: the download is refused first, naming the folder."""
    reason = can_mount()
    if reason:
        pytest.skip(f"no private tmpfs for a real full disk: {reason}")
    cache, empty = tmp_path / "small disk", tmp_path / "no debian"
    cache.mkdir()
    empty.mkdir()
    code = (
        "import json, sys\nfrom pathlib import Path\nimport lenet_utils.locate as locate\n"
        "locate.DEBIAN_DIR = Path(sys.argv[1])\n"
        "try:\n    locate.find_data_dir()\nexcept locate.DataUnavailableError as exc:\n"
        "    print(json.dumps(str(exc)))\n"
    )
    mount = 'mount -t tmpfs -o size=1m tmpfs "$0" && exec "$@"'
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", mount, str(cache), sys.executable, "-c", code, str(empty)],
        env={**ENV, "LENET_CACHE": str(cache)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in result.stderr, result.stderr
    message = json.loads(result.stdout)
    assert message.startswith(
        f"Fashion-MNIST is not on this machine and cannot be downloaded into {cache / 'data'} (No space left on "
        "device: 1024 KiB free, 92160 KiB needed); set LENET_CACHE to a writable folder"
    )
