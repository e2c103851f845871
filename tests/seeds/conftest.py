"""The ``printed`` fixture: what a snippet printed (see printing.py)."""
import pytest


@pytest.fixture
def printed(capsys):
    """What the test printed so far (and forget it)."""
    def read():
        return capsys.readouterr().out
    return read
