// Fuzzing support: turns fuzz input bytes into a data set through the builder (elements, sequences
// and items of both length forms, UN and unknown-VR sequences, fragments, private creators, raw
// bytes), so that most inputs are well formed and DCMTK's reading of them can be compared with the
// scanner's.
#pragma once

#include "dicom_builder.h"

namespace fuzzkit {

class Reader {
public:
    Reader(const uint8_t *p, size_t n) : p_(p), n_(n) {}
    bool done() const { return at_ >= n_; }
    uint8_t u8() { return at_ < n_ ? p_[at_++] : 0; }
    uint16_t u16() { return uint16_t(u8() | u8() << 8); }
    bool bit() { return (u8() & 1) != 0; }
    size_t left() const { return n_ - at_; }
    const uint8_t *here() const { return p_ + at_; }
    void skip(size_t k) { at_ += k < left() ? k : left(); }

private:
    const uint8_t *p_;
    size_t n_, at_ = 0;
};

inline std::vector<uint8_t> run_program(Enc enc, const uint8_t *p, size_t n) {
    static const uint32_t kTags[] = {
        0x00080060, 0x00100010, 0x00200013, 0x0040A730, 0x00081140, 0x00880200, 0x00041220, 0x7FE00010,
        0x60003000, 0x00283010, 0x00283006, 0x00091000, 0x00291000, 0x00111010, 0xFFFCFFFC, 0x00020010,
        0x00000000, 0xFFFEE00D, 0x00080000, 0x00400275, 0x0040A160, 0x00091030, 0x00431001, 0x00191002};
    static const char *const kVrs[] = {"CS", "LO", "UT", "UI", "US", "UL", "FD", "SQ", "OB", "OW", "UN", "UC", "SV",
                                       "ZZ", "OX", "ox", "??", "\x01\x02", "xs", "lt", "pi", "na", "AT", "DS"};
    static const char *const kSeqVrs[] = {"SQ", "SQ", "SQ", "UN", "ZZ", "OB"};
    static const uint16_t kGroups[] = {0x0009, 0x0029, 0x0019, 0x0043, 0x0011, 0x2001, 0x0089};
    static const char *const kCreators[] = {"DCMTK_ANONYMIZER", "CARDIO-D.R. 1.0", "GEMS_ACQU_01", "SIEMENS CSA HEADER",
                                            "DCMTK_ANONYMIZER  ", "DIDI TO PCR 1.1", "Philips Imaging DD 001", "ACME"};
    Builder b(enc);
    Reader r(p, n);
    std::vector<char> open;  // 'S' sequence, 'I' item, 'F' fragments
    auto pick_tag = [&](Reader &rd) -> uint32_t {
        uint8_t k = rd.u8();
        if (k < 200) return kTags[k % (sizeof kTags / sizeof kTags[0])];
        return uint32_t(rd.u16()) << 16 | rd.u16();
    };
    while (!r.done() && b.bytes.size() < 60000) {
        const char top = open.empty() ? 'D' : open.back();
        const bool in_items = top == 'D' || top == 'I';
        switch (r.u8() % 10) {
        case 0:
        case 1:
            if (in_items) {
                const uint32_t t = pick_tag(r);
                const char *vr = kVrs[r.u8() % (sizeof kVrs / sizeof kVrs[0])];
                size_t len = r.u8() % 40;
                if (!(r.u8() & 7)) len |= 1;  // now and then odd
                b.filled(uint16_t(t >> 16), uint16_t(t), vr, len, r.u8());
            }
            break;
        case 2:
            if (in_items) {
                const uint32_t t = pick_tag(r);
                const bool defined = r.bit();
                const char *vr = kSeqVrs[r.u8() % (sizeof kSeqVrs / sizeof kSeqVrs[0])];
                if (vr[0] == 'O') {
                    if (!defined) { b.fragments_open(uint16_t(t >> 16), uint16_t(t), vr); open.push_back('F'); }
                    break;
                }
                b.seq_open(uint16_t(t >> 16), uint16_t(t), defined, vr);
                open.push_back('S');
            }
            break;
        case 3:
            if (top == 'S') { b.item_open(r.bit()); open.push_back('I'); }
            break;
        case 4:
            if (!open.empty()) {
                if (top == 'F') b.fragments_close(); else b.close();
                open.pop_back();
            }
            break;
        case 5:
            if (in_items) { b.fragments_open(); open.push_back('F'); }
            break;
        case 6:
            if (top == 'F') b.fragment((r.u8() % 32) & ~size_t(1), 0x42);
            break;
        case 7:
            if (in_items) {
                const uint16_t g = kGroups[r.u8() % (sizeof kGroups / sizeof kGroups[0])];
                std::string c = kCreators[r.u8() % (sizeof kCreators / sizeof kCreators[0])];
                const uint8_t how = r.u8();
                if (how & 1) c += std::string("\0junk", 5);
                b.str(g, uint16_t(0x10 + (how >> 6)), "LO", c);
            }
            break;
        case 8:
            if (in_items) {
                const uint16_t g = kGroups[r.u8() % (sizeof kGroups / sizeof kGroups[0])];
                const uint16_t e = uint16_t((0x10 + (r.u8() & 3)) << 8 | r.u8());
                if (r.bit()) {
                    b.seq_open(g, e, r.bit(), "SQ");
                    open.push_back('S');
                } else {
                    b.filled(g, e, "LO", (r.u8() % 16) & ~size_t(1), 'x');
                }
            }
            break;
        case 9: {
            const size_t k = r.u8() % 9;
            if (k <= r.left()) { b.raw(r.here(), k); r.skip(k); }
            break;
        }
        }
    }
    while (!open.empty()) {
        if (open.back() == 'F') b.fragments_close(); else b.close();
        open.pop_back();
    }
    return b.bytes;
}

}  // namespace fuzzkit
