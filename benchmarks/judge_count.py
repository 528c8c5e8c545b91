"""Count a blind judge's rankings of the object-removal sheets: pairwise win rates per method pair.

RANKINGS is the judge's file: JSON ``{"real_00012": "C>A=B>D", ...}`` (the
``rankings_template.json`` that :mod:`benchmarks.remove_objects` writes beside
the sheets, filled in), or plain text with one ``CASE RANKING`` per line
(``#`` starts a comment). Best first, ``>`` between letters, ``=`` for a tie;
letters left out of a ranking are not counted for that case, an empty
ranking skips the case. KEY is ``OUT/key/key.json``. Fills that were
bit-identical in a case count as ties there, whatever the judge wrote.

Run: ``python -m benchmarks.judge_count RANKINGS OUT/key/key.json``
(several judges: ``RANKINGS1 RANKINGS2 ... KEY``, counts pooled;
``--json FILE`` also writes the counts).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from benchmarks._removal import pairwise, pairwise_table


def read_rankings(path: Path) -> dict[str, str]:
    """case -> ranking text, from JSON or from ``CASE RANKING`` lines."""
    text = path.read_text()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = {}
        for n, line in enumerate(text.splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = re.split(r"[\s:]+", line, maxsplit=1)
            if len(parts) != 2:
                raise SystemExit(f"{path}:{n}: write 'CASE RANKING', e.g. 'real_00012 C>A=B>D'")
            data[parts[0]] = parts[1]
    if not isinstance(data, dict):
        raise SystemExit(f"{path}: expected a JSON object {{case: ranking}}")
    return {str(k): str(v) for k, v in data.items() if str(v).strip()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", type=Path, nargs="+", metavar="RANKINGS... KEY",
                    help="one rankings file per judge (counts are pooled), then the key")
    ap.add_argument("--json", type=Path, help="also write the counts here")
    args = ap.parse_args(argv)
    if len(args.files) < 2:
        ap.error("give at least one rankings file and the key")
    key = {k: v for k, v in json.loads(args.files[-1].read_text()).items() if not k.startswith("_")}
    counts: dict[tuple[str, str], list[int]] = {}
    for path in args.files[:-1]:
        rankings = read_rankings(path)
        try:
            for pair, c in pairwise(rankings, key).items():
                counts[pair] = [a + b for a, b in zip(counts.get(pair, [0, 0, 0]), c)]
        except (KeyError, ValueError) as e:
            raise SystemExit(f"{path}: {e}") from e
        unranked = sorted(set(key) - set(rankings))
        print(f"{path}: {len(rankings)} cases ranked" + (f"; {len(unranked)} sheets of the key not ranked" if unranked else ""))
    print()
    print(pairwise_table(counts))
    if args.json:
        args.json.write_text(json.dumps([{"a": a, "b": b, "a_above": c[0], "b_above": c[1], "ties": c[2]} for (a, b), c in sorted(counts.items())], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
