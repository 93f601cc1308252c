"""``python -m suite.reports reports/run.json [--out DIR]``: regenerate the reports of a run.

Reads a kept run record and writes JUnit, Cucumber JSON, gate and living documentation
again (by default beside the record).  Given secrets (``--secrets-file``, ``--secret-env``)
it masks them and scans what it wrote.  Exit status: 0 written, 1 a secret was found
(or, with ``--gate``, the gate failed), 2 the record could not be read or a report failed.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from suite.errors import SuiteError
from suite.reports import bundle, leaks
from suite.reports.gate import build_gate
from suite.reports.record import load_record


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m suite.reports",
        description="Regenerate the reports (JUnit, Cucumber JSON, gate, living docs) "
                    "from a kept run.json.")
    parser.add_argument("record", type=Path, help="the run.json a suite run wrote")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the reports (default: beside the record)")
    parser.add_argument("--secrets-file", type=Path, action="append", default=[],
                        help="a file with one secret value a line: masked, then scanned for")
    parser.add_argument("--secret-env", action="append", default=[], metavar="NAME",
                        help="an environment variable holding a secret value (repeatable)")
    parser.add_argument("--gate", action="store_true",
                        help="exit 1 when the gate fails (for CI)")
    return parser.parse_args(argv)


def read_secrets(args: argparse.Namespace) -> list[str]:
    values = []
    for path in args.secrets_file:
        values += [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                   if line.strip()]
    values += [os.environ[name] for name in args.secret_env if os.environ.get(name)]
    return values


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse(argv)
    out = args.out if args.out is not None else args.record.parent

    try:
        record = load_record(args.record)
        secrets = read_secrets(args)
        written = bundle.write_all(record, out, secrets)
    except OSError as error:
        print(f"expected to read the secrets files, found: {error}; next: check the paths",
              file=sys.stderr)
        return 2
    except SuiteError as error:
        print(error, file=sys.stderr)
        return 2

    for path in written:
        print(f"wrote {path}")
    gate = build_gate(record)
    print(gate["summary"])
    findings = leaks.secret_scan([out], secrets) if secrets else []
    for finding in findings:
        print(finding, file=sys.stderr)
    if findings:
        print(f"{len(findings)} secret finding(s) in {out}: do not publish these files; "
              "find where the value entered the run record and redact it there.",
              file=sys.stderr)
        return 1
    return 1 if args.gate and gate["verdict"] != "PASS" else 0


if __name__ == "__main__":
    sys.exit(main())
