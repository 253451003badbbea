#!/usr/bin/env bash
# Run the suite with the clock of every process more than a year ahead (libfaketime, pinned in the lock),
# to prove that no test or code path depends on the day it runs. PostgreSQL tests are left out: the
# server's own timed waits are not ours to shift, and they run in the first pass of `make test`.
#
# Why PyPI's libfaketime and not Debian's `faketime` 0.9.10: the latter breaks Python 3.11's timed waits
# (hangs, or EINVAL from time.sleep). Monotonic time is left alone so timeouts keep their real length.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv}"
offset="${ONEDAY_FAKETIME_OFFSET:-+400d}"

so="$("$venv/bin/python" - <<'PY'
import pathlib, libfaketime
found = sorted(pathlib.Path(libfaketime.__file__).parent.rglob("libfaketime.so.1"))
print(found[0] if found else "")
PY
)"
if [[ -z "$so" ]]; then
    echo "a_year_ahead: libfaketime.so.1 not found in $venv (is the lock installed?)" >&2
    exit 1
fi

ahead=(env FAKETIME="$offset" FAKETIME_DONT_FAKE_MONOTONIC=1 LD_PRELOAD="$so")
# The preload must really have moved the clock: otherwise this pass would prove nothing.
today="$("$venv/bin/python" -c 'import datetime; print(datetime.date.today().isoformat())')"
shifted="$("${ahead[@]}" "$venv/bin/python" -c 'import datetime; print(datetime.date.today().isoformat())')"
"$venv/bin/python" - "$today" "$shifted" <<'PY'
import sys
from datetime import date
today, shifted = (date.fromisoformat(d) for d in sys.argv[1:])
if (shifted - today).days < 365:
    sys.exit(f"a_year_ahead: the clock did not move a year ahead ({today} -> {shifted})")
print(f"a_year_ahead: running the suite on {shifted} (today is {today})")
PY
"${ahead[@]}" "$venv/bin/pytest" -q -m "not postgres" -p no:cacheprovider
