"""Secrets never reach a log, whichever logger writes and whichever handler reads.

Aspects:
- a registered secret is masked in the message of a record from any child logger, for a
  handler added after the masking was installed (pytest adds its capture and --log-file
  handlers late, so a filter on the handlers present at start-up is not enough);
- the text of a logged exception is masked too;
- installing twice does not stack the masking;
- a log call whose arguments do not fit its message is masked too (logging would
  otherwise print the raw arguments to stderr).
"""

from __future__ import annotations

import io
import logging
import secrets
from collections.abc import Iterator

import pytest

from suite import redact


@pytest.fixture
def late_handler() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    redact.install_logging_filter()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    logger = logging.getLogger("suite.tests.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.removeHandler(handler)


def test_a_secret_is_masked_for_a_handler_added_late(
        late_handler: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = late_handler
    secret = f"canary-{secrets.token_hex(8)}"
    redact.register(secret)

    logger.info("connecting with %s", f"postgresql://app:{secret}@db:5432/app")
    try:
        raise RuntimeError(f"the server refused {secret}")
    except RuntimeError:
        logger.exception("the call failed")

    text = stream.getvalue()
    assert secret not in text, f"expected the secret masked in the log; found:\n{text}"
    assert text.count(redact.MASK) >= 2, (
        f"expected the message and the exception text each masked (***); found:\n{text}")
    assert "RuntimeError" in text, f"expected the exception still named; found:\n{text}"


def test_installing_twice_masks_once(late_handler: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = late_handler
    factory = logging.getLogRecordFactory()
    redact.install_logging_filter()

    logger.info("plain %s", "text")

    assert logging.getLogRecordFactory() is factory, (
        "expected a second install to leave the record factory as it was; it wrapped it "
        "again, so every record would be scrubbed twice.")
    assert "plain text" in stream.getvalue()


def test_a_broken_log_call_is_masked_too(late_handler: tuple[logging.Logger, io.StringIO],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    logger, stream = late_handler
    secret = f"canary-{secrets.token_hex(8)}"
    redact.register(secret)

    logger.warning("dsn %s and %s", f"postgresql://app:{secret}@db/app")  # one argument short

    text = stream.getvalue() + capsys.readouterr().err
    assert secret not in text, f"expected the secret masked in a broken call; found:\n{text}"
    assert redact.MASK in text and "did not fit" in text, (
        f"expected the call's text kept with the secret masked; found:\n{text}")
