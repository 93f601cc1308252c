"""The secret scan of written reports, and the masking write_all applies first.

Aspects:
- a plain value is found, also HTML- and JSON-escaped
- base64 forms are found: standard and URL-safe, padded and unpadded, and inside a larger
  base64 blob at each of the three byte offsets
- directories are searched recursively; each finding names the file and the secret's
  1-based position in the list, and the kind (plain or base64)
- values shorter than six characters are not scanned but keep their place in the numbering
- no finding and no log line ever holds the value or an encoded form of it
- a clean directory gives no finding
- write_all masks secrets (and their base64) found in the record, so what it writes
  scans clean
"""

from __future__ import annotations

import base64
import html
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from suite.reports import secret_scan, write_all
from suite.reports.leaks import base64_cores

#: Made-up values the tests hunt for (with characters that HTML and JSON escape).
SECRET = "s3cr3t-Pa$$word&<x>"  # noqa: S105
OTHER = "another-token-9f8e7d"


def encodings(value: str) -> list[str]:
    raw = value.encode()
    out = []
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encode(raw).decode()
        out += [encoded, encoded.rstrip("=")]
    return out


def assert_no_value(text: str, *values: str) -> None:
    __tracebackhide__ = True
    for value in values:
        for form in [value, *encodings(value)]:
            assert form not in text, "a finding or log line holds a secret form"


def test_plain_value_is_found(tmp_path: Path) -> None:
    (tmp_path / "gate.md").write_text(f"reason: password {SECRET} rejected")

    findings = secret_scan([tmp_path], [OTHER, SECRET])

    assert findings == [f"{tmp_path / 'gate.md'}: found secret #2 (plain)"]


@pytest.mark.parametrize("form", ["html", "json"])
def test_escaped_value_is_found(form: str, tmp_path: Path) -> None:
    shown = html.escape(SECRET) if form == "html" else json.dumps({"v": SECRET})
    (tmp_path / "page").write_text(f"<pre>{shown}</pre>")

    assert secret_scan([tmp_path], [SECRET]) == [f"{tmp_path / 'page'}: found secret #1 (plain)"]


@pytest.mark.parametrize("index", range(4))
def test_whole_base64_forms_are_found(index: int, tmp_path: Path) -> None:
    (tmp_path / "cucumber.json").write_text(json.dumps({"data": encodings(SECRET)[index]}))

    findings = secret_scan([tmp_path], [SECRET])

    assert findings == [f"{tmp_path / 'cucumber.json'}: found secret #1 (base64)"]


@pytest.mark.parametrize("offset", [0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("urlsafe", [False, True])
def test_base64_inside_a_larger_blob_is_found(offset: int, urlsafe: bool, tmp_path: Path) -> None:
    blob = bytes(range(7, 7 + offset)) + SECRET.encode() + b"\xff\xfe trailing bytes"
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    (tmp_path / "living-docs.html").write_text(f'<img src="data:image/png;base64,'
                                               f'{encode(blob).decode()}">')

    findings = secret_scan([tmp_path], [SECRET])

    assert findings == [f"{tmp_path / 'living-docs.html'}: found secret #1 (base64)"]


def test_cores_are_long_enough_not_to_match_by_chance() -> None:
    assert min(len(core) for core in base64_cores(b"abcdef")) >= 6


def test_directories_are_searched_recursively(tmp_path: Path) -> None:
    (tmp_path / "screenshots" / "deep").mkdir(parents=True)
    (tmp_path / "screenshots" / "deep" / "note.txt").write_text(OTHER)
    (tmp_path / "run.json").write_text("{}")

    findings = secret_scan([tmp_path], [SECRET, OTHER])

    assert findings == [f"{tmp_path / 'screenshots' / 'deep' / 'note.txt'}: found secret #2 "
                        "(plain)"]


def test_short_values_are_skipped_but_keep_their_number(tmp_path: Path) -> None:
    (tmp_path / "f").write_text(f"abc and {OTHER}")

    assert secret_scan([tmp_path / "f"], ["abc", "", OTHER]) == \
        [f"{tmp_path / 'f'}: found secret #3 (plain)"]


def test_findings_and_logs_never_hold_the_value(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a").write_text(SECRET + " " + encodings(OTHER)[0])
    caplog.set_level(logging.DEBUG)

    findings = secret_scan([tmp_path], [SECRET, OTHER])

    assert len(findings) == 2
    captured = capsys.readouterr()
    assert_no_value("\n".join(findings) + caplog.text + captured.out + captured.err,
                    SECRET, OTHER)


def test_clean_reports_give_no_finding(tmp_path: Path) -> None:
    (tmp_path / "gate.json").write_text('{"verdict": "PASS"}')

    assert secret_scan([tmp_path], [SECRET, OTHER]) == []


def test_write_all_masks_secrets_before_writing(rich: tuple[dict[str, Any], Path],
                                                caplog: pytest.LogCaptureFixture) -> None:
    record, reports = rich
    leaked = encodings(OTHER)[0]
    record["scenarios"][2]["reason"] = f"login with {SECRET} failed"
    record["scenarios"][3]["evidence"] = [
        {"title": "Secret", "kind": "json", "data": {"data": {"password": leaked}}},
        {"title": f"key {SECRET}", "kind": "table", "data": [{SECRET: OTHER}]}]
    record["changes"][0]["diff"] = f"+ password: {SECRET}"
    caplog.set_level(logging.DEBUG)

    written = write_all(record, reports, [SECRET, OTHER])

    assert secret_scan(written, [SECRET, OTHER]) == []
    assert "login with *** failed" in (reports / "gate.md").read_text(encoding="utf-8")
    assert_no_value(caplog.text, SECRET, OTHER)
