"""What every chapter's exercise tests share: a right answer passes, a typical wrong one gets its hint."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from . import checked


@pytest.fixture
def right_then_wrong(capsys: pytest.CaptureFixture[str]) -> Callable[[str, object, object, str], None]:
    """Check that `right` passes exercise `number` and that `wrong` fails it with `hint` in the feedback."""

    def check(number: str, right: object, wrong: object, hint: str) -> None:
        assert checked(number, right)
        assert f"✔ Exercise {number}: right." in capsys.readouterr().out
        assert not checked(number, wrong)
        assert hint in capsys.readouterr().out

    return check
