#!/usr/bin/env python3
"""Lists the functions of the C++ sources longer than a limit (default 80 lines), longest first:
the measure of issue 17 ("no function in src/ or runners/ over ~80 lines").

    python3 ci/function_lengths.py [--limit N] [--check] [files...]
        (default files: src runners stats worktrees; --check: exit 1 when any is found, as the
        ctest/meson test `function_lengths` does)

A brace counter, not a parser: comments, strings and character literals are blanked first; a
brace opens a function when the text before it (since the last ';', '{' or '}') has a ')' and
is not a namespace, class, struct, enum or union head. Lambdas count toward their function.
"""
import argparse
import glob
import re


def blank(line):
    line = re.sub(r'//.*', '', line)
    line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
    return re.sub(r"'(\\.|[^'\\])'", "''", line)


def functions(path):
    lines = open(path, encoding='utf-8').read().split('\n')
    stack, start, head, head_line = [], None, '', 0
    for number, line in enumerate(lines):
        code = blank(line)
        for ch in code:
            if ch == '{':
                if 'fn' in stack:
                    stack.append('block')
                elif re.search(r'\bnamespace\b|extern "C"', head):
                    stack.append('namespace')
                elif re.search(r'\b(class|struct|enum|union)\b[^(]*$', head):
                    stack.append('type')
                elif ')' in head or 'const' in head:
                    stack.append('fn')
                    start = number
                    name_line = head_line
                else:
                    stack.append('block')
                head = ''
            elif ch == '}':
                if stack and stack.pop() == 'fn' and 'fn' not in stack:
                    yield number - start + 1, path, name_line + 1, lines[name_line].strip()
                head = ''
            elif ch == ';':
                head = ''
            else:
                if not head.strip() and not ch.isspace():
                    head_line = number
                head += ch
        head += ' '


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--limit', type=int, default=80)
    parser.add_argument('--check', action='store_true', help='exit 1 when a function is too long')
    parser.add_argument('files', nargs='*')
    args = parser.parse_args()
    files = args.files or [f for d in ('src', 'runners', 'stats', 'worktrees')
                           for f in glob.glob(f'{d}/**/*.cpp', recursive=True)]
    found = sorted((f for path in files for f in functions(path) if f[0] > args.limit),
                   reverse=True)
    for length, path, line, text in found:
        print(f'{length:4} {path}:{line} {text[:80]}')
    if args.check and found:
        print(f'{len(found)} function(s) over {args.limit} lines: split them (issue 17)')
        raise SystemExit(1)


if __name__ == '__main__':
    main()
