// Test support: writes encoded DICOM data sets (the three encodings, sequences and items of defined
// or undefined length, explicit VR UN sequences, encapsulated pixel data) for the self-test, the seed
// corpus and the benchmark. Iterative (lengths are back-patched), so any nesting depth can be built.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace fuzzkit {

enum class Enc { ImplicitLE, ExplicitLE, ExplicitBE };

inline const char *uid_of(Enc e, bool deflated = false) {
    if (deflated) return "1.2.840.10008.1.2.1.99";
    switch (e) {
    case Enc::ImplicitLE: return "1.2.840.10008.1.2";
    case Enc::ExplicitLE: return "1.2.840.10008.1.2.1";
    case Enc::ExplicitBE: return "1.2.840.10008.1.2.2";
    }
    return "";
}

class Builder {
public:
    explicit Builder(Enc e) { encs_.push_back(e); }
    std::vector<uint8_t> bytes;

    Enc cur() const { return encs_.back(); }
    bool big() const { return cur() == Enc::ExplicitBE; }

    void u16(uint16_t v, bool be) {
        if (be) { bytes.push_back(uint8_t(v >> 8)); bytes.push_back(uint8_t(v)); }
        else { bytes.push_back(uint8_t(v)); bytes.push_back(uint8_t(v >> 8)); }
    }
    void u32(uint32_t v, bool be) {
        if (be) { u16(uint16_t(v >> 16), true); u16(uint16_t(v), true); }
        else { u16(uint16_t(v), false); u16(uint16_t(v >> 16), false); }
    }
    void tag(uint16_t g, uint16_t e) { u16(g, big()); u16(e, big()); }
    void raw(const void *p, size_t n) { bytes.insert(bytes.end(), (const uint8_t *)p, (const uint8_t *)p + n); }

    /* 4-byte length: as DCMTK reads it, every upper-case VR but the 2-byte standard ones. */
    static bool extended(const char *vr) {
        static const char *const short_vrs[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO",
                                                "LT", "PN", "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"};
        if (!(vr[0] >= 'A' && vr[0] <= 'Z' && vr[1] >= 'A' && vr[1] <= 'Z')) return false;
        for (const char *x : short_vrs) if (vr[0] == x[0] && vr[1] == x[1]) return false;
        return true;
    }

    /* An element header; the length field's position for patching. */
    size_t header(uint16_t g, uint16_t e, const char *vr, uint32_t len, bool *two_byte = nullptr) {
        tag(g, e);
        if (two_byte) *two_byte = false;
        if (cur() == Enc::ImplicitLE) { size_t at = bytes.size(); u32(len, false); return at; }
        bytes.push_back(uint8_t(vr[0]));
        bytes.push_back(uint8_t(vr[1]));
        if (extended(vr)) { u16(0, false); size_t at = bytes.size(); u32(len, big()); return at; }
        if (two_byte) *two_byte = true;
        size_t at = bytes.size();
        u16(uint16_t(len), big());
        return at;
    }

    void element(uint16_t g, uint16_t e, const char *vr, const void *data, size_t n) {
        header(g, e, vr, uint32_t(n));
        raw(data, n);
    }
    /* A string value padded to even length (UI with NUL, the rest with space). */
    void str(uint16_t g, uint16_t e, const char *vr, std::string s) {
        if (s.size() & 1) s.push_back(vr[0] == 'U' && vr[1] == 'I' ? '\0' : ' ');
        element(g, e, vr, s.data(), s.size());
    }
    void us(uint16_t g, uint16_t e, uint16_t v) { header(g, e, "US", 2); u16(v, big()); }
    void ul(uint16_t g, uint16_t e, uint32_t v) { header(g, e, "UL", 4); u32(v, big()); }
    void filled(uint16_t g, uint16_t e, const char *vr, size_t n, uint8_t fill = 0) {
        header(g, e, vr, uint32_t(n));
        bytes.insert(bytes.end(), n, fill);
    }

    /* A sequence (vr "SQ"; "UN" or any other VR DCMTK reads like UN, of undefined length in Explicit
     * VR: an Implicit VR LE sequence). */
    void seq_open(uint16_t g, uint16_t e, bool defined, const char *vr = "SQ") {
        Open o;
        o.big = big();
        o.len_pos = header(g, e, vr, defined ? 0 : 0xFFFFFFFFu, &o.two_byte);
        o.value_start = bytes.size();
        o.defined = defined;
        o.item = false;
        o.switched = cur() != Enc::ImplicitLE && !defined && !(vr[0] == 'S' && vr[1] == 'Q');
        if (o.switched) encs_.push_back(Enc::ImplicitLE);
        open_.push_back(o);
    }
    void item_open(bool defined) {
        Open o;
        o.big = big();
        tag(0xFFFE, 0xE000);
        o.len_pos = bytes.size();
        u32(defined ? 0 : 0xFFFFFFFFu, big());
        o.value_start = bytes.size();
        o.defined = defined;
        o.item = true;
        o.switched = false;
        o.two_byte = false;
        open_.push_back(o);
    }
    void close() {
        Open o = open_.back();
        open_.pop_back();
        if (o.defined) {
            const uint32_t len = uint32_t(bytes.size() - o.value_start);
            if (o.two_byte) {
                bytes[o.len_pos] = uint8_t(o.big ? len >> 8 : len);
                bytes[o.len_pos + 1] = uint8_t(o.big ? len : len >> 8);
            } else {
                patch32(o.len_pos, len, o.big);
            }
        } else {
            // the delimiter is in the encoding of the contents (Implicit VR LE in a UN sequence)
            tag(0xFFFE, o.item ? 0xE00D : 0xE0DD);
            u32(0, big());
        }
        if (o.switched) encs_.pop_back();
    }
    /* Encapsulated pixel data: (7FE0,0010) OB of undefined length, fragments, sequence delimiter. */
    void fragments_open(uint16_t g = 0x7FE0, uint16_t e = 0x0010, const char *vr = "OB") { header(g, e, vr, 0xFFFFFFFFu); }
    void fragment(size_t n, uint8_t fill = 0x55) {
        tag(0xFFFE, 0xE000);
        u32(uint32_t(n), big());
        bytes.insert(bytes.end(), n, fill);
    }
    void fragments_close() { tag(0xFFFE, 0xE0DD); u32(0, big()); }
    void delimiter(uint16_t e) { tag(0xFFFE, e); u32(0, big()); }

    void patch32(size_t at, uint32_t v, bool be) {
        for (int i = 0; i < 4; i++) bytes[at + i] = be ? uint8_t(v >> (24 - 8 * i)) : uint8_t(v >> (8 * i));
    }

private:
    struct Open { size_t len_pos, value_start; bool defined, item, switched, big, two_byte; };
    std::vector<Open> open_;
    std::vector<Enc> encs_;
};

/* Raw deflate (no zlib header), as Deflated Explicit VR Little Endian requires. */
inline std::vector<uint8_t> deflate_raw(const std::vector<uint8_t> &in) {
    z_stream zs;
    std::memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    std::vector<uint8_t> out(deflateBound(&zs, uLong(in.size())) + 16);
    zs.next_in = const_cast<Bytef *>(in.data());
    zs.avail_in = uInt(in.size());
    zs.next_out = out.data();
    zs.avail_out = uInt(out.size());
    deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

/* `levels` nested sequences (ContentSequence), each with one item, innermost holding one string. */
inline std::vector<uint8_t> nested(Enc enc, int levels, bool defined_seq, bool defined_item) {
    Builder b(enc);
    b.str(0x0008, 0x0060, "CS", "SR");
    for (int i = 0; i < levels; i++) {
        b.seq_open(0x0040, 0xA730, defined_seq);
        b.item_open(defined_item);
    }
    b.str(0x0040, 0xA160, "UT", "leaf");
    for (int i = 0; i < levels; i++) {
        b.close();
        b.close();
    }
    b.str(0x0020, 0x0013, "IS", "1");
    return b.bytes;
}

/* A CT-like image: about 120 header elements (public and GE-style private, two short sequences)
 * and 512 x 512 x 16-bit pixel data, as a modality sends it. */
inline std::vector<uint8_t> ct_like(Enc enc, size_t pixel_bytes = 512 * 512 * 2) {
    Builder b(enc);
    b.str(0x0008, 0x0005, "CS", "ISO_IR 100");
    b.str(0x0008, 0x0008, "CS", "ORIGINAL\\PRIMARY\\AXIAL");
    b.str(0x0008, 0x0012, "DA", "20240102");
    b.str(0x0008, 0x0013, "TM", "101112.123456");
    b.str(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.2");
    b.str(0x0008, 0x0018, "UI", "1.2.826.0.1.3680043.8.498.12345678901234567890123456789012");
    b.str(0x0008, 0x0020, "DA", "20240102");
    b.str(0x0008, 0x0021, "DA", "20240102");
    b.str(0x0008, 0x0022, "DA", "20240102");
    b.str(0x0008, 0x0023, "DA", "20240102");
    b.str(0x0008, 0x0030, "TM", "101010");
    b.str(0x0008, 0x0031, "TM", "101011");
    b.str(0x0008, 0x0032, "TM", "101012.5");
    b.str(0x0008, 0x0033, "TM", "101013.5");
    b.str(0x0008, 0x0050, "SH", "A123456789");
    b.str(0x0008, 0x0060, "CS", "CT");
    b.str(0x0008, 0x0070, "LO", "GE MEDICAL SYSTEMS");
    b.str(0x0008, 0x0080, "LO", "Some Hospital");
    b.str(0x0008, 0x0090, "PN", "Referring^Doctor");
    b.str(0x0008, 0x1010, "SH", "CT01");
    b.str(0x0008, 0x1030, "LO", "CT CHEST WITH CONTRAST");
    b.str(0x0008, 0x103E, "LO", "AXIAL 1.25MM");
    b.str(0x0008, 0x1090, "LO", "Revolution CT");
    b.seq_open(0x0008, 0x1140, true);
    for (int i = 0; i < 2; i++) {
        b.item_open(true);
        b.str(0x0008, 0x1150, "UI", "1.2.840.10008.5.1.4.1.1.2");
        b.str(0x0008, 0x1155, "UI", "1.2.826.0.1.3680043.8.498.1234567890123456789012345678" + std::to_string(i));
        b.close();
    }
    b.close();
    b.str(0x0009, 0x0010, "LO", "GEMS_IDEN_01");
    b.str(0x0009, 0x1001, "LO", "CT_LIGHTSPEED");
    b.str(0x0009, 0x1002, "SH", "CT01");
    b.str(0x0009, 0x1004, "SH", "Revolution");
    b.str(0x0009, 0x1027, "SL", std::string("\x01\x02\x03\x04", 4));
    b.str(0x0010, 0x0010, "PN", "Test^Patient");
    b.str(0x0010, 0x0020, "LO", "PID0001");
    b.str(0x0010, 0x0030, "DA", "19700101");
    b.str(0x0010, 0x0040, "CS", "O");
    b.str(0x0010, 0x1010, "AS", "054Y");
    b.str(0x0018, 0x0015, "CS", "CHEST");
    b.str(0x0018, 0x0022, "CS", "HELICAL MODE");
    b.str(0x0018, 0x0050, "DS", "1.25");
    b.str(0x0018, 0x0060, "DS", "120");
    b.str(0x0018, 0x0088, "DS", "1.25");
    b.str(0x0018, 0x0090, "DS", "500");
    b.str(0x0018, 0x1020, "LO", "revo_ct_22mw.50");
    b.str(0x0018, 0x1100, "DS", "360");
    b.str(0x0018, 0x1110, "DS", "946.746");
    b.str(0x0018, 0x1111, "DS", "538.52");
    b.str(0x0018, 0x1120, "DS", "0");
    b.str(0x0018, 0x1130, "DS", "153");
    b.str(0x0018, 0x1140, "CS", "CW");
    b.str(0x0018, 0x1150, "IS", "500");
    b.str(0x0018, 0x1151, "IS", "300");
    b.str(0x0018, 0x1152, "IS", "150");
    b.str(0x0018, 0x1160, "SH", "BODY FILTER");
    b.str(0x0018, 0x1170, "IS", "72000");
    b.str(0x0018, 0x1190, "DS", "1.2");
    b.str(0x0018, 0x1210, "SH", "STANDARD");
    b.str(0x0018, 0x5100, "CS", "FFS");
    b.str(0x0018, 0x9305, "FD", std::string(8, '\0'));
    b.str(0x0018, 0x9306, "FD", std::string(8, '\0'));
    b.str(0x0018, 0x9307, "FD", std::string(8, '\0'));
    b.str(0x0019, 0x0010, "LO", "GEMS_ACQU_01");
    for (uint16_t e = 0x1002; e < 0x1040; e += 2) b.str(0x0019, e, "DS", "12.5");
    b.str(0x0020, 0x000D, "UI", "1.2.826.0.1.3680043.8.498.11111111111111111111111111111");
    b.str(0x0020, 0x000E, "UI", "1.2.826.0.1.3680043.8.498.22222222222222222222222222222");
    b.str(0x0020, 0x0010, "SH", "12345");
    b.str(0x0020, 0x0011, "IS", "3");
    b.str(0x0020, 0x0012, "IS", "1");
    b.str(0x0020, 0x0013, "IS", "42");
    b.str(0x0020, 0x0032, "DS", "-250\\-250\\-100.5");
    b.str(0x0020, 0x0037, "DS", "1\\0\\0\\0\\1\\0");
    b.str(0x0020, 0x0052, "UI", "1.2.826.0.1.3680043.8.498.33333333333333333333333333333");
    b.str(0x0020, 0x1040, "LO", "SN");
    b.str(0x0020, 0x1041, "DS", "-100.5");
    b.str(0x0028, 0x0002, "US", std::string("\x01\x00", 2));
    b.str(0x0028, 0x0004, "CS", "MONOCHROME2");
    b.us(0x0028, 0x0010, 512);
    b.us(0x0028, 0x0011, 512);
    b.str(0x0028, 0x0030, "DS", "0.976562\\0.976562");
    b.us(0x0028, 0x0100, 16);
    b.us(0x0028, 0x0101, 16);
    b.us(0x0028, 0x0102, 15);
    b.us(0x0028, 0x0103, 1);
    b.str(0x0028, 0x1050, "DS", "40");
    b.str(0x0028, 0x1051, "DS", "400");
    b.str(0x0028, 0x1052, "DS", "-1024");
    b.str(0x0028, 0x1053, "DS", "1");
    b.str(0x0028, 0x1054, "LO", "HU");
    b.str(0x0043, 0x0010, "LO", "GEMS_PARM_01");
    for (uint16_t e = 0x1001; e < 0x1030; e++) b.str(0x0043, e, "SS", std::string("\x00\x01", 2));
    b.seq_open(0x0040, 0x0275, false);
    b.item_open(false);
    b.str(0x0040, 0x0007, "LO", "CT CHEST");
    b.str(0x0040, 0x0009, "SH", "SPS1");
    b.close();
    b.close();
    b.filled(0x7FE0, 0x0010, "OW", pixel_bytes, 0x11);
    return b.bytes;
}

}  // namespace fuzzkit
