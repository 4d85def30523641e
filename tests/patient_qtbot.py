"""pytest-qt's `qtbot` with waits that give up late.

A wait's timeout only decides when to stop waiting for something that should happen; it is no measure of how long
it took. pytest-qt gives up after 5 s by default, which a machine whose cores are all busy can reach while the
event still comes (a window exposed, a model folder checked). Here every wait gives up after GIVE_UP_MS unless the
test names another limit."""

from __future__ import annotations

from typing import Any

from pytestqt.qtbot import QtBot

GIVE_UP_MS = 60_000


class PatientQtBot(QtBot):
    def waitUntil(self, callback: Any, *, timeout: int = GIVE_UP_MS) -> None:
        super().waitUntil(callback, timeout=timeout)

    def waitExposed(self, widget: Any, *, timeout: int = GIVE_UP_MS) -> Any:
        return super().waitExposed(widget, timeout=timeout)

    def waitActive(self, widget: Any, *, timeout: int = GIVE_UP_MS) -> Any:
        return super().waitActive(widget, timeout=timeout)

    def waitSignal(self, signal: Any, *, timeout: int = GIVE_UP_MS, **kwargs: Any) -> Any:
        return super().waitSignal(signal, timeout=timeout, **kwargs)

    def waitSignals(self, signals: Any, *, timeout: int = GIVE_UP_MS, **kwargs: Any) -> Any:
        return super().waitSignals(signals, timeout=timeout, **kwargs)

    def waitCallback(self, *, timeout: int = GIVE_UP_MS, **kwargs: Any) -> Any:
        return super().waitCallback(timeout=timeout, **kwargs)
