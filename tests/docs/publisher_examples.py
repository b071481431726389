#!/usr/bin/env python3
"""Runs the publisher examples of docs/invalidation.md against the page's own
test vector: the Python block's signing_text/make_event, and the shell
block's printf | openssl pipeline (with the vector's fields put in place of
the fresh ts and eid). Exit 0 when both produce the documented signature."""
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def main():
    with open(os.path.join(ROOT, "docs", "invalidation.md")) as f:
        page = f.read()
    vector = json.loads(re.search(r"<!-- test-vector -->\n```json\n(.*?)\n```", page, re.S).group(1))
    problems = []

    namespace = {}
    exec(re.search(r"```python\n(.*?)\n```", page, re.S).group(1), namespace)
    text = namespace["signing_text"](vector["event"])
    if text != vector["signing_text"]:
        problems.append(f"python signing_text gives {text!r}")
    sig = hmac.new(vector["secret"].encode(), text.encode(), hashlib.sha256).hexdigest()
    if sig != vector["sig"]:
        problems.append(f"python signature {sig} != {vector['sig']}")
    made = namespace["make_event"]("entity-updated", "product", "catalog-service", id_="42", secret="s")
    if made["sig"] != hmac.new(b"s", namespace["signing_text"](made).encode(), hashlib.sha256).hexdigest():
        problems.append("python make_event signs something else than signing_text")

    # The shell example signs an event without tenant, version or tags: sign
    # the same with the vector's ts and eid, and compare with Python's.
    shell = re.search(r"```sh\nsecret=.*?\n```", page, re.S).group(0)
    pipeline = re.search(r"sig=\$\((.*?)\)\n", shell, re.S).group(1)
    event = {"type": "entity-updated", "entity": "product", "id": "42", "source": "catalog-service",
             "ts": vector["event"]["ts"], "eid": vector["event"]["eid"]}
    env = dict(os.environ, secret=vector["secret"], ts=event["ts"], eid=event["eid"])
    out = subprocess.run(["bash", "-c", pipeline], env=env, capture_output=True, text=True, check=True).stdout.strip()
    expected = hmac.new(vector["secret"].encode(), namespace["signing_text"](event).encode(), hashlib.sha256).hexdigest()
    if out != expected:
        problems.append(f"shell pipeline gives {out!r}, expected {expected}")

    for problem in problems:
        print(problem)
    print(f"publisher_examples: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
