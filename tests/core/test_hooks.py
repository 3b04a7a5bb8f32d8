"""A hook calls what was registered for it, in order; with nothing registered it is a no-op."""

from __future__ import annotations

from collections.abc import Callable

from server.background import feature_hooks
from server.core.hooks import Hook, Hooks
from server.notifications.channels import CHANNELS
from server.notifications.preferences.digest import DIGESTED
from server.push.outcomes import PUSHES_SETTLED
from server.push.subscriptions import TEST_NOTICE

SAID: Hook[Callable[[str], None]] = Hook("test.said")


def test_a_hook_calls_what_was_registered_in_order_and_nothing_when_none_was() -> None:
    hooks, heard = Hooks(), []
    assert hooks.each(SAID) == []
    hooks.on(SAID, lambda word: heard.append(f"first {word}"))
    hooks.on(SAID, lambda word: heard.append(f"second {word}"))
    for hook in hooks.each(SAID):
        hook("hello")
    assert heard == ["first hello", "second hello"]
    assert Hooks().each(SAID) == []  # each process's own registrations


def test_the_runtime_registers_a_listener_for_every_feature_hook() -> None:
    hooks = feature_hooks()
    assert [len(hooks.each(hook)) for hook in (PUSHES_SETTLED, DIGESTED, TEST_NOTICE)] == [2, 1, 1]
    assert [channel.name for channel in hooks.each(CHANNELS)] == ["push", "webhooks"]
