"""Write ``frontend/flite_intonation_carts.py`` from flite's C sources: the accent and end-tone
CART trees that flite's US English front end runs on every syllable (``cart_intonation``).

The clustergen teachers' duration and F0 trees read whether a syllable is accented, so the
prosody models get the same accent placement as an input (``frontend.intonation``). The trees
are data; this script only reads them out of ``us_int_accent_cart.[ch]`` and
``us_int_tone_cart.[ch]`` (flite 2.2, https://github.com/festvox/flite, lang/usenglish/):

    python -m recipes.demo.extract_flite_carts FLITE_SOURCE_DIR
"""

from __future__ import annotations

import argparse
import pprint
import re
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[2] / "frontend" / "flite_intonation_carts.py"
LEAF = 255

HEADER = '''"""flite's US English accent and end-tone CART trees, as data (generated: do not edit).

Written by ``python -m recipes.demo.extract_flite_carts`` from flite's
``lang/usenglish/us_int_accent_cart.[ch]`` and ``us_int_tone_cart.[ch]``; read by
``frontend.intonation``. A tree is ``(features, nodes)``: a node is ``(feature index, value,
index of the "no" child)`` (the "yes" child is the next node), a leaf is ``(None, answer, -1)``.

The trees, from flite's sources:

    Derived directly from the accent model cart tree in University of Edinburgh's Festival
    Speech Synthesis Systems (festival/lib/tobi.scm), which was in turn trained from the Boston
    University FM Radio Data Corpus.

    Carnegie Mellon University and Centre for Speech Technology Research, University of
    Edinburgh, UK. Copyright (c) 1998-2001. All Rights Reserved. Author: Alan W Black.

    Permission is hereby granted, free of charge, to use and distribute this software and its
    documentation without restriction, including without limitation the rights to use, copy,
    modify, merge, publish, distribute, sublicense, and/or sell copies of this work, and to
    permit persons to whom this work is furnished to do so, subject to the following
    conditions: 1. The code must retain the above copyright notice, this list of conditions and
    the following disclaimer. 2. Any modifications must be clearly marked as such. 3. Original
    authors' names are not deleted. 4. The authors' names are not used to endorse or promote
    products derived from this software without specific prior written permission.

    THE UNIVERSITY OF EDINBURGH, CARNEGIE MELLON UNIVERSITY AND THE CONTRIBUTORS TO THIS WORK
    DISCLAIM ALL WARRANTIES WITH REGARD TO THIS SOFTWARE, INCLUDING ALL IMPLIED WARRANTIES OF
    MERCHANTABILITY AND FITNESS, IN NO EVENT SHALL THE UNIVERSITY OF EDINBURGH, CARNEGIE MELLON
    UNIVERSITY NOR THE CONTRIBUTORS BE LIABLE FOR ANY SPECIAL, INDIRECT OR CONSEQUENTIAL
    DAMAGES OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN
    AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION
    WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.

Modification (as the licence asks): converted from C tables to Python tuples.
"""

'''


def read_cart(c_source: str, h_source: str) -> tuple[tuple[str, ...], list[tuple]]:
    text = h_source + "\n" + c_source
    values = dict(re.findall(r'DEF_STATIC_CONST_VAL_STRING\((\w+),"((?:[^"\\]|\\.)*)"\)', text))
    numbers = {name: int(n) for name, n in re.findall(r"#define\s+(CTNODE_\w+)\s+(\d+)", text)}
    table = re.search(r"feat_table\[\]\s*=\s*\{(.*?)NULL", c_source, re.S)
    if table is None:
        raise SystemExit("no feature table found")
    features = tuple(re.findall(r'"([^"]*)"', table.group(1)))
    nodes = []
    for feat, op, no, value in re.findall(
            r"\{\s*(\d+),\s*CST_CART_OP_(\w+),\s*(\w+),\s*(?:\(cst_val \*\)&)?(\w+)\s*\}",
            c_source):
        if op == "NONE":
            nodes.append((None, values.get(value), -1))
        elif op == "IS":
            nodes.append((int(feat), values[value], numbers[no]))
        else:
            raise SystemExit(f"operator {op} is not supported")
    nodes = nodes[:-1] if nodes and nodes[-1][1] is None else nodes  # the table's terminator
    for feat, _, no in nodes:
        if feat is not None and not 0 <= no < len(nodes):
            raise SystemExit(f"a node points at {no}, outside the {len(nodes)} nodes")
    return features, nodes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("flite_source", type=Path, help="a checkout of flite's sources")
    args = parser.parse_args(argv)
    trees = {}
    for name, stem in (("ACCENT_CART", "us_int_accent_cart"), ("TONE_CART", "us_int_tone_cart")):
        base = args.flite_source / "lang" / "usenglish" / stem
        trees[name] = read_cart(base.with_suffix(".c").read_text(), base.with_suffix(".h").read_text())
    body = "".join(f"{name} = {pprint.pformat(tree, width=99, compact=True)}\n\n"
                   for name, tree in trees.items())
    OUTPUT.write_text(HEADER + body.rstrip() + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
