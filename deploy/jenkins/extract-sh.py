"""Extract every `sh` step of a declarative Jenkinsfile into its own shell file.

Forms found: sh '''...''', sh \"\"\"...\"\"\", sh '...', sh "...", and the same as
`sh(... script: <string> ...)`. Each step goes to <out>/step-NN-line-LLL.sh
with a `#!/bin/sh` line (Jenkins runs a step with `sh -xe` unless it starts
with its own shebang) so shellcheck checks it as the shell that runs it.

Refused, as a lint: an `sh` whose script is not one of those literals (it
could not be checked), and a double-quoted script containing `$` (Groovy
would interpolate it before the shell sees it: secrets would land in the
command line and shellcheck would check the wrong text).

usage: extract-sh.py <Jenkinsfile> <out dir>   (prints how many steps)
"""
import os
import re
import sys
import textwrap

path, out = sys.argv[1:3]
src = open(path, encoding="utf-8").read()
os.makedirs(out, exist_ok=True)

# Blank out // and /* */ comments (keeping offsets and line numbers) so a
# comment that mentions `sh` is neither a step nor a false alarm.
def blank_comments(text: str) -> str:
    res, i, n = [], 0, len(text)
    quote = None
    while i < n:
        if quote:
            if text.startswith(quote, i):
                res.append(quote); i += len(quote); quote = None; continue
            if text[i] == "\\" and i + 1 < n:
                res.append(text[i:i + 2]); i += 2; continue
            res.append(text[i]); i += 1; continue
        for q in ("'''", '"""', "'", '"'):
            if text.startswith(q, i):
                quote = q; res.append(q); i += len(q); break
        else:
            if text.startswith("//", i):
                j = text.find("\n", i); j = n if j < 0 else j
                res.append(" " * (j - i)); i = j
            elif text.startswith("/*", i):
                j = text.find("*/", i + 2); j = n if j < 0 else j + 2
                res.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
            else:
                res.append(text[i]); i += 1
    return "".join(res)

code = blank_comments(src)

# Groovy processes backslash escapes in '...' and '''...''' strings too: the
# shell receives `\n` as a newline, `\\` as one backslash, and a backslash at the
# end of a line joins the lines. Check the text the shell will really run.
GROOVY_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "\n": ""}
def groovy_unescape(text: str) -> str:
    def one(m: "re.Match[str]") -> str:
        c = m.group(1)
        if c.startswith("u"):
            return chr(int(c[1:], 16))
        return GROOVY_ESCAPES.get(c, c)
    return re.sub(r"\\(u[0-9a-fA-F]{4}|[\s\S])", one, text)
SCRIPT_ARG = re.compile(r"""\(\s*(?:\w+\s*:\s*[\w.]+\s*,\s*)*script\s*:\s*('''|\"\"\"|'|\")""")
errors, count = [], 0
for m in re.finditer(r"(?<![\w.])sh\b\s*(\(|'|\")", code):
    line = code.count("\n", 0, m.start()) + 1
    start = m.start(1)
    if m.group(1) == "(":
        # sh(name: value, ..., script: <literal>, ...): simple named arguments
        # may come before `script:`.
        sm = SCRIPT_ARG.match(code, start)
        if not sm:
            errors.append(f"line {line}: sh(...) without a literal `script:` string: cannot be checked")
            continue
        start = sm.start(1)
    quote = next(q for q in ("'''", '"""', "'", '"') if code.startswith(q, start))
    body_start = start + len(quote)
    end = code.find(quote, body_start)
    while end != -1 and code[end - 1] == "\\" and len(quote) == 1:
        end = code.find(quote, end + 1)
    if end == -1:
        errors.append(f"line {line}: unterminated sh string"); continue
    body = src[body_start:end]
    if quote.startswith('"') and "$" in body:
        errors.append(f"line {line}: double-quoted sh step with `$`: Groovy interpolates it; use '''...''' and environment variables")
        continue
    body = groovy_unescape(body)
    body = textwrap.dedent(body).strip("\n") + "\n"
    if not body.startswith("#!"):
        body = "#!/bin/sh\n# Jenkinsfile line %d (Jenkins runs it with sh -xe)\n%s" % (line, body)
    count += 1
    with open(os.path.join(out, "step-%02d-line-%03d.sh" % (count, line)), "w", encoding="utf-8") as f:
        f.write(body)

for e in errors:
    print(f"{path}: {e}", file=sys.stderr)
if errors:
    sys.exit(1)
print(count)
