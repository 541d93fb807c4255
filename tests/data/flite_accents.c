/* flite's own accent, end-tone, break and stress prediction for each syllable of each argument,
 * one line per sentence: "word[accent]{endtone} <syl_break><stress> ...". It wrote
 * tests/data/flite_accents.json, the reference frontend.intonation is checked against.
 *
 * Build with flite's headers (https://github.com/festvox/flite, include/) against Debian's
 * libraries (apt install flite):
 *   gcc -Iflite/include tests/data/flite_accents.c -o flite_accents \
 *       /usr/lib/x86_64-linux-gnu/libflite_cmu_us_slt.so.1 \
 *       /usr/lib/x86_64-linux-gnu/libflite_usenglish.so.1 \
 *       /usr/lib/x86_64-linux-gnu/libflite_cmulex.so.1 /usr/lib/x86_64-linux-gnu/libflite.so.1 -lm
 */
#include <stdio.h>
#include "flite.h"

cst_voice *register_cmu_us_slt(const char *voxdir);

static const char *feature_or_empty(const cst_item *s, const char *name) {
    return item_feat_present(s, name) ? item_feat_string(s, name) : "";
}

int main(int argc, char **argv) {
    flite_init();
    cst_voice *voice = register_cmu_us_slt(NULL);
    for (int a = 1; a < argc; a++) {
        cst_utterance *u = flite_synth_text(argv[a], voice);
        for (cst_item *s = relation_head(utt_relation(u, "Syllable")); s; s = item_next(s)) {
            const char *accent = feature_or_empty(s, "accent");
            const char *tone = feature_or_empty(s, "endtone");
            printf("%s%s%s%s%s%s%s %s%s ", ffeature_string(s, "R:SylStructure.parent.name"),
                   *accent ? "[" : "", accent, *accent ? "]" : "",
                   *tone ? "{" : "", tone, *tone ? "}" : "",
                   ffeature_string(s, "syl_break"), ffeature_string(s, "stress"));
        }
        printf("\n");
        delete_utterance(u);
    }
    return 0;
}
