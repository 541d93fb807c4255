"""flite's US English accent and end-tone CART trees, as data
(generated: do not edit).

Written by ``python -m recipes.demo.extract_flite_carts`` from flite's
``lang/usenglish/us_int_accent_cart.[ch]`` and ``us_int_tone_cart.[ch]``; read by
``frontend.intonation``. A tree is ``(features, nodes)``: a question node is
``(feature index, op, value, index of the "no" child)`` with op ``"is"`` (the feature's value
equals ``value``) or ``"less"`` (as numbers); the "yes" child is the next node. A leaf is
``(None, None, answer, -1)``.

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

ACCENT_CART = (('R:SylStructure.parent.R:Token.parent.EMPH',
  'n.R:SylStructure.parent.R:Token.parent.EMPH',
  'p.R:SylStructure.parent.R:Token.parent.EMPH', 'ssyl_in', 'R:SylStructure.parent.gpos',
  'ssyl_out', 'stress', 'R:SylStructure.parent.R:Word.p.gpos', 'p.syl_break', 'syl_break',
  'p.p.syl_break', 'R:SylStructure.parent.R:Word.p.p.gpos', 'syl_out',
  'R:SylStructure.parent.R:Word.n.gpos', 'n.stress', 'syl_in', 'n.syl_break', 'n.n.syl_break'),
 [(0, 'is', '1', 2), (None, None, 'H*', -1), (1, 'is', '1', 4), (None, None, 'NONE', -1),
  (2, 'is', '1', 6), (None, None, 'NONE', -1), (3, 'is', '10', 8), (None, None, 'NONE', -1),
  (4, 'is', 'to', 10), (None, None, 'NONE', -1), (4, 'is', 'cc', 12), (None, None, 'NONE', -1),
  (5, 'is', '10', 14), (None, None, 'NONE', -1), (4, 'is', 'in', 16), (None, None, 'NONE', -1),
  (4, 'is', 'wp', 18), (None, None, 'NONE', -1), (4, 'is', 'aux', 20), (None, None, 'NONE', -1),
  (4, 'is', 'det', 22), (None, None, 'NONE', -1), (6, 'is', '0', 24), (None, None, 'NONE', -1),
  (7, 'is', '0', 26), (None, None, 'H*', -1), (4, 'is', 'md', 28), (None, None, 'NONE', -1),
  (8, 'is', '3', 32), (9, 'is', '1', 31), (None, None, 'NONE', -1), (None, None, 'H*', -1),
  (10, 'is', '4', 46), (11, 'is', 'in', 35), (None, None, 'H*', -1), (12, 'is', '0', 37),
  (None, None, 'H*', -1), (13, 'is', 'in', 39), (None, None, 'H*', -1), (9, 'is', '0', 41),
  (None, None, 'H*', -1), (14, 'is', '0', 43), (None, None, 'H*', -1), (8, 'is', '0', 45),
  (None, None, 'NONE', -1), (None, None, 'H*', -1), (3, 'is', '0', 48), (None, None, 'H*', -1),
  (5, 'is', '4', 50), (None, None, 'NONE', -1), (10, 'is', '3', 54), (7, 'is', 'content', 53),
  (None, None, 'NONE', -1), (None, None, 'H*', -1), (15, 'is', '2', 68), (14, 'is', '0', 65),
  (7, 'is', 'in', 58), (None, None, 'H*', -1), (12, 'is', '2', 60), (None, None, 'H*', -1),
  (7, 'is', 'content', 64), (12, 'is', '4', 63), (None, None, 'NONE', -1), (None, None, 'H*', -1),
  (None, None, 'H*', -1), (16, 'is', '0', 67), (None, None, 'NONE', -1), (None, None, 'H*', -1),
  (13, 'is', '0', 72), (9, 'is', '0', 71), (None, None, 'L+H*', -1), (None, None, 'NONE', -1),
  (9, 'is', '1', 82), (3, 'is', '3', 75), (None, None, 'NONE', -1), (8, 'is', '0', 77),
  (None, None, 'NONE', -1), (14, 'is', '0', 81), (10, 'is', '0', 80), (None, None, 'NONE', -1),
  (None, None, 'H*', -1), (None, None, 'NONE', -1), (12, 'is', '4', 88), (17, 'is', '0', 87),
  (10, 'is', '0', 86), (None, None, 'NONE', -1), (None, None, 'L+H*', -1), (None, None, 'H*', -1),
  (12, 'is', '5', 92), (7, 'is', 'content', 91), (None, None, 'NONE', -1), (None, None, 'H*', -1),
  (11, 'is', 'in', 102), (15, 'is', '4', 95), (None, None, 'H*', -1), (15, 'is', '3', 97),
  (None, None, 'H*', -1), (10, 'is', '0', 99), (None, None, 'NONE', -1), (7, 'is', 'content', 101),
  (None, None, 'H*', -1), (None, None, '!H*', -1), (5, 'is', '2', 108), (8, 'is', '0', 105),
  (None, None, 'NONE', -1), (10, 'is', '0', 107), (None, None, 'NONE', -1),
  (None, None, 'L+H*', -1), (11, 'is', 'to', 110), (None, None, 'H*', -1), (9, 'is', '3', 114),
  (10, 'is', '0', 113), (None, None, 'NONE', -1), (None, None, 'H*', -1), (15, 'is', '7', 120),
  (14, 'is', '0', 119), (13, 'is', 'content', 118), (None, None, '!H*', -1),
  (None, None, 'NONE', -1), (None, None, 'NONE', -1), (13, 'is', 'cc', 122),
  (None, None, 'NONE', -1), (17, 'is', '3', 124), (None, None, 'H*', -1), (3, 'is', '4', 126),
  (None, None, 'NONE', -1), (8, 'is', '0', 136), (16, 'is', '1', 129), (None, None, 'NONE', -1),
  (3, 'is', '3', 131), (None, None, 'NONE', -1), (10, 'is', '0', 133), (None, None, 'NONE', -1),
  (3, 'is', '1', 135), (None, None, 'H*', -1), (None, None, 'NONE', -1), (7, 'is', 'in', 138),
  (None, None, 'L+H*', -1), (15, 'is', '6', 140), (None, None, '!H*', -1), (12, 'is', '2', 142),
  (None, None, 'H*', -1), (15, 'is', '4', 144), (None, None, '!H*', -1), (14, 'is', '0', 148),
  (15, 'is', '3', 147), (None, None, 'H*', -1), (None, None, 'NONE', -1),
  (None, None, 'NONE', -1)])

TONE_CART = (('lisp_syl_yn_question', 'R:SylStructure.parent.gpos', 'ssyl_in', 'p.old_syl_break',
  'n.old_syl_break', 'old_syl_break', 'R:SylStructure.parent.R:Word.n.gpos',
  'R:SylStructure.parent.R:Word.p.gpos', 'syl_in', 'sub_phrases', 'n.stress',
  'R:SylStructure.parent.R:Word.n.n.gpos', 'p.p.old_syl_break', 'n.n.old_syl_break',
  'R:SylStructure.parent.R:Word.p.p.gpos'),
 [(0, 'is', '1', 2), (None, None, 'H-H%', -1), (1, 'is', 'cc', 4), (None, None, 'NONE', -1),
  (2, 'is', '10', 6), (None, None, 'NONE', -1), (1, 'is', 'md', 8), (None, None, 'NONE', -1),
  (3, 'is', '4', 10), (None, None, 'NONE', -1), (1, 'is', 'det', 12), (None, None, 'NONE', -1),
  (4, 'is', '3', 14), (None, None, 'NONE', -1), (4, 'is', '4', 16), (None, None, 'NONE', -1),
  (1, 'is', 'in', 18), (None, None, 'NONE', -1), (5, 'is', '4', 46), (6, 'is', '0', 21),
  (None, None, 'L-L%', -1), (7, 'is', 'aux', 23), (None, None, 'L-L%', -1), (6, 'is', 'det', 25),
  (None, None, 'L-L%', -1), (2, 'is', '4', 27), (None, None, 'L-L%', -1), (8, 'is', '6', 29),
  (None, None, 'L-L%', -1), (6, 'is', 'aux', 31), (None, None, 'L-H%', -1), (8, 'is', '5', 33),
  (None, None, 'L-L%', -1), (9, 'is', '2', 35), (None, None, 'L-L%', -1), (7, 'is', 'det', 37),
  (None, None, 'L-L%', -1), (9, 'is', '0', 45), (6, 'is', 'in', 42), (4, 'is', '0', 41),
  (None, None, 'L-L%', -1), (None, None, 'L-H%', -1), (10, 'is', '0', 44),
  (None, None, 'L-L%', -1), (None, None, 'L-H%', -1), (None, None, 'L-L%', -1),
  (1, 'is', 'pps', 48), (None, None, 'NONE', -1), (8, 'is', '0', 50), (None, None, 'NONE', -1),
  (1, 'is', 'content', 94), (11, 'is', '0', 53), (None, None, 'NONE', -1), (12, 'is', '4', 55),
  (None, None, 'NONE', -1), (8, 'is', '1', 57), (None, None, 'NONE', -1), (13, 'is', '4', 59),
  (None, None, 'NONE', -1), (11, 'is', 'in', 61), (None, None, 'NONE', -1), (7, 'is', 'cc', 63),
  (None, None, 'NONE', -1), (13, 'is', '3', 65), (None, None, 'NONE', -1), (11, 'is', 'cc', 67),
  (None, None, 'NONE', -1), (2, 'is', '0', 69), (None, None, 'NONE', -1), (11, 'is', 'to', 71),
  (None, None, 'NONE', -1), (14, 'is', 'to', 73), (None, None, 'NONE', -1), (7, 'is', 'in', 75),
  (None, None, 'NONE', -1), (14, 'is', 'in', 77), (None, None, 'NONE', -1), (8, 'is', '2', 79),
  (None, None, 'NONE', -1), (11, 'is', 'aux', 81), (None, None, 'NONE', -1), (9, 'is', '1', 83),
  (None, None, 'NONE', -1), (14, 'is', 'det', 85), (None, None, 'NONE', -1), (2, 'is', '4', 87),
  (None, None, 'NONE', -1), (4, 'is', '0', 89), (None, None, 'NONE', -1), (6, 'is', 'content', 91),
  (None, None, 'NONE', -1), (5, 'is', '3', 93), (None, None, 'H-', -1), (None, None, 'NONE', -1),
  (None, None, 'NONE', -1)])
