#!/usr/bin/env bash
# Print the path of a working Python interpreter of the given minor version (3.10, 3.11),
# looking at $PYTHON<minor>, pyenv, then PATH. Exit 1 with a clear message if none works.
set -u
want="$1"                       # e.g. 3.10
var="PYTHON${want/./}"          # e.g. PYTHON310
works() { [ -n "$1" ] && "$1" -c "import sys; assert sys.version_info[:2] == tuple(map(int, '$want'.split('.')))" 2>/dev/null; }
candidates=("${!var:-}")
if command -v pyenv >/dev/null 2>&1; then
  for prefix in $(pyenv versions --bare 2>/dev/null | grep -E "^${want//./\\.}(\.[0-9]+)?$" | sort -rV); do
    candidates+=("$(pyenv root)/versions/$prefix/bin/python$want")
  done
fi
for dir in "$HOME/.pyenv/versions"/"$want"*; do candidates+=("$dir/bin/python$want"); done
candidates+=("$(command -v "python$want" 2>/dev/null)" "/usr/bin/python$want" "/usr/local/bin/python$want")
for candidate in "${candidates[@]}"; do
  if works "$candidate"; then echo "$candidate"; exit 0; fi
done
cat >&2 <<MSG
error: Python $want was not found.
  Rasa 3.6 supports only Python 3.8-3.10, so the NLU environment needs Python 3.10;
  the assistant itself needs Python 3.11. Get it with one of:
    pyenv install $want            (then run make again)
    apt-get install python$want    (where the distribution ships it)
  or point $var at an interpreter:  make $var=/path/to/python$want ...
MSG
exit 1
