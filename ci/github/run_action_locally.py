#!/usr/bin/env python3
"""Runs a composite action's `run:` steps here, in order, the way a GitHub runner does, so that
the action itself (not a copy of its commands) is what ci/test_github_workflow.sh tests.

What it does as the runner does: each step gets `bash --noprofile --norc -eo pipefail`, its own
fresh $GITHUB_OUTPUT and $GITHUB_ENV files; lines a step writes to $GITHUB_ENV reach the later
steps' environment, to $GITHUB_OUTPUT its `steps.<id>.outputs`; $GITHUB_ACTION_PATH is the
action's directory and $RUNNER_TEMP a scratch directory; after a failed step the later steps are
skipped (a runner would still run `if: always()` ones, but a `run:` step with an `if:` is an
error here, so none exists); the action's `outputs:` are resolved at the end. ${{ }}
expressions are expanded in `env:` and `working-directory:` (inputs, runner.temp, runner.os).

What it does not: `uses:` steps (actions/cache, upload-artifact, a PR comment) need GitHub; they
are listed as skipped. A `run:` script holding ${{ }}, or a `run:` step with an `if:`, is an
error: the action keeps expressions out of shell code (see ci/action/action.yml).

No YAML library: a small parser for the block-style subset the action uses (mappings, lists,
`|` block scalars, plain and quoted scalars, comments); anything else is an error.

  run_action_locally.py ACTION.yml --workspace DIR --runner-temp DIR \
      [--input NAME=VALUE ...] [--outputs FILE]
Exit status: the first failed step's, 0 when all passed; 4 for an unsupported action.
"""
import argparse
import os
import re
import subprocess
import sys


class Unsupported(Exception):
    pass


def parse_yaml(text):
    lines = []  # [indent, text] of significant lines, raw kept for block scalars
    raw = text.split("\n")
    for number, line in enumerate(raw):
        if "\t" in line[: len(line) - len(line.lstrip())]:
            raise Unsupported(f"line {number + 1}: tab indentation")
        lines.append([len(line) - len(line.lstrip(" ")), line.strip(), number])

    def significant(i):
        while i < len(lines) and (lines[i][1] == "" or lines[i][1].startswith("#")):
            i += 1
        return i

    def scalar(text):
        if text[:1] in ("{", "[", "&", "*", "!", ">"):
            raise Unsupported(f"unsupported YAML value: {text}")
        if text[:1] == '"':
            end = text.rindex('"')
            return text[1:end].encode().decode("unicode_escape")
        if text[:1] == "'":
            end = text.rindex("'")
            return text[1:end].replace("''", "'")
        return re.sub(r"\s+#.*$", "", text).strip()

    def node(i, indent):
        i = significant(i)
        if i >= len(lines) or lines[i][0] < indent:
            return None, i
        if lines[i][1].startswith("- ") or lines[i][1] == "-":
            return sequence(i, lines[i][0])
        return mapping(i, lines[i][0])

    def sequence(i, indent):
        items = []
        while True:
            i = significant(i)
            if i >= len(lines) or lines[i][0] != indent or not lines[i][1].startswith("-"):
                return items, i
            rest = lines[i][1][1:].lstrip()
            # "- key: value": the item is a mapping whose first line is the rest.
            lines[i] = [indent + 2, rest, lines[i][2]]
            if ":" in rest and not rest.startswith(("'", '"')):
                value, i = mapping(i, indent + 2)
            else:
                value, i = scalar(rest), i + 1
            items.append(value)

    def mapping(i, indent):
        result = {}
        while True:
            i = significant(i)
            if i >= len(lines) or lines[i][0] != indent:
                if i < len(lines) and lines[i][0] > indent:
                    raise Unsupported(f"line {lines[i][2] + 1}: unexpected indentation")
                return result, i
            text = lines[i][1]
            match = re.match(r"^([A-Za-z0-9_.-]+):(?:\s+(.*))?$", text)
            if not match:
                raise Unsupported(f"line {lines[i][2] + 1}: not a 'key: value' line: {text}")
            key, rest = match.group(1), (match.group(2) or "").strip()
            if rest in ("|", "|-"):
                block, j = [], i + 1
                while j < len(lines) and (lines[j][1] == "" or lines[j][0] > indent):
                    block.append(raw[lines[j][2]])
                    j += 1
                while block and block[-1].strip() == "":
                    block.pop()
                width = min(len(b) - len(b.lstrip(" ")) for b in block if b.strip())
                value = "\n".join(b[width:] for b in block) + ("\n" if rest == "|" else "")
                result[key], i = value, j
            elif rest == "" or rest.startswith("#"):
                j = significant(i + 1)
                if j < len(lines) and (lines[j][0] > indent or (
                        lines[j][0] == indent and lines[j][1].startswith("- "))):
                    result[key], i = node(j, indent)
                else:
                    result[key], i = None, i + 1
            else:
                result[key], i = scalar(rest), i + 1

    value, end = node(0, 0)
    if significant(end) < len(lines):
        raise Unsupported(f"line {lines[significant(end)][2] + 1}: not parsed")
    return value


def expand(text, context):
    """${{ name }} for the names in context; any other expression is an error."""

    def one(match):
        name = match.group(1).strip()
        if name not in context:
            raise Unsupported(f"expression not supported here: ${{{{ {name} }}}}")
        return context[name]

    return re.sub(r"\$\{\{(.*?)\}\}", one, text or "")


def read_commands_file(path):
    """KEY=VALUE lines and KEY<<DELIMITER heredocs ($GITHUB_ENV, $GITHUB_OUTPUT)."""
    values = {}
    if not os.path.exists(path):
        return values
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            body = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            i += 1
            values[key] = "\n".join(body)
        elif "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("action")
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--runner-temp", required=True)
    parser.add_argument("--input", action="append", default=[])
    parser.add_argument("--outputs")
    options = parser.parse_args()

    action_path = os.path.dirname(os.path.realpath(options.action))
    try:
        action = parse_yaml(open(options.action, encoding="utf-8").read())
        if action.get("runs", {}).get("using") != "composite":
            raise Unsupported("not a composite action")
        inputs = {}
        for name, spec in (action.get("inputs") or {}).items():
            inputs[name] = (spec or {}).get("default") or ""
        for pair in options.input:
            name, value = pair.split("=", 1)
            if name not in inputs:
                raise Unsupported(f"the action has no input '{name}'")
            inputs[name] = value
        for name, spec in (action.get("inputs") or {}).items():
            if (spec or {}).get("required") == "true" and not inputs[name]:
                raise Unsupported(f"required input '{name}' not given")
    except Unsupported as error:
        print(f"run_action_locally: {error}", file=sys.stderr)
        return 4

    # Every run: step is checked before any runs, so a bad one fails fast.
    for number, step in enumerate(action["runs"].get("steps") or [], 1):
        name = step.get("name") or f"step {number}"
        problem = None
        if "uses" in step:
            continue
        if "run" not in step:
            problem = "has neither run: nor uses:"
        elif step.get("if"):
            problem = "if: on a run: step is not emulated"
        elif "${{" in step["run"]:
            problem = "${{ }} inside run: (pass it through env:)"
        elif step.get("shell") != "bash":
            problem = "shell: must be bash"
        if problem:
            print(f"run_action_locally: step {number} '{name}': {problem}", file=sys.stderr)
            return 4

    os.makedirs(options.runner_temp, exist_ok=True)
    context = {f"inputs.{k}": v for k, v in inputs.items()}
    context.update({"runner.temp": options.runner_temp, "runner.os": "Linux"})
    added_env = {}
    outputs = {}
    failed = 0
    for number, step in enumerate(action["runs"].get("steps") or [], 1):
        name = step.get("name") or f"step {number}"
        if "uses" in step:
            print(f"[{number}] skipped, needs GitHub (uses: {step['uses']}): {name}", flush=True)
            continue
        try:
            env = dict(os.environ)
            env.update(added_env)
            env.update({k: expand(v, context) for k, v in (step.get("env") or {}).items()})
            workdir = os.path.join(options.workspace,
                                   expand(step.get("working-directory") or ".", context))
        except Unsupported as error:
            print(f"run_action_locally: {error}", file=sys.stderr)
            return 4
        if failed:
            print(f"[{number}] skipped after a failed step: {name}", flush=True)
            continue
        files = {k: os.path.join(options.runner_temp, f"step{number}-{k.lower()}")
                 for k in ("GITHUB_OUTPUT", "GITHUB_ENV")}
        for path in files.values():
            open(path, "w").close()
        env.update(files)
        env.update({"GITHUB_ACTION_PATH": action_path, "RUNNER_TEMP": options.runner_temp,
                    "GITHUB_WORKSPACE": options.workspace})
        script = os.path.join(options.runner_temp, f"step{number}.sh")
        with open(script, "w", encoding="utf-8") as out:
            out.write(step["run"])
        print(f"[{number}] run: {name}", flush=True)
        code = subprocess.call(["bash", "--noprofile", "--norc", "-eo", "pipefail", script],
                               cwd=workdir, env=env)
        print(f"[{number}] exit {code}: {name}", flush=True)
        added_env.update(read_commands_file(files["GITHUB_ENV"]))
        if "id" in step:
            for key, value in read_commands_file(files["GITHUB_OUTPUT"]).items():
                context[f"steps.{step['id']}.outputs.{key}"] = value
        if code != 0:
            failed = code

    if options.outputs:
        with open(options.outputs, "w", encoding="utf-8") as out:
            for name, spec in (action.get("outputs") or {}).items():
                value = re.sub(r"\$\{\{\s*(steps\.[^ }]+)\s*\}\}",
                               lambda m: context.get(m.group(1), ""), spec.get("value") or "")
                out.write(f"{name}={value}\n")
    return failed


if __name__ == "__main__":
    sys.exit(main())
