"""Every ``curl`` example in README.md and docs/*.md runs as written against a real server:
it authenticates with the key where the docs say it is (``var/dev-api-key``), and is
answered without a 401, 404 or 5xx. Only the address changes (the test's server port)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from keys import server_keys

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```sh\n(.*?)```", re.S)
#: Files an example sends, as a reader would have them.
FILES = {"milestones.csv": (
    "event_id,event_type,event_code,classifier,event_time,created_at,location,"
    "booking_reference\n"
    "row-1,TRANSPORT,DEPA,EST,2026-12-05T18:00:00+08:00,2026-12-01T09:00:00Z,CNSHA,"
    "NO-SUCH-BOOKING\n")}


def curl_examples() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for block in BLOCK.findall(doc.read_text()):
            for command in re.split(r"\n(?=curl )", block.replace("\\\n", " ")):
                command = command.strip()
                if command.startswith("curl "):
                    found.append((doc.name, " ".join(command.split())))
    return found


EXAMPLES = curl_examples()


def test_the_docs_have_curl_examples():
    assert len(EXAMPLES) >= 3 and {d for d, _ in EXAMPLES} >= {"README.md", "webhooks.md",
                                                                   "integrations.md"}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize(("doc", "command"), EXAMPLES,
                         ids=[f"{d}:{i}" for i, (d, _) in enumerate(EXAMPLES)])
def test_a_curl_example_runs_as_written(server, tmp_path, doc, command):
    (tmp_path / "var").mkdir()
    keys = server_keys(server.env)
    (tmp_path / "var" / "dev-api-key").write_text(keys.create("docs", "admin", "tests")[0])
    keys.engine.dispose()
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    command = command.replace("http://127.0.0.1:8000", server.base_url)
    result = subprocess.run(  # noqa: S602 - the docs' own shell commands
        f"{command} --silent --show-error --output /dev/null --write-out '%{{http_code}}'",
        shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    status = int(result.stdout.strip()[-3:])
    assert status < 500 and status not in (401, 404), f"{doc}: {command} → {status}"
