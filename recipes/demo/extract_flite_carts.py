"""Write flite's CART trees and tables as data, from flite's C sources.

* ``frontend/flite_intonation_carts.py``: the accent and end-tone trees that flite's US English
  front end runs on every syllable (``cart_intonation``), read by ``frontend.intonation``
  (``lang/usenglish/us_int_accent_cart.[ch]``, ``us_int_tone_cart.[ch]``).
* ``frontend/data/flite_f0.json``: the F0 trees of the same voices, one per HMM state, read by
  ``frontend.flite_f0`` (``lang/cmu_us_*/cmu_us_*_cg_f0_trees.[ch]``, ``cmu_us_*_cg.c``).
* ``frontend/data/flite_durations.json``: the duration trees of the three clustergen voices
  (slt, awb, rms), their per-state mean and standard deviation, the states of every phone, and
  the US phoneset's phonetic features, read by ``frontend.flite_durations``
  (``lang/cmu_us_*/cmu_us_*_cg_durmodel.[ch]``, ``cmu_us_*_cg_phonestate.c``,
  ``lang/usenglish/us_phoneset.c``). JSON, not Python: 0.5 MB of Python source takes 0.4 s to
  import where no bytecode is cached, the JSON 0.04 s to load.

The demo corpus's teachers are these voices; the prosody models read what the trees give as
input features. The trees are data; this script only reads them out of flite 2.2's sources
(https://github.com/festvox/flite):

    python -m recipes.demo.extract_flite_carts FLITE_SOURCE_DIR
"""

from __future__ import annotations

import argparse
import json
import pprint
import re
import sys
from pathlib import Path

from frontend.flite_durations import CLUSTERGEN_VOICES

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"

# The conditions both licences share, word for word.
_PERMISSION = """
    Permission is hereby granted, free of charge, to use and distribute this software and its
    documentation without restriction, including without limitation the rights to use, copy,
    modify, merge, publish, distribute, sublicense, and/or sell copies of this work, and to
    permit persons to whom this work is furnished to do so, subject to the following
    conditions: 1. The code must retain the above copyright notice, this list of conditions and
    the following disclaimer. 2. Any modifications must be clearly marked as such. 3. Original
    authors' names are not deleted. 4. The authors' names are not used to endorse or promote
    products derived from this software without specific prior written permission.
"""

_CMU_LICENCE = """
    Language Technologies Institute, Carnegie Mellon University. Copyright (c) 1999-2007. All
    Rights Reserved. Author: Alan W Black.
""" + _PERMISSION + """
    CARNEGIE MELLON UNIVERSITY AND THE CONTRIBUTORS TO THIS WORK DISCLAIM ALL WARRANTIES WITH
    REGARD TO THIS SOFTWARE, INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS, IN
    NO EVENT SHALL CARNEGIE MELLON UNIVERSITY NOR THE CONTRIBUTORS BE LIABLE FOR ANY SPECIAL,
    INDIRECT OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE, DATA
    OR PROFITS, WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING
    OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.

Modification (as the licence asks): converted from C tables to JSON.
"""

_TREE_FORMAT = """A tree is ``(features, nodes)``: a question node is
``(feature index, op, value, index of the "no" child)`` with op ``"is"`` (the feature's value
equals ``value``) or ``"less"`` (as numbers); the "yes" child is the next node. A leaf is
``(None, None, answer, -1)``.
"""

INTONATION_HEADER = '''"""flite's US English accent and end-tone CART trees, as data
(generated: do not edit).

Written by ``python -m recipes.demo.extract_flite_carts`` from flite's
``lang/usenglish/us_int_accent_cart.[ch]`` and ``us_int_tone_cart.[ch]``; read by
``frontend.intonation``. ''' + _TREE_FORMAT + '''
The trees, from flite's sources:

    Derived directly from the accent model cart tree in University of Edinburgh's Festival
    Speech Synthesis Systems (festival/lib/tobi.scm), which was in turn trained from the Boston
    University FM Radio Data Corpus.

    Carnegie Mellon University and Centre for Speech Technology Research, University of
    Edinburgh, UK. Copyright (c) 1998-2001. All Rights Reserved. Author: Alan W Black.
''' + _PERMISSION + '''
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

DURATION_ABOUT = """flite's clustergen duration trees, state statistics and US phoneset, as data
(generated: do not edit). Written by `python -m recipes.demo.extract_flite_carts` from flite's
lang/cmu_us_{slt,awb,rms}/cmu_us_*_cg_durmodel.[ch], cmu_us_*_cg_phonestate.c and
lang/usenglish/us_phoneset.c; read by frontend.flite_durations.
DURATION_CARTS[voice]: the tree that predicts a state's z-scored duration. """ + _TREE_FORMAT + """
DURATION_STATS[voice]: state name -> [mean, standard deviation] in seconds, in flite's order
(flite takes the first entry of a name). PHONE_STATES[voice]: phone -> its states' names.
PHONESET: phone -> its values of PHONE_FEATURES (ph_vc, ph_vlng, ...).

The tables, from flite's sources:
""" + _CMU_LICENCE


F0_ABOUT = """flite's clustergen F0 trees, as data (generated: do not edit). Written by
`python -m recipes.demo.extract_flite_carts` from flite's lang/cmu_us_{slt,awb,rms}/
cmu_us_*_cg_f0_trees.[ch], cmu_us_*_spamf0_*.[ch] and cmu_us_*_cg.c; read by frontend.flite_f0.
F0_CARTS[voice]: HMM state name -> the nodes of the tree that predicts a frame's F0 (Hz) in that
state, in the order of the voice's state types (flite uses the first for a name it lacks); a
node's feature index points into F0_FEATURES[voice]. SPAM[voice], for a voice that replaces
that contour by its SPAM model (cst_spamf0.c): PHRASE_CART (a segment's log F0), ACCENT_CART
(a syllable's row of ACCENT_SHAPES) and ACCENT_SHAPES (peak, tilt amplitude and tilt in
columns 0, 2 and 6). """ + _TREE_FORMAT + """
The tables, from flite's sources:
""" + _CMU_LICENCE


def _cart_constants(text: str) -> tuple[dict[str, str | float], dict[str, int]]:
    """The values (``val_NNNN``) and "no" node numbers (``CTNODE_*``) trees of a source use."""
    values: dict[str, str | float] = dict(
        re.findall(r'DEF_STATIC_CONST_VAL_STRING\((\w+),"((?:[^"\\]|\\.)*)"\)', text))
    values.update({name: float(v) for name, v in re.findall(
        r"DEF_STATIC_CONST_VAL_(?:FLOAT|INT)\((\w+),\s*([-+0-9.eE]+)\)", text)})
    numbers = {name: int(n) for name, n in re.findall(r"#define\s+(CTNODE_\w+)\s+(\d+)", text)}
    return values, numbers


def _tree(c_source: str, values: dict[str, str | float], numbers: dict[str, int]
          ) -> tuple[tuple[str, ...], list[tuple]]:
    table = re.search(r"feat_table\[\]\s*=\s*\{(.*?)NULL", c_source, re.S)
    if table is None:
        raise SystemExit("no feature table found")
    features = tuple(re.findall(r'"([^"]*)"', table.group(1)))
    ops = {"IS": "is", "LESS": "less"}
    nodes: list[tuple] = []
    for feat, op, no, value in re.findall(
            r"\{\s*(\d+),\s*CST_CART_OP_(\w+),\s*(\w+),\s*(?:\(cst_val \*\)&)?(\w+)\s*\}",
            c_source):
        if op == "NONE":
            nodes.append((None, None, values.get(value), -1))
        elif op in ops:
            answer = values[value]
            # A "less" threshold is a number; an "is" value is compared as flite's strings.
            nodes.append((int(feat), ops[op], answer if op == "LESS" else str(answer),
                          numbers[no]))
        else:
            raise SystemExit(f"operator {op} is not supported")
    nodes = nodes[:-1] if nodes and nodes[-1][2] is None else nodes  # the table's terminator
    for feat, _, _, no in nodes:
        if feat is not None and not 0 <= no < len(nodes):
            raise SystemExit(f"a node points at {no}, outside the {len(nodes)} nodes")
    return features, nodes


def read_cart(c_source: str, h_source: str = "") -> tuple[tuple[str, ...], list[tuple]]:
    """One CART tree of a C source: (feature names, nodes) as ``_TREE_FORMAT`` says."""
    return _tree(c_source, *_cart_constants(h_source + "\n" + c_source))


def read_carts(c_source: str, h_source: str = "") -> dict[str, tuple[tuple[str, ...], list]]:
    """Every CART tree of a C source that holds many (``cmu_us_*_cg_f0_trees.c``), by the name
    of its ``cst_cart``."""
    constants = _cart_constants(h_source + "\n" + c_source)
    starts = [m.start() for m in re.finditer(r"static const cst_cart_node \w+\[\]", c_source)]
    trees = {}
    for begin, end in zip(starts, starts[1:] + [len(c_source)]):
        chunk = c_source[begin:end]
        name = re.search(r"const cst_cart (\w+) = \{", chunk)
        if name is None:
            raise SystemExit("a node table without its cst_cart")
        trees[name.group(1)] = _tree(chunk, *constants)
    return trees


def read_f0_trees(voice: str, cg_source: str, c_source: str, h_source: str
                  ) -> dict[str, tuple[tuple[str, ...], list]]:
    """state name → the voice's F0 tree for it, in the order of the voice's ``types`` (the
    first is what flite uses for a state name it lacks)."""
    types = re.search(r"_types\[\]\s*=\s*\{(.*?)NULL", cg_source, re.S)
    if types is None:
        raise SystemExit("no types table found")
    trees = read_carts(c_source, h_source)
    out = {}
    for state in re.findall(r'"([^"]+)"', types.group(1)):
        tree = trees.get(f"cmu_us_{voice}_f0_{state}_cart")
        if tree is None:
            raise SystemExit(f"{voice}: no F0 tree for state {state}")
        out[state] = tree
    return out


def read_spam(voice: str, lang: Path) -> dict[str, object] | None:
    """The voice's SPAM F0 model (``cst_spamf0``) if its ``cg_db`` switches it on: the phrase
    tree (a segment's log F0), the accent tree (a syllable's accent shape) and the shapes."""
    directory = lang / f"cmu_us_{voice}"
    cg_source = (directory / f"cmu_us_{voice}_cg.c").read_text()
    switch = re.search(r"\n\s*(\d+),[^\n]*cg:spamf0", cg_source)
    if switch is None:
        raise SystemExit(f"{voice}: no cg:spamf0 switch found")
    if switch.group(1) == "0":
        return None
    trees = {}
    for part in ("phrase", "accent"):
        base = directory / f"cmu_us_{voice}_spamf0_{part}"
        trees[part] = read_cart(base.with_suffix(".c").read_text(),
                                base.with_suffix(".h").read_text())
    params = (directory / f"cmu_us_{voice}_spamf0_accent_params.c").read_text()
    vectors = {int(n): [float(x) for x in row.replace(",", " ").split()] for n, row in re.findall(
        r"accent_frame_(\d+)\[\] = \{([^}]*)\}", params)}
    order = [int(n) for n in re.findall(r"accent_frame_(\d+),", params)]
    if not order or set(order) != set(vectors):
        raise SystemExit(f"{voice}: the accent vectors and their table differ")
    return {"PHRASE_CART": trees["phrase"], "ACCENT_CART": trees["accent"],
            "ACCENT_SHAPES": [vectors[n] for n in order]}


def _shared_features(trees: dict[str, tuple[tuple[str, ...], list]]
                     ) -> tuple[list[str], dict[str, list]]:
    """Trees with one feature list for all of them (each tree's own list repeats most of it):
    (features, state → nodes indexing it)."""
    features: list[str] = []
    index: dict[str, int] = {}
    out = {}
    for state, (names, nodes) in trees.items():
        local = [index.setdefault(name, len(index)) for name in names]
        out[state] = [node if node[0] is None else (local[node[0]], *node[1:]) for node in nodes]
    features = sorted(index, key=index.__getitem__)
    return features, out


def read_duration_stats(c_source: str) -> dict[str, tuple[float, float]]:
    """state name → (mean, stddev) s, in the order of the voice's ``dur_stats`` table."""
    stats = {name: (float(mean), float(std)) for var, name, mean, std in re.findall(
        r'dur_stat (\w+) = \{\s*"([^"]+)",\s*([-0-9.eE]+),\s*([-0-9.eE]+)\s*\}', c_source)}
    table = re.search(r"_dur_stats\[\]\s*=\s*\{(.*?)NULL", c_source, re.S)
    if table is None:
        raise SystemExit("no dur_stats table found")
    order = re.findall(r"&dur_state_(\w+)", table.group(1))
    out: dict[str, tuple[float, float]] = {}
    for name in order:
        out.setdefault(name, stats[name])
    return out


def read_phone_states(c_source: str) -> dict[str, tuple[str, ...]]:
    """phone → the names of its HMM states, in the order of ``phone_states``."""
    rows = {}
    for var, names in re.findall(r"const char \* const (\w+)\[\] = \{(.*?)0\};", c_source):
        phone, *states = re.findall(r'"([^"]+)"', names)
        rows[var] = (phone, tuple(states))
    table = re.search(r"_phone_states\[\]\s*=\s*\{(.*?)\};", c_source, re.S)
    if table is None:
        raise SystemExit("no phone_states table found")
    return dict(rows[var] for var in re.findall(r"(\w+_ps)\b", table.group(1)))


def read_phoneset(c_source: str) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """(feature names, phone → feature values) of flite's ``us_phoneset``."""
    def strings(table: str) -> list[str]:
        block = re.search(table + r"\[\]\s*=\s*\{(.*?)NULL", c_source, re.S)
        if block is None:
            raise SystemExit(f"no {table} found")
        return re.findall(r'"([^"]*)"', block.group(1))

    featnames, phones = strings("us_featnames"), strings("us_phonenames")
    values = dict(re.findall(r'DEF_STATIC_CONST_VAL_STRING\((featval_\d+),"([^"]*)"\)', c_source))
    order = re.findall(r"\(cst_val \*\)&(featval_\d+)", c_source)
    rows = {int(i): [int(v) for v in row.split(",")[:-1]] for i, row in re.findall(
        r"us_fv_(\d+)\[\] = \{([^}]*)\}", c_source)}
    table = {phone: tuple(values[order[v]] for v in rows[i]) for i, phone in enumerate(phones)}
    if any(len(v) != len(featnames) for v in table.values()):
        raise SystemExit("a phone has the wrong number of features")
    return tuple(f"ph_{name}" for name in featnames), table


def _python(assignments: dict[str, object]) -> str:
    return "".join(f"{name} = {pprint.pformat(value, width=99, compact=True)}\n\n"
                   for name, value in assignments.items()).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("flite_source", type=Path, help="a checkout of flite's sources")
    args = parser.parse_args(argv)
    lang = args.flite_source / "lang"
    intonation = {}
    for name, stem in (("ACCENT_CART", "us_int_accent_cart"), ("TONE_CART", "us_int_tone_cart")):
        base = lang / "usenglish" / stem
        intonation[name] = read_cart(base.with_suffix(".c").read_text(),
                                     base.with_suffix(".h").read_text())
    features, phoneset = read_phoneset((lang / "usenglish" / "us_phoneset.c").read_text())
    durations: dict[str, object] = {"about": DURATION_ABOUT, "PHONE_FEATURES": features,
                                    "PHONESET": phoneset}
    carts, stats, states = {}, {}, {}
    for voice in CLUSTERGEN_VOICES:
        base = lang / f"cmu_us_{voice}" / f"cmu_us_{voice}_cg_durmodel"
        source = base.with_suffix(".c").read_text()
        carts[voice] = read_cart(source, base.with_suffix(".h").read_text())
        stats[voice] = read_duration_stats(source)
        states[voice] = read_phone_states(
            (lang / f"cmu_us_{voice}" / f"cmu_us_{voice}_cg_phonestate.c").read_text())
    durations.update(DURATION_CARTS=carts, DURATION_STATS=stats, PHONE_STATES=states)
    f0: dict[str, object] = {"about": F0_ABOUT, "F0_FEATURES": {}, "F0_CARTS": {}}
    for voice in CLUSTERGEN_VOICES:
        base = lang / f"cmu_us_{voice}" / f"cmu_us_{voice}_cg_f0_trees"
        cg_source = (lang / f"cmu_us_{voice}" / f"cmu_us_{voice}_cg.c").read_text()
        trees = read_f0_trees(voice, cg_source, base.with_suffix(".c").read_text(),
                              base.with_suffix(".h").read_text())
        f0["F0_FEATURES"][voice], f0["F0_CARTS"][voice] = _shared_features(trees)
        spam = read_spam(voice, lang)
        if spam is not None:
            f0.setdefault("SPAM", {})[voice] = spam
    path = FRONTEND / "flite_intonation_carts.py"
    path.write_text(INTONATION_HEADER + _python(intonation), encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
    path = FRONTEND / "data" / "flite_durations.json"
    path.write_text(json.dumps(durations, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
    path = FRONTEND / "data" / "flite_f0.json"
    path.write_text(json.dumps(f0, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
