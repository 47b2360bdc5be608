"""The README is executed (issue 17): its shell examples run top to bottom against a fresh `mock-finapi serve` and
must print what the README shows under them.

The convention (README.md, "Development", says the same for writers):

- Every block fenced ```` ```sh ```` runs, in document order, in one bash session for the whole README, against one
  `mock-finapi serve` of the default scenario started for the test; `http://127.0.0.1:8080` (in commands and in
  outputs) stands for that server's URL. Shell variables (`$A`, `$CLIENT_TOKEN`) carry over from block to block,
  the working directory is an empty temporary folder and standard input is empty.
- A block fenced ```` ```sh no-run ```` is shown only: installs, Docker, CI recipes, `serve` itself, commands that
  need another server or files the reader has. Any other shell fence (`bash`, `shell`, `console`, `sh <word>`) is an
  error, so a block cannot drop out of the test unnoticed.
- In a block, a command (one or more lines: `\\` continuations, quotes spanning lines, a here-document) is followed
  by its output (stdout and stderr together, as a terminal shows them): the lines that start with `#`. A command
  without output lines must print nothing.
- An output line is `# TEXT`. A line starting with `#` and three or more spaces continues the line above (joined
  without a space: break long JSON after a comma). Two or more spaces end the output; what follows is a remark for
  the reader. `…` stands for any text within the line (durations, times, tokens); a line that is only `…` for any
  number of lines.
- When the command made HTTP requests with curl, the status of its last answer is checked: 200, unless the output
  starts with a status, `NNN ` (curl does not print it; the README shows it where it is not 200). curl runs with
  `-sS` as in a terminal, ignoring `~/.curlrc` and proxies.
- A command exits 0, unless its last line ends with the comment `# exit N`.

A differing output fails the test with the README line of the command and of each output line that differs.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.server import clean_env, serving

README = Path(__file__).resolve().parents[2] / "README.md"
README_URL = "http://127.0.0.1:8080"
RUN, NO_RUN = "sh", "sh no-run"
SHELL_FENCES = {"sh", "bash", "shell", "console", "zsh", "shell-session", "shellsession"}
SESSION_TIMEOUT = 120.0
NEEDS = "the README's examples use curl and jq: install them (apt-get install curl jq, brew install jq)"

FENCE = re.compile(r"^( *)```(.*)$")
STATUS = re.compile(r"(\d{3})(?: |$)")
EXIT = re.compile(r"#\s*exit\s+(\d+)\s*$")
REMARK = re.compile(r" {2,}\S.*$")
HEREDOC = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_]\w*)\2")


@dataclass(frozen=True)
class Block:
    line: int
    """README line of the block's first content line."""
    info: str
    lines: tuple[str, ...]
    """The content, with the fence's indentation removed."""


@dataclass(frozen=True)
class Expected:
    line: int
    """README line of the output line (of its first physical line, when continued)."""
    text: str


@dataclass(frozen=True)
class Step:
    line: int
    """README line of the command's first line."""
    command: str
    output: tuple[Expected, ...]
    exit_code: int


@dataclass(frozen=True)
class Outcome:
    output: str
    exit_code: int
    status: int | None
    """HTTP status of the last answer curl received, None when curl got none."""
    aborted: str | None = None
    """Why the command did not finish (the session ended or hung in it)."""


def fenced_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        index += 1
        if not opening:
            continue
        indent, info = len(opening[1]), opening[2].strip()
        start, content = index, []
        while index < len(lines) and not lines[index].strip().startswith("```"):
            line = lines[index]
            content.append(line[indent:] if line.startswith(" " * indent) else line.lstrip())
            index += 1
        assert index < len(lines), f"README.md:{start}: a code block that is never closed"
        index += 1
        blocks.append(Block(start + 1, info, tuple(content)))
    return blocks


def shell_blocks(text: str) -> list[Block]:
    """The blocks that run, after checking every shell block is either `sh` or `sh no-run`."""
    runnable: list[Block] = []
    for block in fenced_blocks(text):
        language = block.info.split(" ", 1)[0]
        if language not in SHELL_FENCES:
            continue
        assert block.info in {RUN, NO_RUN}, (
            f"README.md:{block.line - 1}: a shell block fenced ```{block.info}: fence it ```{RUN} (it runs in "
            f"tests/e2e/test_readme.py) or ```{NO_RUN} (shown only)"
        )
        if block.info == RUN:
            runnable.append(block)
    return runnable


def _complete(command: str) -> bool:
    try:
        shlex.split(command, comments=True)
    except ValueError:  # an open quote or a trailing backslash: the command goes on
        return False
    return True


def steps_of(block: Block) -> list[Step]:
    steps: list[Step] = []
    command: list[str] = []
    shell: list[str] = []  # the command's lines without here-document bodies: where it ends, how it must exit
    heredoc: re.Match[str] | None = None
    command_line = 0
    output: list[Expected] = []

    def finish() -> None:
        if command:
            exit_code = EXIT.search(shell[-1])
            text = "\n".join(command)
            steps.append(Step(command_line, text, tuple(output), int(exit_code[1]) if exit_code else 0))
        command.clear()
        shell.clear()
        output.clear()

    for offset, line in enumerate(block.lines):
        number = block.line + offset
        if heredoc:  # a here-document's body, up to its delimiter line
            command.append(line)
            if (line.lstrip("\t") if heredoc[1] else line) == heredoc[3]:
                heredoc = None
            continue
        if line.startswith("#") and (not command or _complete("\n".join(shell))):
            assert command, f"README.md:{number}: an output line without a command above it"
            body = line[1:]
            if body.startswith("   ") and output:  # a continuation of the output line above
                output[-1] = Expected(output[-1].line, output[-1].text + REMARK.sub("", body.strip()))
            else:
                output.append(Expected(number, REMARK.sub("", body.removeprefix(" ").rstrip())))
            continue
        if not line.strip():
            continue
        if output or (command and _complete("\n".join(shell))):
            finish()
        if not command:
            command_line = number
        command.append(line)
        shell.append(line)
        heredoc = HEREDOC.search(line)
    if heredoc:
        raise AssertionError(f"README.md:{command_line}: a here-document without its {heredoc[3]} line")
    assert not command or _complete("\n".join(shell)), f"README.md:{command_line}: the command never ends"
    finish()
    return steps


def readme_steps(text: str) -> list[Step]:
    return [step for block in shell_blocks(text) for step in steps_of(block)]


def run_steps(steps: list[Step], url: str, folder: Path, timeout: float = SESSION_TIMEOUT) -> list[Outcome]:
    """Run the steps in one bash session in `folder`, each command's stdout and stderr together as in a terminal."""
    nonce = uuid.uuid4().hex
    bin_dir = Path(sys.executable).parent
    prelude = [
        "set +e",
        f"__headers={shlex.quote(str(folder / '.readme-headers'))}",
        ': >"$__headers"',
        # As in a terminal: no progress meter, errors shown; never the reader's ~/.curlrc or a proxy.
        'curl() { command curl -q -sS --noproxy "*" --max-time 20 -D "$__headers" "$@"; }',
    ]
    if shutil.which("mock-finapi", path=str(bin_dir)) is None:  # a checkout used without installing it
        prelude.append(f'mock-finapi() {{ {shlex.quote(sys.executable)} -m mock_finapi.cli "$@"; }}')
    script = prelude[:]
    for step in steps:
        script += [
            "{ " + step.command.replace(README_URL, url),
            "} </dev/null",
            "__rc=$?",
            f"printf '\\n{nonce} %s %s\\n' \"$__rc\" "
            + '"$(sed -n \'s/^HTTP\\/[0-9.]* \\([0-9][0-9][0-9]\\).*/\\1/p\' "$__headers" | tail -n 1)"',
            ': >"$__headers"',
        ]
    env = clean_env(PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    session = subprocess.Popen(
        ["bash", "--noprofile", "--norc", "-c", "\n".join(script)],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: a command that hangs is killed with all it started
    )
    try:
        raw, _ = session.communicate(timeout=timeout)
        ended = f"the shell ended with exit code {session.returncode}"
    except subprocess.TimeoutExpired:
        os.killpg(session.pid, signal.SIGKILL)
        raw, _ = session.communicate()
        ended = f"still running after {timeout:g} s: killed"
    text = raw.decode("utf-8", "replace")
    outcomes: list[Outcome] = []
    marker = re.compile(rf"\n{nonce} (\d+) (\d*)\n")
    position = 0
    for found in marker.finditer(text):
        output = text[position : found.start()].removesuffix("\n")
        outcomes.append(Outcome(output, int(found[1]), int(found[2]) if found[2] else None))
        position = found.end()
    if len(outcomes) < len(steps):  # the session ended early (an `exit` in a command) or a command hung
        outcomes.append(Outcome(text[position:], -1, None, ended))
    return outcomes


def pattern(expected: str) -> re.Pattern[str]:
    return re.compile("[^\n]*".join(re.escape(part) for part in expected.split("…")))


def lines_match(expected: list[str], got: list[str]) -> bool:
    """Each expected line matches its line; a line that is only `…` stands for any number of lines."""
    if not expected:
        return not got
    if expected[0] == "…":
        return any(lines_match(expected[1:], got[skip:]) for skip in range(len(got) + 1))
    return bool(got) and pattern(expected[0]).fullmatch(got[0]) is not None and lines_match(expected[1:], got[1:])


def mismatch(step: Step, outcome: Outcome) -> str | None:
    """What differs between the README and the run, naming README lines; None when they agree."""
    first, *more = step.command.splitlines()
    command = f"README.md:{step.line}: {first}{' …' if more else ''}"
    if outcome.aborted:
        return f"{command}\n  {outcome.aborted}" + "".join(
            f"\n    got:    {line}" for line in outcome.output.splitlines()
        )
    expected = [item.text for item in step.output]
    lines = outcome.output.split("\n") if outcome.output else []
    status = None
    if outcome.status is not None and expected:
        shown = STATUS.match(expected[0])
        if shown:
            status = int(shown[1])
            expected[0] = expected[0][shown.end() :]
            if not expected[0] and len(expected) == 1:  # a status alone: an empty body
                expected = []
    problems: list[str] = []
    if outcome.status is not None and outcome.status != (status or 200):
        problems.append(f"  HTTP status {outcome.status}, the README shows {status or '200 (no status shown)'}")
    if outcome.exit_code != step.exit_code:
        problems.append(f"  exit code {outcome.exit_code}, expected {step.exit_code} (`# exit N` on the command)")
    if "…" in expected and not lines_match(expected, lines):  # no line-by-line pairing: both in full
        problems.append(f"  README.md:{step.output[0].line}")
        problems += [f"    README: {line}" for line in expected] + [f"    got:    {line}" for line in lines]
    elif not lines_match(expected, lines):
        for index in range(max(len(lines), len(expected))):
            want = expected[index] if index < len(expected) else None
            got = lines[index] if index < len(lines) else None
            if want is not None and got is not None and pattern(want).fullmatch(got):
                continue
            where = f"README.md:{step.output[index].line}" if index < len(step.output) else "(no output line)"
            problems.append(f"  {where}\n    README: {want if want is not None else '(nothing)'}")
            problems.append(f"    got:    {got if got is not None else '(nothing)'}")
    if not problems:
        return None
    return f"{command}\n" + "\n".join(problems)


def mismatches(steps: list[Step], outcomes: list[Outcome]) -> list[str]:
    found = [m for step, outcome in zip(steps, outcomes, strict=False) if (m := mismatch(step, outcome))]
    if len(outcomes) < len(steps):
        found.append(f"README.md:{steps[len(outcomes)].line}: not run, the shell session ended before it")
    return found


needs_tools = pytest.mark.skipif(shutil.which("curl") is None or shutil.which("jq") is None, reason=NEEDS)


def test_every_shell_block_is_sh_or_sh_no_run_and_parses() -> None:
    steps = readme_steps(README.read_text(encoding="utf-8"))
    assert len(steps) > 40, "most of the README's examples no longer run: are they fenced `sh no-run`?"
    elsewhere = [
        f"README.md:{step.line}"
        for step in steps
        if "curl" in step.command and README_URL not in step.command and "$A" not in step.command
    ]
    assert not elsewhere, f"curl examples that do not ask {README_URL} (or $A): {elsewhere}"


SAMPLE = """\
Text.

```sh
X=hello
echo "$X" \\
  world
# hello world     a remark
printf '%s' '{"a":1,' \\
  '"b":2}'
# {"a":1,
#   "b":…}
false  # exit 1
printf 'one\\ntwo\\n'
# one
# two
printf 'a\\nb\\nc\\nd\\n'
# a
# …
# d
cat <<'EOF' | grep -c "'"
it's

# not output
EOF
# 1
```

```sh no-run
docker run --rm mock-finapi
```
"""


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_convention_on_a_sample(tmp_path: Path) -> None:
    steps = readme_steps(SAMPLE)
    assert [(s.line, s.exit_code, [e.line for e in s.output]) for s in steps] == [
        (4, 0, []),
        (5, 0, [7]),
        (8, 0, [10]),
        (12, 1, []),
        (13, 0, [14, 15]),
        (16, 0, [17, 18, 19]),
        (20, 0, [25]),
    ]
    assert steps[2].output[0].text == '{"a":1,"b":…}'
    outcomes = run_steps(steps, README_URL, tmp_path)
    assert mismatches(steps, outcomes) == []


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_a_differing_output_names_the_readme_lines(tmp_path: Path) -> None:
    text = "```sh\necho right\n# wrong\ntrue\n# extra\nfalse\n```\n```bash\nls\n```\n"
    with pytest.raises(AssertionError, match=r"README.md:8: a shell block fenced ```bash"):
        readme_steps(text)
    steps = readme_steps(text.split("```bash")[0])
    assert mismatches(steps, run_steps(steps, README_URL, tmp_path)) == [
        "README.md:2: echo right\n  README.md:3\n    README: wrong\n    got:    right",
        "README.md:4: true\n  README.md:5\n    README: extra\n    got:    (nothing)",
        "README.md:6: false\n  exit code 1, expected 0 (`# exit N` on the command)",
    ]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_a_command_that_hangs_is_killed_and_named(tmp_path: Path) -> None:
    steps = readme_steps("```sh\necho before\n# before\nsleep 60\necho after\n# after\n```\n")
    outcomes = run_steps(steps, README_URL, tmp_path, timeout=0.5)
    assert mismatches(steps, outcomes) == [
        "README.md:4: sleep 60\n  still running after 0.5 s: killed",
        "README.md:5: not run, the shell session ended before it",
    ]


def test_the_status_shown_before_a_body_is_checked() -> None:
    [shown, plain, alone] = readme_steps(
        '```sh\ncurl -X POST $A/x\n# 201 {"a":…}\ncurl $A/y\n# {}\ncurl $A/z\n# 204\n```\n'
    )
    assert mismatch(shown, Outcome('{"a":1}', 0, 201)) is None
    assert mismatch(plain, Outcome("{}", 0, 200)) is None
    assert mismatch(alone, Outcome("", 0, 204)) is None
    assert mismatch(shown, Outcome('{"a":1}', 0, 200)) == (
        "README.md:2: curl -X POST $A/x\n  HTTP status 200, the README shows 201"
    )
    assert mismatch(plain, Outcome("{}", 0, 404)) == (
        "README.md:4: curl $A/y\n  HTTP status 404, the README shows 200 (no status shown)"
    )


@pytest.mark.slow
@needs_tools
def test_the_readme_examples_print_what_the_readme_shows(tmp_path: Path) -> None:
    steps = readme_steps(README.read_text(encoding="utf-8"))
    with serving(tmp_path / "server") as served:
        work = tmp_path / "work"
        work.mkdir()
        steps = [_with_url(step, served.url) for step in steps]  # the server's URL in outputs too
        outcomes = run_steps(steps, served.url, work)
    found = mismatches(steps, outcomes)
    assert not found, f"{len(found)} README example(s) print something else:\n\n" + "\n\n".join(found)


def _with_url(step: Step, url: str) -> Step:
    output = tuple(Expected(item.line, item.text.replace(README_URL, url)) for item in step.output)
    return Step(step.line, step.command, output, step.exit_code)
