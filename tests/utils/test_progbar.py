"""Progbar output format, averaging and redraw behaviour."""
from __future__ import annotations

import re

import pytest

from cornu.utils import progbar as progbar_module
from cornu.utils.progbar import Progbar, format_time, format_value

STEP_TIME = r"\d+(s|ms|us)/step"


def test_final_line_format_when_not_a_terminal(capsys):
    bar = Progbar(target=1875)
    for step in range(1, 1876):
        bar.update(step, [("accuracy", 0.9123), ("loss", 0.2871)] if step == 1875 else None)
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert re.fullmatch(rf"1875/1875 ━{{20}} \d+s {STEP_TIME} - accuracy: 0\.9123 - loss: 0\.2871\n", out)


def test_verbose_2_line_and_small_values(capsys):
    bar = Progbar(target=10, verbose=2)
    for step in range(1, 11):
        bar.update(step, [("loss", 2e-4), ("mae", -0.5)])
    out = capsys.readouterr().out
    assert re.fullmatch(rf"10/10 - \d+s - {STEP_TIME} - loss: 2\.0000e-04 - mae: -0\.5000\n", out)


def test_unknown_target(capsys):
    bar = Progbar(target=None)
    bar.update(5, [("loss", 1.5)])
    bar.update(7, [("loss", 1.0)], finalize=True)
    assert re.fullmatch(rf" +7/Unknown \d+s {STEP_TIME} - loss: 1\.0000\n", capsys.readouterr().out)


def test_terminal_redraws_in_place_with_running_average(monkeypatch, capsys):
    monkeypatch.setattr(progbar_module, "_interactive", lambda: True)
    bar = Progbar(target=4, interval=0.0, stateful_metrics=["lr"])
    bar.add(1, [("loss", 1.0), ("lr", 0.1)])
    bar.add(1, [("loss", 3.0), ("lr", 0.2)])
    out = capsys.readouterr().out
    frames = [re.sub(r"\x1b\[\d+m", "", f) for f in out.split("\r") if f]
    assert len(frames) == 2 and "\n" not in out
    assert re.fullmatch(rf"2/4 ━{{20}} \d+s {STEP_TIME} - loss: 2\.0000 - lr: 0\.2000 *", frames[1])
    bar.add(2, [("loss", 5.0)])
    assert capsys.readouterr().out.endswith("\n")


def test_interval_limits_redraws(monkeypatch, capsys):
    monkeypatch.setattr(progbar_module, "_interactive", lambda: True)
    bar = Progbar(target=1000, interval=60.0)
    for step in range(1, 1000):
        bar.update(step, [("loss", 1.0)])
    assert capsys.readouterr().out.count("\r") == 1
    assert bar.due(finalize=True) and not bar.due()


@pytest.mark.parametrize(
    "seconds,text", [(2.0, " 2s/step"), (0.003, " 3ms/step"), (5e-6, " 5us/step"), (0, " 0s/step")]
)
def test_format_time(seconds, text):
    assert format_time(seconds, "step") == text


def test_format_value():
    assert format_value(0.28713) == "0.2871"
    assert format_value(0.0005) == "5.0000e-04"


def test_stateless_metrics_average_only_the_names_given():
    bar = Progbar(target=10, verbose=0, stateless_metrics=["loss"])
    assert bar.stateful_metrics is None and bar.stateless_metrics == {"loss"}
    bar.update(1, [("loss", 1.0), ("acc", 0.1)])
    bar.update(3, [("loss", 4.0), ("acc", 0.5)])
    loss_total, loss_count = bar._values["loss"]
    assert loss_total / loss_count == pytest.approx((1.0 * 1 + 4.0 * 2) / 3)
    assert bar._values["acc"] == [0.5, 1]
    with pytest.raises(ValueError, match="Only one of"):
        Progbar(target=3, stateful_metrics=["a"], stateless_metrics=["b"])
