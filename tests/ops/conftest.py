"""The loopback push service, for the worker drain test."""

from tests.push.conftest import push_service  # noqa: F401
