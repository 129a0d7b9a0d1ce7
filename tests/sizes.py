#!/usr/bin/env python3
"""The size rule of the sources: no function over 60 lines, no file over 350.

    python3 tests/sizes.py [PATH ...]     the .rs files under each PATH (default: src pure/src)
    python3 tests/sizes.py --self-test    the checker against files that break each rule

A function counts from its `fn` line to its closing brace; a file counts the lines of its own
code, that is every line but its test code. Prints each breach; exits 1 if there is one.

The one exception, tables of tests: test code is not measured. A test's length is the length of
its table of cases, read down a list, and a module's tests may live in a file of their own. Test
code is an item under `#[cfg(test)]` (a `mod tests { ... }`, a helper) and the file of a module
declared under it (`#[cfg(test)] mod tests;` names `<module>/tests.rs`, or a `#[path]`). A
table outside the tests (one `match` arm per variant of an enum, read down a list) is named by
the comment `// A table: <of what>.` on the line just above its `fn` (below its doc comment and
attributes), and not measured either.
"""
import os
import re
import sys
import tempfile

MAX_FN = 60
MAX_FILE = 350

FN = re.compile(
    r'\s*(pub(\([^)]*\))?\s+)?(default\s+)?(const\s+)?(async\s+)?(unsafe\s+)?'
    r'(extern\s+"[^"]*"\s+)?fn\s+(?P<name>[A-Za-z_]\w*)'
)
RAW = re.compile(r'b?r(#*)"')
CHAR = re.compile(r"b?'(\\.[^'\n]*|[^\\'\n])'")


def blank(text):
    """The text with comments, strings and character literals blanked (newlines kept), so that
    no brace inside them counts."""
    out = []
    i, n = 0, len(text)
    word = lambda k: k > 0 and (text[k - 1].isalnum() or text[k - 1] == '_')
    while i < n:
        if text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
        elif text.startswith('/*', i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith('/*', j):
                    depth, j = depth + 1, j + 2
                elif text.startswith('*/', j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
        elif (m := RAW.match(text, i)) and not word(i):
            end = '"' + m.group(1)
            j = text.find(end, m.end())
            j = n if j < 0 else j + len(end)
        elif text[i] == '"' or (text.startswith('b"', i) and not word(i)):
            j = text.index('"', i) + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == '\\' else 1
            j += 1
        elif (m := CHAR.match(text, i)) and not word(i):
            j = m.end()
        else:
            out.append(text[i])
            i += 1
            continue
        out.append(re.sub(r'[^\n]', ' ', text[i:j]))
        i = j
    return ''.join(out)


def item_end(lines, start, col=0):
    """The last line of the item that starts at lines[start][col:]: its closing brace, or the `;`
    that ends it first (outside parentheses and brackets, as in `[u8; 4]`); None for neither."""
    depth = nesting = 0
    for k in range(start, len(lines)):
        for ch in lines[k][col if k == start else 0:]:
            if ch in '([':
                nesting += 1
            elif ch in ')]':
                nesting -= 1
            elif ch == ';' and depth == 0 and nesting == 0:
                return k
            elif ch == '{':
                depth += 1
            elif ch == '}':
                depth -= 1
                if depth == 0:
                    return k
    return None


def past_attributes(lines, k, col):
    """Where the item that starts at lines[k][col:] begins, past its attributes and spaces."""
    while k < len(lines):
        rest = lines[k][col:]
        if not rest.strip():
            k, col = k + 1, 0
            continue
        col += len(rest) - len(rest.lstrip())
        if not rest.lstrip().startswith('#['):
            return k, col
        depth = 0  # to the attribute's closing bracket, on this line or a later one
        while k < len(lines):
            if col >= len(lines[k]):
                k, col = k + 1, 0
                continue
            depth += {'[': 1, ']': -1}.get(lines[k][col], 0)
            col += 1
            if depth == 0 and lines[k][col - 1] == ']':
                break
    return k, col


def child_path(path, name, attrs):
    """The file of `mod name;` declared in `path`, with its `#[path]` if it has one."""
    here = os.path.dirname(path)
    given = re.search(r'#\[path\s*=\s*"([^"]+)"\]', attrs)
    if given:
        return os.path.normpath(os.path.join(here, given.group(1)))
    stem = os.path.basename(path)[:-3]
    folder = here if stem in ('mod', 'lib', 'main') else os.path.join(here, stem)
    flat = os.path.join(folder, name + '.rs')
    return flat if os.path.exists(flat) else os.path.join(folder, name, 'mod.rs')


def measure(path, test_files):
    """(own lines, [(name, line, length)] of the functions outside test code); adds to
    test_files the files its test modules live in."""
    text = open(path, encoding='utf-8').read()
    lines = blank(text).split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    test = [False] * len(lines)
    for k, line in enumerate(lines):
        if test[k] or not re.match(r'\s*#\[cfg\(test\)\]', line):
            continue
        start, col = past_attributes(lines, k, line.index('#['))
        rest = lines[start][col:]
        end = item_end(lines, start, col)
        if end is None:
            continue
        for j in range(k, end + 1):
            test[j] = True
        declared = re.match(r'\s*(pub(\([^)]*\))?\s+)?mod\s+(\w+)\s*;', rest)
        if declared:
            raw = '\n'.join(text.split('\n')[k:end + 1])
            test_files.add(os.path.normpath(child_path(path, declared.group(3), raw)))
    functions = []
    for k, line in enumerate(lines):
        m = FN.match(line)
        if test[k] or not m:
            continue
        end = item_end(lines, k, m.end())
        if end is not None and '{' in ''.join(lines[k:end + 1]) and not is_table(text, k):
            functions.append((m.group('name'), k + 1, end - k + 1))
    return test.count(False), functions


def is_table(text, k):
    """Whether the function at line `k` is named a table by the comment just above it."""
    above = text.split('\n')[:k]
    while above and above[-1].strip().startswith('#['):
        above.pop()
    return bool(above) and above[-1].strip().startswith('// A table: ')


def rust_files(root):
    if os.path.isfile(root):
        return [root]
    return sorted(os.path.join(folder, name)
                  for folder, _, names in os.walk(root) for name in names if name.endswith('.rs'))


def check(roots):
    """Each breach under the roots, as a line."""
    files = [os.path.normpath(f) for root in roots for f in rust_files(root)]
    test_files, measured = set(), {}
    for path in files:
        measured[path] = measure(path, test_files)
    breaches = []
    for path in files:
        if path in test_files:
            continue
        own, functions = measured[path]
        if own > MAX_FILE:
            breaches.append(f'{path}: {own} lines of its own code, over {MAX_FILE}')
        for name, line, length in functions:
            if length > MAX_FN:
                breaches.append(f'{path}:{line}: fn {name} is {length} lines, over {MAX_FN}')
    return breaches


def self_test():
    """Each rule broken once, and each thing that must not count."""
    body = lambda n: ''.join(f'    let x{i} = {i};\n' for i in range(n))
    fn = lambda name, n: f'fn {name}() {{\n{body(n - 2)}}}\n'
    cases = {
        # (files, the breaches expected, as substrings in order)
        'a function of 60 lines passes, of 61 fails': (
            {'a.rs': fn('sixty', 60) + fn('sixty_one', 61)},
            ['fn sixty_one is 61 lines']),
        'braces in strings, chars, raw strings and comments do not count': (
            {'a.rs': 'fn tricky<\'a>(x: &\'a str) -> char {\n'
                     '    let _ = "}}}"; let _ = r#"}"#; let _ = \'}\'; let _ = b\'{\';\n'
                     '    // }\n    /* } /* } */ } */\n    \'}\'\n}\n' + fn('long', 61)},
            ['a.rs:7: fn long is 61 lines']),
        'a signature with [u8; 4] is no declaration; a trait declaration is no body': (
            {'a.rs': 'trait T { fn f(&self) -> u8; }\n'
                     f'fn g(a: [u8; 4]) {{\n{body(60)}}}\n'},
            ['fn g is 62 lines']),
        'a file of 351 lines of its own code fails': (
            {'a.rs': '// x\n' * 351}, ['a.rs: 351 lines']),
        'a file of 350 lines of its own code and its tests passes': (
            {'a.rs': '// x\n' * 350 + '#[cfg(test)]\nmod tests {\n' + fn('table', 99) + '}\n'},
            []),
        'a module of tests in a file of its own is test code': (
            {'a.rs': '#[cfg(test)]\nmod tests;\n', 'a/tests.rs': '// x\n' * 400 + fn('t', 99),
             'm/mod.rs': '#[cfg(test)]\n#[path = "checks.rs"]\nmod tests;\n',
             'm/checks.rs': fn('u', 99), 'm/other.rs': fn('v', 61)},
            ['other.rs:1: fn v is 61 lines']),
        'a test helper under #[cfg(test)] is test code, the code after it is not': (
            {'a.rs': '#[cfg(test)]\n' + fn('helper', 99) + fn('after', 61)},
            ['fn after is 61 lines']),
        'a function named a table just above its fn is not measured; the comment elsewhere is': (
            {'a.rs': '/// The log.\n// A table: one arm per answer.\n#[allow(x)]\n' + fn('log', 99)
                     + '// A table: too far.\n\n' + fn('far', 61)},
            ['fn far is 61 lines']),
        'a method in an impl counts': (
            {'a.rs': 'impl S {\n    pub async fn m(&self) {\n' + body(60) + '    }\n}\n'},
            ['a.rs:2: fn m is 62 lines']),
    }
    failed = 0
    for name, (files, expected) in cases.items():
        with tempfile.TemporaryDirectory() as root:
            for rel, content in files.items():
                os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
                with open(os.path.join(root, rel), 'w') as out:
                    out.write(content)
            got = check([root])
        ok = len(got) == len(expected) and all(want in line for want, line in zip(expected, got))
        if not ok:
            failed += 1
            print(f'sizes self-test: {name}: got {got}, want {expected}')
    print(f'{len(cases) - failed} passed, {failed} failed')
    return failed == 0


def main(argv):
    if argv == ['--self-test']:
        return 0 if self_test() else 1
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    breaches = check(argv or ['src', 'pure/src'])
    for breach in breaches:
        print(f'sizes: {breach}')
    return 1 if breaches else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
