#!/usr/bin/env python3
"""Validates every config cachecar ships against config/cachecar.schema.json
(JSON Schema 2020-12), and checks that the schema rejects broken ones.

Shipped configs: config/*.yaml, config/examples/*.yaml, docker/*.yaml
(not compose files) and every cachecar.yaml under deploy/. Each must also
carry the `# yaml-language-server: $schema=` line editors read.
Exit 0 when all hold; otherwise one line per problem and exit 1."""
import glob
import json
import os
import sys

import jsonschema
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Configs the schema must refuse, each for the reason given.
BROKEN = {
    "an unknown top-level key": "listen: 0.0.0.0:8080\ncolour: red\n",
    "an unknown route key": "routes:\n  - name: a\n    match: { path: /a }\n    tll: 5m\n",
    "a duration without a unit": "shutdown_grace: 10\n",
    "a size in the wrong unit": "store: { memory: { max_bytes: 256MB } }\n",
    "an unknown mode": "routes:\n  - name: a\n    match: { path: /a }\n    mode: cache-all\n",
    "a route without match": "routes:\n  - name: a\n",
    "an unknown health key": "health: { listen: 0.0.0.0:9902, path: /healthz }\n",
    "a listen without a port": "health: { listen: 0.0.0.0 }\n",
    "an unknown defaults key": "defaults: { tll: 5m }\n",
}


def shipped_configs():
    patterns = ["config/*.yaml", "config/examples/*.yaml", "docker/cachecar.yaml", "deploy/**/cachecar.yaml"]
    files = set()
    for pattern in patterns:
        files.update(glob.glob(os.path.join(ROOT, pattern), recursive=True))
    return sorted(files)


def main():
    with open(os.path.join(ROOT, "config", "cachecar.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    files = shipped_configs()
    if len(files) < 3:
        problems.append(f"expected the shipped configs, found only {files}")
    for path in files:
        name = os.path.relpath(path, ROOT)
        with open(path) as f:
            text = f.read()
        if "# yaml-language-server: $schema=" not in text.splitlines()[0]:
            problems.append(f"{name}: the first line is not '# yaml-language-server: $schema=...'")
        for error in validator.iter_errors(yaml.safe_load(text)):
            where = ".".join(str(p) for p in error.absolute_path) or "(top)"
            problems.append(f"{name}: {where}: {error.message}")
    for reason, text in BROKEN.items():
        if validator.is_valid(yaml.safe_load(text)):
            problems.append(f"the schema accepts {reason}: {text!r}")
    for problem in problems:
        print(problem)
    print(f"validate_configs: {len(files)} shipped configs, {len(BROKEN)} broken ones, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
