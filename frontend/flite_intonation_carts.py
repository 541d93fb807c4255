"""flite's US English accent and end-tone CART trees, as data (generated: do not edit).

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

ACCENT_CART = (('R:SylStructure.parent.R:Token.parent.EMPH', 'n.R:SylStructure.parent.R:Token.parent.EMPH',
  'p.R:SylStructure.parent.R:Token.parent.EMPH', 'ssyl_in', 'R:SylStructure.parent.gpos',
  'ssyl_out', 'stress', 'R:SylStructure.parent.R:Word.p.gpos', 'p.syl_break', 'syl_break',
  'p.p.syl_break', 'R:SylStructure.parent.R:Word.p.p.gpos', 'syl_out',
  'R:SylStructure.parent.R:Word.n.gpos', 'n.stress', 'syl_in', 'n.syl_break', 'n.n.syl_break'),
 [(0, '1', 2), (None, 'H*', -1), (1, '1', 4), (None, 'NONE', -1), (2, '1', 6), (None, 'NONE', -1),
  (3, '10', 8), (None, 'NONE', -1), (4, 'to', 10), (None, 'NONE', -1), (4, 'cc', 12),
  (None, 'NONE', -1), (5, '10', 14), (None, 'NONE', -1), (4, 'in', 16), (None, 'NONE', -1),
  (4, 'wp', 18), (None, 'NONE', -1), (4, 'aux', 20), (None, 'NONE', -1), (4, 'det', 22),
  (None, 'NONE', -1), (6, '0', 24), (None, 'NONE', -1), (7, '0', 26), (None, 'H*', -1),
  (4, 'md', 28), (None, 'NONE', -1), (8, '3', 32), (9, '1', 31), (None, 'NONE', -1),
  (None, 'H*', -1), (10, '4', 46), (11, 'in', 35), (None, 'H*', -1), (12, '0', 37),
  (None, 'H*', -1), (13, 'in', 39), (None, 'H*', -1), (9, '0', 41), (None, 'H*', -1),
  (14, '0', 43), (None, 'H*', -1), (8, '0', 45), (None, 'NONE', -1), (None, 'H*', -1),
  (3, '0', 48), (None, 'H*', -1), (5, '4', 50), (None, 'NONE', -1), (10, '3', 54),
  (7, 'content', 53), (None, 'NONE', -1), (None, 'H*', -1), (15, '2', 68), (14, '0', 65),
  (7, 'in', 58), (None, 'H*', -1), (12, '2', 60), (None, 'H*', -1), (7, 'content', 64),
  (12, '4', 63), (None, 'NONE', -1), (None, 'H*', -1), (None, 'H*', -1), (16, '0', 67),
  (None, 'NONE', -1), (None, 'H*', -1), (13, '0', 72), (9, '0', 71), (None, 'L+H*', -1),
  (None, 'NONE', -1), (9, '1', 82), (3, '3', 75), (None, 'NONE', -1), (8, '0', 77),
  (None, 'NONE', -1), (14, '0', 81), (10, '0', 80), (None, 'NONE', -1), (None, 'H*', -1),
  (None, 'NONE', -1), (12, '4', 88), (17, '0', 87), (10, '0', 86), (None, 'NONE', -1),
  (None, 'L+H*', -1), (None, 'H*', -1), (12, '5', 92), (7, 'content', 91), (None, 'NONE', -1),
  (None, 'H*', -1), (11, 'in', 102), (15, '4', 95), (None, 'H*', -1), (15, '3', 97),
  (None, 'H*', -1), (10, '0', 99), (None, 'NONE', -1), (7, 'content', 101), (None, 'H*', -1),
  (None, '!H*', -1), (5, '2', 108), (8, '0', 105), (None, 'NONE', -1), (10, '0', 107),
  (None, 'NONE', -1), (None, 'L+H*', -1), (11, 'to', 110), (None, 'H*', -1), (9, '3', 114),
  (10, '0', 113), (None, 'NONE', -1), (None, 'H*', -1), (15, '7', 120), (14, '0', 119),
  (13, 'content', 118), (None, '!H*', -1), (None, 'NONE', -1), (None, 'NONE', -1), (13, 'cc', 122),
  (None, 'NONE', -1), (17, '3', 124), (None, 'H*', -1), (3, '4', 126), (None, 'NONE', -1),
  (8, '0', 136), (16, '1', 129), (None, 'NONE', -1), (3, '3', 131), (None, 'NONE', -1),
  (10, '0', 133), (None, 'NONE', -1), (3, '1', 135), (None, 'H*', -1), (None, 'NONE', -1),
  (7, 'in', 138), (None, 'L+H*', -1), (15, '6', 140), (None, '!H*', -1), (12, '2', 142),
  (None, 'H*', -1), (15, '4', 144), (None, '!H*', -1), (14, '0', 148), (15, '3', 147),
  (None, 'H*', -1), (None, 'NONE', -1), (None, 'NONE', -1)])

TONE_CART = (('lisp_syl_yn_question', 'R:SylStructure.parent.gpos', 'ssyl_in', 'p.old_syl_break',
  'n.old_syl_break', 'old_syl_break', 'R:SylStructure.parent.R:Word.n.gpos',
  'R:SylStructure.parent.R:Word.p.gpos', 'syl_in', 'sub_phrases', 'n.stress',
  'R:SylStructure.parent.R:Word.n.n.gpos', 'p.p.old_syl_break', 'n.n.old_syl_break',
  'R:SylStructure.parent.R:Word.p.p.gpos'),
 [(0, '1', 2), (None, 'H-H%', -1), (1, 'cc', 4), (None, 'NONE', -1), (2, '10', 6),
  (None, 'NONE', -1), (1, 'md', 8), (None, 'NONE', -1), (3, '4', 10), (None, 'NONE', -1),
  (1, 'det', 12), (None, 'NONE', -1), (4, '3', 14), (None, 'NONE', -1), (4, '4', 16),
  (None, 'NONE', -1), (1, 'in', 18), (None, 'NONE', -1), (5, '4', 46), (6, '0', 21),
  (None, 'L-L%', -1), (7, 'aux', 23), (None, 'L-L%', -1), (6, 'det', 25), (None, 'L-L%', -1),
  (2, '4', 27), (None, 'L-L%', -1), (8, '6', 29), (None, 'L-L%', -1), (6, 'aux', 31),
  (None, 'L-H%', -1), (8, '5', 33), (None, 'L-L%', -1), (9, '2', 35), (None, 'L-L%', -1),
  (7, 'det', 37), (None, 'L-L%', -1), (9, '0', 45), (6, 'in', 42), (4, '0', 41),
  (None, 'L-L%', -1), (None, 'L-H%', -1), (10, '0', 44), (None, 'L-L%', -1), (None, 'L-H%', -1),
  (None, 'L-L%', -1), (1, 'pps', 48), (None, 'NONE', -1), (8, '0', 50), (None, 'NONE', -1),
  (1, 'content', 94), (11, '0', 53), (None, 'NONE', -1), (12, '4', 55), (None, 'NONE', -1),
  (8, '1', 57), (None, 'NONE', -1), (13, '4', 59), (None, 'NONE', -1), (11, 'in', 61),
  (None, 'NONE', -1), (7, 'cc', 63), (None, 'NONE', -1), (13, '3', 65), (None, 'NONE', -1),
  (11, 'cc', 67), (None, 'NONE', -1), (2, '0', 69), (None, 'NONE', -1), (11, 'to', 71),
  (None, 'NONE', -1), (14, 'to', 73), (None, 'NONE', -1), (7, 'in', 75), (None, 'NONE', -1),
  (14, 'in', 77), (None, 'NONE', -1), (8, '2', 79), (None, 'NONE', -1), (11, 'aux', 81),
  (None, 'NONE', -1), (9, '1', 83), (None, 'NONE', -1), (14, 'det', 85), (None, 'NONE', -1),
  (2, '4', 87), (None, 'NONE', -1), (4, '0', 89), (None, 'NONE', -1), (6, 'content', 91),
  (None, 'NONE', -1), (5, '3', 93), (None, 'H-', -1), (None, 'NONE', -1), (None, 'NONE', -1)])
