"""Every API answer the tests here receive must be one docs/openapi.yaml describes (issue 15)."""

import pytest
from flask import Flask

from tests.contract.openapi import ContractClient


@pytest.fixture(autouse=True)
def _answers_follow_the_description(monkeypatch):
    """Make every app's test client a ContractClient, so these API tests double as contract tests."""
    monkeypatch.setattr(Flask, "test_client_class", ContractClient)
