// Writes the seed corpus of scanner_fuzz: small valid data sets in the four encodings (and one a
// UID DCMTK does not know), nested sequences of every length form, explicit VR UN sequences, private
// sequences in Implicit VR, encapsulated pixel data. Each file: [encoding][cut] data set.
// Usage: scanner_seeds DIR
#include "dicom_builder.h"

#include <cstdio>
#include <string>

using namespace fuzzkit;

namespace {

int g_count = 0;

void put(const std::string &dir, unsigned which, const std::vector<uint8_t> &body, uint8_t cut = 7) {
    std::string path = dir + "/seed-" + std::to_string(g_count++);
    FILE *f = std::fopen(path.c_str(), "wb");
    if (!f) { std::perror(path.c_str()); std::exit(1); }
    const uint8_t head[2] = {uint8_t(which), cut};
    std::fwrite(head, 1, 2, f);
    std::fwrite(body.data(), 1, body.size(), f);
    std::fclose(f);
}

unsigned code(Enc e) { return e == Enc::ImplicitLE ? 0 : e == Enc::ExplicitLE ? 1 : 2; }

std::vector<uint8_t> un_sequence(Enc outer) {
    Builder b(outer);
    b.str(0x0008, 0x0060, "CS", "OT");
    b.str(0x0009, 0x0010, "LO", "ACME");
    b.seq_open(0x0009, 0x1010, false, "UN");
    b.item_open(false);
    b.str(0x0008, 0x0100, "SH", "CODE");
    b.seq_open(0x0040, 0xA730, true);
    b.item_open(true);
    b.str(0x0040, 0xA160, "UT", "x");
    b.close(); b.close(); b.close(); b.close();
    b.str(0x0020, 0x0013, "IS", "7");
    return b.bytes;
}

std::vector<uint8_t> fragments(Enc enc) {
    Builder b(enc);
    b.str(0x0008, 0x0060, "CS", "XA");
    b.seq_open(0x0088, 0x0200, true);
    b.item_open(false);
    b.fragments_open();
    b.fragment(0);
    b.fragment(16);
    b.fragments_close();
    b.close(); b.close();
    b.fragments_open();
    b.fragment(4);
    b.fragment(32);
    b.fragment(8);
    b.fragments_close();
    return b.bytes;
}

std::vector<uint8_t> private_sq(Enc enc) {
    Builder b(enc);
    b.str(0x0009, 0x0010, "LO", "DCMTK_ANONYMIZER");
    b.seq_open(0x0009, 0x1000, true);
    b.item_open(true);
    b.str(0x0009, 0x0010, "LO", "DCMTK_ANONYMIZER");
    b.seq_open(0x0009, 0x1030, false);
    b.item_open(true);
    b.str(0x0040, 0xA160, "UT", "x");
    b.close(); b.close(); b.close(); b.close();
    b.str(0x0029, 0x0010, "LO", "CARDIO-D.R. 1.0");
    b.seq_open(0x0029, 0x1000, true);
    b.close();
    return b.bytes;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 2) { std::fprintf(stderr, "usage: scanner_seeds DIR\n"); return 2; }
    const std::string dir = argv[1];
    for (Enc e : {Enc::ImplicitLE, Enc::ExplicitLE, Enc::ExplicitBE}) {
        put(dir, code(e), ct_like(e, 64));
        for (int form = 0; form < 4; form++) put(dir, code(e), nested(e, 3, form & 1, form & 2), uint8_t(form * 40));
        put(dir, code(e), nested(e, 70, false, false));
        put(dir, code(e), fragments(e));
        put(dir, code(e), private_sq(e));
        if (e != Enc::ImplicitLE) put(dir, code(e), un_sequence(e));
    }
    put(dir, 3, deflate_raw(ct_like(Enc::ExplicitLE, 64)));
    put(dir, 3, deflate_raw(nested(Enc::ExplicitLE, 4, false, true)));
    put(dir, 3, deflate_raw(un_sequence(Enc::ExplicitLE)));
    put(dir, 4, ct_like(Enc::ImplicitLE, 64));
    put(dir, 4, nested(Enc::ExplicitLE, 3, true, false));
    // Programs for the builder (byte 0 in 5..9: program mode): a few hand-written ones.
    const std::vector<uint8_t> programs[] = {
        {2, 3, 1, 3, 1, 0, 0, 5, 0, 1, 0, 4, 4, 0, 1, 2, 8, 4, 4},                 // SQ, item, element, close
        {7, 0, 0, 0, 8, 0, 0, 1, 1, 1, 3, 1, 0, 20, 0, 4, 4, 0, 2, 10, 2},          // private creator + private SQ
        {2, 0, 0, 3, 3, 0, 2, 3, 0, 0, 3, 0, 0, 1, 5, 0, 6, 8, 6, 16, 4, 4, 4, 4},  // UN sequence, nested SQ, fragments
        {5, 6, 0, 6, 20, 6, 40, 4, 0, 1, 2, 4, 8},                                  // fragments then an element
        {2, 4, 0, 4, 3, 1, 2, 3, 0, 2, 3, 0, 0, 0, 7, 12, 4, 4, 4, 4, 4, 4},         // ZZ sequence with SQ inside
    };
    for (unsigned which = 0; which < 5; which++)
        for (const auto &p : programs) put(dir, 5 + which, p, uint8_t(which * 13));
    return 0;
}
