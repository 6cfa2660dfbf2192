// Self-test of the data set limit scanner (CDcmtk/cdcm_limits.cpp): precise cases with DCMTK as the
// oracle (what it builds from every data set the scanner passes), chunking invariance, Part 10 files
// made by DCMTK's own tools, and the cost per CT data set. Usage: scanner_selftest [WORKDIR]
#include "cdcm_limits.h"
#include "dcmtk_oracle.h"
#include "dicom_builder.h"

#include "dcmtk/oflog/oflog.h"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>

using namespace fuzzkit;

namespace {

int g_checks = 0, g_failures = 0;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        g_checks++;                                                        \
        if (!(cond)) {                                                     \
            g_failures++;                                                  \
            std::printf("FAIL %s:%d: ", __FILE__, __LINE__);               \
            std::printf(__VA_ARGS__);                                      \
            std::printf("\n");                                             \
        }                                                                  \
    } while (0)

const char *kind_name(int k) {
    static const char *const names[] = {"OK", "DEPTH", "ELEMENTS", "VALUE_LENGTH", "TOTAL", "MALFORMED", "IO"};
    return k >= 0 && k <= 6 ? names[k] : "?";
}

/* chunk 0: one shot; chunk 1: byte by byte; otherwise random chunk sizes 1..chunk from a fixed seed. */
cdcm_limit_verdict scan(const std::vector<uint8_t> &d, const char *uid, const cdcm_limits *l, size_t chunk = 0,
                        bool *fed_all = nullptr) {
    cdcm::DatasetLimitScanner s(l, uid);
    bool going = true;
    if (chunk == 0) {
        going = s.feed(d.data(), d.size());
    } else {
        std::mt19937 rng(uint32_t(d.size() * 2654435761u + chunk));
        for (size_t at = 0; at < d.size() && going;) {
            size_t n = chunk == 1 ? 1 : 1 + rng() % chunk;
            if (n > d.size() - at) n = d.size() - at;
            going = s.feed(d.data() + at, n);
            at += n;
        }
    }
    if (fed_all) *fed_all = going;
    return s.finish();
}

bool same(const cdcm_limit_verdict &a, const cdcm_limit_verdict &b) {
    return a.kind == b.kind && a.tag == b.tag && a.offset == b.offset && a.depth_reached == b.depth_reached &&
           a.elements == b.elements && std::strcmp(a.text, b.text) == 0;
}

/* One case: the verdict, the same verdict however the data is cut, and for a data set within the
 * limits DCMTK's own reading of it: nesting and element count as the scanner counted them. */
cdcm_limit_verdict expect(const char *name, const std::vector<uint8_t> &d, const char *uid, const cdcm_limits *l,
                          int kind, int depth = -1, bool dcmtk_exact = true) {
    cdcm_limit_verdict v = scan(d, uid, l);
    CHECK(v.kind == kind, "%s: expected %s, got %s: %s", name, kind_name(kind), kind_name(v.kind), v.text);
    if (depth >= 0) CHECK(v.depth_reached == depth, "%s: depth_reached %d, expected %d", name, v.depth_reached, depth);
    if (d.size() <= (1u << 20)) {
        cdcm_limit_verdict b = scan(d, uid, l, 1);
        CHECK(same(v, b), "%s: byte-by-byte verdict differs: %s / %s", name, v.text, b.text);
    }
    for (size_t chunk : {7u, 100u, 5000u}) {
        cdcm_limit_verdict c = scan(d, uid, l, chunk);
        CHECK(same(v, c), "%s: chunked (%zu) verdict differs: %s / %s", name, chunk, v.text, c.text);
    }
    if (v.kind == CDCM_LIMIT_OK) {
        DcmtkShape s = dcmtk_parse(d.data(), d.size(), xfer_of(uid));
        if (dcmtk_exact) {
            CHECK(s.good, "%s: DCMTK could not read what the scanner passed", name);
            CHECK(s.depth == v.depth_reached && s.elements == v.elements, "%s: DCMTK saw depth %d / %lld elements, scanner %d / %lld",
                  name, s.depth, s.elements, v.depth_reached, v.elements);
        }
        CHECK(s.depth <= v.depth_reached && s.elements <= v.elements, "%s: DCMTK saw more than the scanner: depth %d / %lld elements, scanner %d / %lld",
              name, s.depth, s.elements, v.depth_reached, v.elements);
    }
    std::printf("  %-58s %-12s %s\n", name, kind_name(v.kind), v.text);
    return v;
}

cdcm_limits lim(int depth = 0, long long elements = 0, long long value = 0, long long total = 0) {
    cdcm_limits l;
    l.max_sequence_depth = depth;
    l.max_elements = elements;
    l.max_value_length = value;
    l.max_total_bytes = total;
    return l;
}

const char *enc_name(Enc e) { return e == Enc::ImplicitLE ? "Implicit LE" : e == Enc::ExplicitLE ? "Explicit LE" : "Explicit BE"; }

void depth_cases() {
    std::printf("nesting depth, limit 64\n");
    const cdcm_limits l = lim(64);
    for (Enc enc : {Enc::ImplicitLE, Enc::ExplicitLE, Enc::ExplicitBE}) {
        for (int form = 0; form < 4; form++) {
            const bool seq_def = form & 1, item_def = form & 2;
            for (int levels : {63, 64, 65}) {
                char name[128];
                std::snprintf(name, sizeof name, "%s, %s seq / %s item, depth %d", enc_name(enc), seq_def ? "defined" : "undef.",
                              item_def ? "defined" : "undef.", levels);
                auto d = nested(enc, levels, seq_def, item_def);
                cdcm_limit_verdict v = expect(name, d, uid_of(enc), &l, levels <= 64 ? CDCM_LIMIT_OK : CDCM_LIMIT_DEPTH, levels);
                if (levels == 65) {
                    const long long seq_header = enc == Enc::ImplicitLE ? 8 : 12;
                    const long long at = 10 + 64 * (seq_header + 8);
                    CHECK(v.tag == 0x0040A730u && v.offset == at, "%s: tag %08X offset %lld, expected (0040,A730) at %lld", name, v.tag, v.offset, at);
                    char text[256];
                    std::snprintf(text, sizeof text, "sequence nesting depth 65 exceeds the limit of 64 at (0040,A730), offset %lld", at);
                    CHECK(std::strcmp(v.text, text) == 0, "%s: text \"%s\"", name, v.text);
                }
            }
        }
    }
}

struct DeepRun {
    std::vector<uint8_t> *data;
    cdcm_limit_verdict verdict;
    double ms;
};

void *deep_thread(void *arg) {
    DeepRun *r = static_cast<DeepRun *>(arg);
    cdcm_limits l = lim(1000000);
    auto t0 = std::chrono::steady_clock::now();
    r->verdict = scan(*r->data, uid_of(Enc::ExplicitLE), &l);
    r->ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return nullptr;
}

void deep_cases() {
    std::printf("100,000 nested undefined-length sequences (%s)\n", "Explicit LE");
    auto d = nested(Enc::ExplicitLE, 100000, false, false);
    cdcm_limits l = lim(64);
    auto t0 = std::chrono::steady_clock::now();
    cdcm_limit_verdict v = scan(d, uid_of(Enc::ExplicitLE), &l);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    CHECK(v.kind == CDCM_LIMIT_DEPTH && v.depth_reached == 65, "deep: %s", v.text);
    std::printf("  limit 64: %s (%s) in %.3f ms, %zu bytes\n", kind_name(v.kind), v.text, ms, d.size());
    // The whole walk, 100,000 levels deep, on a thread with a 64 KiB stack: no recursion.
    DeepRun run{&d, {}, 0};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_t th;
    CHECK(pthread_create(&th, &attr, deep_thread, &run) == 0, "pthread_create");
    pthread_join(th, nullptr);
    pthread_attr_destroy(&attr);
    CHECK(run.verdict.kind == CDCM_LIMIT_OK && run.verdict.depth_reached == 100000, "deep walk: %s", run.verdict.text);
    std::printf("  limit 1,000,000, on a 64 KiB thread stack: %s (%s) in %.3f ms\n", kind_name(run.verdict.kind), run.verdict.text, run.ms);
    // The same with defined lengths everywhere.
    auto dd = nested(Enc::ImplicitLE, 100000, true, true);
    t0 = std::chrono::steady_clock::now();
    v = scan(dd, uid_of(Enc::ImplicitLE), &l);
    ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    CHECK(v.kind == CDCM_LIMIT_DEPTH && v.depth_reached == 65, "deep defined: %s", v.text);
    std::printf("  Implicit LE, defined lengths, limit 64: %s in %.3f ms\n", kind_name(v.kind), ms);
}

/* Explicit VR (outer) with a UN sequence of undefined length whose contents are Implicit VR LE. */
std::vector<uint8_t> un_case(Enc outer, int inner_levels, bool defined_items) {
    Builder b(outer);
    b.str(0x0008, 0x0060, "CS", "OT");
    b.str(0x0009, 0x0010, "LO", "ACME TEST");
    b.seq_open(0x0009, 0x1010, false, "UN");
    b.item_open(defined_items);
    b.str(0x0008, 0x0100, "SH", "CODE");   // Implicit VR inside
    for (int i = 0; i < inner_levels; i++) {
        b.seq_open(0x0040, 0xA730, (i & 1) != 0);  // dictionary SQ, defined or undefined
        b.item_open(defined_items);
    }
    b.str(0x0040, 0xA160, "UT", "leaf");
    for (int i = 0; i < inner_levels; i++) { b.close(); b.close(); }
    b.close();
    b.close();
    b.str(0x0020, 0x0013, "IS", "7");  // back to the outer encoding
    return b.bytes;
}

void structure_cases() {
    std::printf("structures\n");
    const cdcm_limits l = lim(64);
    for (Enc outer : {Enc::ExplicitLE, Enc::ExplicitBE}) {
        for (bool def : {false, true}) {
            std::string name = std::string("UN undefined length (") + enc_name(outer) + (def ? ", defined items)" : ", undefined items)");
            expect((name + ", 3 inner levels").c_str(), un_case(outer, 3, def), uid_of(outer), &l, CDCM_LIMIT_OK, 4);
            expect((name + ", 64 levels in all").c_str(), un_case(outer, 63, def), uid_of(outer), &l, CDCM_LIMIT_OK, 64);
            expect((name + ", 65 levels in all").c_str(), un_case(outer, 64, def), uid_of(outer), &l, CDCM_LIMIT_DEPTH, 65);
        }
    }
    {
        // Unknown upper-case VR "ZZ" with undefined length: DCMTK reads it like UN (an Implicit VR sequence).
        Builder c(Enc::ExplicitLE);
        c.str(0x0008, 0x0060, "CS", "OT");
        c.tag(0x0011, 0x1010);
        c.raw("ZZ\0\0\xFF\xFF\xFF\xFF", 8);
        Builder inner(Enc::ImplicitLE);
        inner.item_open(false);
        inner.seq_open(0x0040, 0xA730, false);
        inner.item_open(true);
        inner.str(0x0040, 0xA160, "UT", "x");
        inner.close();
        inner.close();
        inner.close();
        inner.delimiter(0xE0DD);
        c.raw(inner.bytes.data(), inner.bytes.size());
        c.str(0x0020, 0x0013, "IS", "7");
        expect("unknown VR \"ZZ\", undefined length (read as UN)", c.bytes, uid_of(Enc::ExplicitLE), &l, CDCM_LIMIT_OK, 2);
    }
    for (Enc enc : {Enc::ExplicitLE, Enc::ExplicitBE}) {
        Builder b(enc);
        b.str(0x0008, 0x0060, "CS", "XA");
        b.us(0x0028, 0x0010, 16);
        b.fragments_open();
        b.fragment(0);        // basic offset table, empty
        b.fragment(1000);
        b.fragment(2000);
        b.fragments_close();
        b.str(0xFFFC, 0xFFFC, "OB", std::string(4, '\0'));
        expect((std::string("encapsulated pixel data, 3 fragments (") + enc_name(enc) + ")").c_str(), b.bytes,
               enc == Enc::ExplicitLE ? "1.2.840.10008.1.2.4.50" : uid_of(enc), &l, CDCM_LIMIT_OK, 0);
    }
    {
        // Icon image sequence holding encapsulated pixel data: fragments are no nesting level.
        Builder b(Enc::ExplicitLE);
        b.seq_open(0x0088, 0x0200, false);
        b.item_open(true);
        b.us(0x0028, 0x0010, 8);
        b.fragments_open();
        b.fragment(0);
        b.fragment(64);
        b.fragments_close();
        b.close();
        b.close();
        expect("encapsulated pixel data in a defined-length item", b.bytes, "1.2.840.10008.1.2.4.70", &l, CDCM_LIMIT_OK, 1);
    }
    {
        // Implicit VR: a private creator known to the dictionary makes (0009,1000) a sequence.
        for (bool with_creator : {true, false}) {
            Builder b(Enc::ImplicitLE);
            b.str(0x0008, 0x0060, "CS", "OT");
            if (with_creator) b.str(0x0009, 0x0010, "LO", "DCMTK_ANONYMIZER");
            b.seq_open(0x0009, 0x1000, true);
            b.item_open(true);
            b.seq_open(0x0040, 0xA730, true);
            b.item_open(true);
            b.str(0x0040, 0xA160, "UT", "x");
            b.close(); b.close(); b.close(); b.close();
            expect(with_creator ? "Implicit VR private SQ (creator DCMTK_ANONYMIZER)" : "Implicit VR same bytes without creator: one value",
                   b.bytes, uid_of(Enc::ImplicitLE), &l, CDCM_LIMIT_OK, with_creator ? 2 : 0);
        }
        // The creator's trailing spaces and a NUL ending it count as DCMTK counts them.
        for (const char *creator : {"DCMTK_ANONYMIZER  ", "DCMTK_ANONYMIZER\0garbage!"}) {
            Builder b(Enc::ImplicitLE);
            std::string c(creator, std::strlen(creator) + (creator[16] == '\0' ? 10 : 0));
            b.str(0x0009, 0x0010, "LO", c);
            b.seq_open(0x0009, 0x1000, true);
            b.item_open(true);
            b.str(0x0040, 0xA160, "UT", "x");
            b.close(); b.close();
            expect(creator[16] == '\0' ? "Implicit VR private creator ended by NUL" : "Implicit VR private creator with trailing spaces",
                   b.bytes, uid_of(Enc::ImplicitLE), &l, CDCM_LIMIT_OK, 1);
        }
        // More than 64 creators of dictionary sequences in one item: refused (the walk keeps 64 per item).
        for (int count : {64, 65}) {
            Builder m(Enc::ImplicitLE);
            for (int i = 0; i < count; i++) m.str(uint16_t(0x0009 + 2 * i), 0x0010, "LO", "DCMTK_ANONYMIZER");
            expect(count == 64 ? "64 private creators of dictionary sequences in an item" : "65 private creators of dictionary sequences in an item",
                   m.bytes, uid_of(Enc::ImplicitLE), &l, count == 64 ? CDCM_LIMIT_OK : CDCM_LIMIT_MALFORMED, 0);
        }
        // The first creator of a block wins.
        Builder b(Enc::ImplicitLE);
        b.str(0x0009, 0x0010, "LO", "DCMTK_ANONYMIZER");
        b.str(0x0009, 0x0010, "LO", "SOMEONE ELSE");
        b.seq_open(0x0009, 0x1000, true);
        b.item_open(true);
        b.str(0x0040, 0xA160, "UT", "x");
        b.close(); b.close();
        expect("Implicit VR duplicate private creator: the first wins", b.bytes, uid_of(Enc::ImplicitLE), &l, CDCM_LIMIT_OK, 1, false);
    }
    {
        Builder b(Enc::ImplicitLE);
        b.str(0x0008, 0x0060, "CS", "OT");
        b.seq_open(0x0011, 0x1010, false);  // unknown tag, undefined length: a sequence (CP-246)
        b.item_open(false);
        b.str(0x0040, 0xA160, "UT", "x");
        b.close();
        b.close();
        expect("Implicit VR unknown tag with undefined length", b.bytes, uid_of(Enc::ImplicitLE), &l, CDCM_LIMIT_OK, 1);
    }
}

void count_and_size_cases() {
    std::printf("element count, value length, total size\n");
    Builder b(Enc::ExplicitLE);
    for (int i = 0; i < 999; i++) b.str(0x0011, uint16_t(0x1000 + i), "LO", "x");
    b.seq_open(0x0040, 0xA730, false);
    b.item_open(false);
    b.str(0x0040, 0xA160, "UT", "x");
    b.close();
    b.close();
    cdcm_limits l = lim(0, 1001);
    expect("1,001 elements (one nested), limit 1,001", b.bytes, uid_of(Enc::ExplicitLE), &l, CDCM_LIMIT_OK, 1);
    l = lim(0, 1000);
    cdcm_limit_verdict v = expect("1,001 elements (one nested), limit 1,000", b.bytes, uid_of(Enc::ExplicitLE), &l, CDCM_LIMIT_ELEMENTS);
    CHECK(v.tag == 0x0040A160u && v.elements == 1001, "element limit at %08X after %lld", v.tag, v.elements);

    const cdcm_limits l64k = lim(0, 0, 64 * 1024);
    Builder ui(Enc::ImplicitLE);
    ui.str(0x0008, 0x0018, "UI", std::string(300 * 1024, '1'));
    v = expect("UI of 300 KiB (Implicit LE), limit 64 KiB", ui.bytes, uid_of(Enc::ImplicitLE), &l64k, CDCM_LIMIT_VALUE_LENGTH);
    CHECK(v.tag == 0x00080018u && v.offset == 0, "value length at %08X offset %lld", v.tag, v.offset);
    expect("UI of 300 KiB (Implicit LE), default limit 16 MiB", ui.bytes, uid_of(Enc::ImplicitLE), nullptr, CDCM_LIMIT_OK, 0);
    Builder ut(Enc::ExplicitLE);
    ut.str(0x0008, 0x0060, "CS", "OT");
    ut.str(0x0040, 0xA160, "UT", std::string(300 * 1024, 'x'));
    expect("UT of 300 KiB (Explicit LE), limit 64 KiB", ut.bytes, uid_of(Enc::ExplicitLE), &l64k, CDCM_LIMIT_VALUE_LENGTH);
    Builder ob(Enc::ExplicitLE);
    ob.str(0x0008, 0x0060, "CS", "OT");
    ob.filled(0x0042, 0x0011, "OB", 1024 * 1024, 0x25);
    expect("OB of 1 MiB (Explicit LE), limit 64 KiB", ob.bytes, uid_of(Enc::ExplicitLE), &l64k, CDCM_LIMIT_OK, 0);
    Builder pv(Enc::ImplicitLE);
    pv.str(0x0008, 0x0060, "CS", "OT");
    pv.filled(0x0011, 0x1010, "UN", 300 * 1024, 0x25);
    expect("unknown private value of 300 KiB (Implicit LE: bulk)", pv.bytes, uid_of(Enc::ImplicitLE), &l64k, CDCM_LIMIT_OK, 0);

    const cdcm_limits l1000 = lim(0, 0, 0, 1000);
    v = expect("2,000-byte data set, total limit 1,000", ob.bytes, uid_of(Enc::ExplicitLE), &l1000, CDCM_LIMIT_TOTAL);
    CHECK(v.offset == 1000, "total limit offset %lld", v.offset);
}

void malformed_cases() {
    std::printf("malformed\n");
    const cdcm_limits l = lim(64);
    {
        Builder b(Enc::ExplicitLE);
        b.str(0x0008, 0x0060, "CS", "OT");
        b.element(0x0010, 0x0010, "PN", "abc", 3);
        // DCMTK accepts an odd value length (dcmAcceptOddAttributeLength): so does the scanner.
        expect("odd value length", b.bytes, uid_of(Enc::ExplicitLE), &l, CDCM_LIMIT_OK);
    }
    {
        auto d = ct_like(Enc::ExplicitLE, 4096);
        for (size_t cut : {size_t(5), size_t(100), size_t(1001), d.size() - 2, d.size() - 3000}) {
            std::vector<uint8_t> t(d.begin(), d.begin() + long(cut));
            bool fed_all = false;
            cdcm_limit_verdict v = scan(t, uid_of(Enc::ExplicitLE), &l, 0, &fed_all);
            CHECK(fed_all && v.kind == CDCM_LIMIT_MALFORMED, "truncated at %zu: feed %d, %s", cut, fed_all, v.text);
            char name[64];
            std::snprintf(name, sizeof name, "truncated at byte %zu (found at finish)", cut);
            expect(name, t, uid_of(Enc::ExplicitLE), &l, CDCM_LIMIT_MALFORMED);
        }
        auto n = nested(Enc::ExplicitLE, 5, false, false);
        n.resize(n.size() - 16);  // the last item and sequence delimiters missing
        expect("undefined-length sequence not closed at the end", n, uid_of(Enc::ExplicitLE), &l, CDCM_LIMIT_MALFORMED);
    }
    {
        Builder b(Enc::ExplicitLE);
        b.str(0x0008, 0x0060, "CS", "OT");
        b.delimiter(0xE00D);
        expect("item delimiter at the top level", b.bytes, uid_of(Enc::ExplicitLE), &l, CDCM_LIMIT_MALFORMED);
    }
    {
        Builder b(Enc::ExplicitLE);
        b.seq_open(0x0040, 0xA730, false);
        b.str(0x0008, 0x0060, "CS", "OT");  // an element where an item is expected
        expect("data element where an item is expected", b.bytes, uid_of(Enc::ExplicitLE), &l, CDCM_LIMIT_MALFORMED);
    }
    {
        Builder b(Enc::ExplicitLE);
        b.seq_open(0x0040, 0xA730, true);
        b.item_open(true);
        b.str(0x0040, 0xA160, "UT", "abcd");
        b.close();
        b.close();
        b.bytes[8] = 6;  // sequence length 6 (< its item)
        expect("item longer than its defined-length sequence", b.bytes, uid_of(Enc::ExplicitLE), &l, CDCM_LIMIT_MALFORMED);
    }
    {
        Builder b(Enc::ExplicitLE);
        b.seq_open(0x0040, 0xA730, true);
        b.item_open(true);
        b.str(0x0040, 0xA160, "UT", "abcd");
        b.close();
        b.close();
        b.bytes[16] = 10;  // item length 10: the UT (16 bytes) runs past it
        expect("element past the end of its defined-length item", b.bytes, uid_of(Enc::ExplicitLE), &l, CDCM_LIMIT_MALFORMED);
    }
    {
        Builder b(Enc::ExplicitLE);
        b.seq_open(0x0040, 0xA730, true);
        b.item_open(false);
        b.str(0x0040, 0xA160, "UT", "abcd");
        b.close();
        b.close();
        b.bytes.resize(b.bytes.size() - 8);   // drop the item delimiter
        b.patch32(8, uint32_t(b.bytes.size() - 12), false);
        expect("undefined-length item ended by its parent's end", b.bytes, uid_of(Enc::ExplicitLE), &l, CDCM_LIMIT_MALFORMED);
    }
    {
        Builder b(Enc::ExplicitLE);
        b.str(0x0008, 0x0060, "CS", "OT");
        b.tag(0x0011, 0x1010);
        b.raw("ox\0\0\x04\0\0\0abcd", 12);
        expect("DCMTK-internal VR name \"ox\"", b.bytes, uid_of(Enc::ExplicitLE), &l, CDCM_LIMIT_MALFORMED);
        Builder c(Enc::ImplicitLE);
        c.header(0x0010, 0x0010, "PN", 0xFFFFFFFFu);
        c.delimiter(0xE0DD);
        expect("Implicit VR PN with undefined length", c.bytes, uid_of(Enc::ImplicitLE), &l, CDCM_LIMIT_MALFORMED);
        Builder f(Enc::ExplicitLE);
        f.fragments_open();
        f.tag(0xFFFE, 0xE000);
        f.u32(0xFFFFFFFFu, false);
        expect("fragment of undefined length", f.bytes, "1.2.840.10008.1.2.4.50", &l, CDCM_LIMIT_MALFORMED);
    }
    // GE's private "Implicit VR Big Endian" DCMTK reads as Implicit VR LE (only its pixel data big endian).
    expect("GE private transfer syntax 1.2.840.113619.5.2", nested(Enc::ImplicitLE, 1, false, false), "1.2.840.113619.5.2", &l,
           CDCM_LIMIT_OK, 1);
}

void encoding_cases() {
    std::printf("deflate and detection\n");
    const cdcm_limits l = lim(64);
    const char *deflated = "1.2.840.10008.1.2.1.99";
    auto ct = ct_like(Enc::ExplicitLE, 64 * 1024);
    auto z = deflate_raw(ct);
    expect("deflated CT-like data set", z, deflated, &l, CDCM_LIMIT_OK, 1);
    expect("deflated, 65 nested sequences", deflate_raw(nested(Enc::ExplicitLE, 65, false, true)), deflated, &l, CDCM_LIMIT_DEPTH, 65);
    std::vector<uint8_t> cut(z.begin(), z.begin() + long(z.size() / 2));
    expect("deflate stream cut in half", cut, deflated, &l, CDCM_LIMIT_MALFORMED);
    std::vector<uint8_t> padded = z;
    padded.push_back(0);
    expect("deflate stream with a trailing pad byte", padded, deflated, &l, CDCM_LIMIT_OK, 1);
    std::vector<uint8_t> zeros(64 * 1024 * 1024, 0);
    Builder bomb(Enc::ExplicitLE);
    bomb.filled(0x0042, 0x0011, "OB", zeros.size());
    auto zb = deflate_raw(bomb.bytes);
    const cdcm_limits l16 = lim(64, 0, 0, 16 * 1024 * 1024);
    cdcm_limit_verdict v = expect("deflate bomb (64 MiB from 64 KiB), total limit 16 MiB", zb, deflated, &l16, CDCM_LIMIT_TOTAL);
    std::printf("    (%zu deflated bytes)\n", zb.size());
    (void)v;
    expect("unknown transfer syntax UID, Implicit VR data: detected", ct_like(Enc::ImplicitLE, 1024), "1.2.3.4.5.6", &l, CDCM_LIMIT_OK, 1);
    expect("unknown transfer syntax UID, Explicit VR data: detected", ct_like(Enc::ExplicitLE, 1024), "1.2.3.4.5.6", &l, CDCM_LIMIT_OK, 1);
    expect("empty data set", {}, uid_of(Enc::ImplicitLE), &l, CDCM_LIMIT_OK, 0);
}

/* ---------------------------------------------------------------- Part 10 files from DCMTK's tools */

/* Runs a DCMTK tool that writes `out` (its exit status is not enough: dump2dcm exits 0 on errors). */
bool run(const std::string &cmd, const std::string &out) {
    std::remove(out.c_str());
    int rc = std::system((cmd + " " + out + " >/dev/null 2>&1").c_str());
    FILE *f = std::fopen(out.c_str(), "rb");
    CHECK(rc == 0 && f != nullptr, "command failed (%d): %s %s", rc, cmd.c_str(), out.c_str());
    if (f) std::fclose(f);
    return rc == 0 && f != nullptr;
}

void write_dump(const std::string &path, int levels) {
    std::ofstream o(path);
    o << "(0008,0016) UI [1.2.840.10008.5.1.4.1.1.7]\n(0008,0018) UI [1.2.826.0.1.3680043.8.498.1]\n"
         "(0008,0060) CS [OT]\n(0010,0010) PN [Test^File]\n(0010,0020) LO [PID1]\n"
         "(0020,000d) UI [1.2.826.0.1.3680043.8.498.2]\n(0020,000e) UI [1.2.826.0.1.3680043.8.498.3]\n";
    for (int i = 0; i < levels; i++) o << "(0040,a730) SQ (Sequence with undefined length)\n(fffe,e000) na (Item with undefined length)\n";
    o << "(0040,a160) UT [leaf]\n";
    for (int i = 0; i < levels; i++) o << "(fffe,e00d) na (ItemDelimitationItem)\n(fffe,e0dd) na (SequenceDelimitationItem)\n";
    o << "(0028,0002) US 1\n(0028,0004) CS [MONOCHROME2]\n(0028,0010) US 64\n(0028,0011) US 64\n"
         "(0028,0100) US 16\n(0028,0101) US 16\n(0028,0102) US 15\n(0028,0103) US 0\n";
    o << "(7fe0,0010) OW =" << path << ".raw\n";
    std::ofstream raw(path + ".raw", std::ios::binary);
    for (int i = 0; i < 64 * 64; i++) raw.put(char(i & 0xFF)).put(char((i >> 8) & 0x0F));
}

void file_cases(const std::string &dir) {
    std::printf("Part 10 files (dump2dcm, dcmconv)\n");
    const cdcm_limits l = lim(64);
    write_dump(dir + "/nested3.dump", 3);
    write_dump(dir + "/nested70.dump", 70);
    if (!run("dump2dcm +te " + dir + "/nested3.dump", dir + "/el.dcm")) return;
    run("dcmconv +ti " + dir + "/el.dcm", dir + "/il.dcm");
    run("dcmconv +tb " + dir + "/el.dcm", dir + "/eb.dcm");
    run("dcmconv +td " + dir + "/el.dcm", dir + "/dfl.dcm");
    run("dcmconv -F +ti " + dir + "/el.dcm", dir + "/bare.dcm");      // no preamble, no meta header
    run("dump2dcm +te " + dir + "/nested70.dump", dir + "/deep70.dcm");
    struct F { const char *file; int kind; int depth; };
    for (F f : {F{"el.dcm", CDCM_LIMIT_OK, 3}, F{"il.dcm", CDCM_LIMIT_OK, 3}, F{"eb.dcm", CDCM_LIMIT_OK, 3},
                F{"dfl.dcm", CDCM_LIMIT_OK, 3}, F{"bare.dcm", CDCM_LIMIT_OK, 3}, F{"deep70.dcm", CDCM_LIMIT_DEPTH, 65}}) {
        cdcm_limit_verdict v;
        int k = cdcm_file_check_limits((dir + "/" + f.file).c_str(), &l, &v);
        CHECK(k == f.kind && v.kind == k && v.depth_reached == f.depth, "%s: %s, depth %d", f.file, v.text, v.depth_reached);
        std::printf("  %-58s %-12s %s\n", f.file, kind_name(v.kind), v.text);
        if (k == CDCM_LIMIT_OK) {
            DcmFileFormat ff;
            OFCondition c = ff.loadFile((dir + "/" + f.file).c_str());
            CHECK(c.good(), "DCMTK cannot load %s", f.file);
        }
    }
    cdcm_limit_verdict v;
    CHECK(cdcm_file_check_limits((dir + "/missing.dcm").c_str(), &l, &v) == CDCM_LIMIT_IO, "missing file: %s", v.text);
    std::printf("  %-58s %-12s %s\n", "missing.dcm", kind_name(v.kind), v.text);
    // The meta header is skipped: the offset is the file's.
    cdcm_limit_verdict d;
    cdcm_file_check_limits((dir + "/deep70.dcm").c_str(), &l, &d);
    CHECK(d.offset > 132 && d.tag == 0x0040A730u, "deep70 offset %lld", d.offset);
}

/* ---------------------------------------------------------------- cost */

void bench() {
    std::printf("cost (10,000 scans of a 0.5 MB CT-like data set, %s)\n", "a new scanner each, its set-up included");
    const cdcm_limits l = lim(64);
    {
        const int n = 100000;
        long long sink = 0;
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < n; i++) {
            cdcm::DatasetLimitScanner s(&l, uid_of(Enc::ExplicitLE));
            sink += s.finish().kind;
        }
        double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / n;
        std::printf("  set-up and finish alone (empty data set): %.0f ns%s\n", ns, sink == 42 ? "!" : "");
    }
    for (Enc enc : {Enc::ExplicitLE, Enc::ImplicitLE}) {
        auto d = ct_like(enc);
        cdcm_limit_verdict v = scan(d, uid_of(enc), &l);
        CHECK(v.kind == CDCM_LIMIT_OK, "ct bench: %s", v.text);
        for (size_t pdv : {size_t(0), size_t(16 * 1024)}) {
            const int n = 10000;
            long long sink = 0;
            auto t0 = std::chrono::steady_clock::now();
            for (int i = 0; i < n; i++) {
                cdcm::DatasetLimitScanner s(&l, uid_of(enc));
                if (pdv == 0) {
                    s.feed(d.data(), d.size());
                } else {
                    for (size_t at = 0; at < d.size(); at += pdv) s.feed(d.data() + at, std::min(pdv, d.size() - at));
                }
                sink += s.finish().elements;
            }
            double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / n;
            std::printf("  %-12s %zu bytes, %lld elements, %s: %.0f ns per data set\n", enc_name(enc), d.size(), v.elements,
                        pdv ? "32 feeds of 16 KiB" : "one feed", ns);
            if (sink == 42) std::printf("!");
        }
    }
    auto z = deflate_raw(ct_like(Enc::ExplicitLE));
    const int n = 1000;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; i++) cdcm_buffer_check_limits(z.data(), z.size(), "1.2.840.10008.1.2.1.99", &l, nullptr);
    double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n;
    std::printf("  Deflated     %zu bytes (0.5 MB inflated): %.0f us per data set (zlib inflate)\n", z.size(), us);
}

/* How much stack DCMTK's DcmDataset::read takes per nesting level (a thread on a painted stack). */
struct StackProbe {
    const std::vector<uint8_t> *data;
    E_TransferSyntax xfer;
    DcmtkShape shape;
};

void *stack_probe_thread(void *arg) {
    StackProbe *p = static_cast<StackProbe *>(arg);
    p->shape = dcmtk_parse(p->data->data(), p->data->size(), p->xfer);
    return nullptr;
}

size_t dcmtk_stack_use(const std::vector<uint8_t> &d, E_TransferSyntax xfer, DcmtkShape &shape) {
    const size_t size = 32u << 20;
    uint8_t *stack = static_cast<uint8_t *>(std::aligned_alloc(4096, size));
    std::memset(stack, 0xA5, size);
    StackProbe probe{&d, xfer, {}};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, stack, size);
    pthread_t th;
    pthread_create(&th, &attr, stack_probe_thread, &probe);
    pthread_join(th, nullptr);
    pthread_attr_destroy(&attr);
    size_t untouched = 0;
    while (untouched < size && stack[untouched] == 0xA5) untouched++;
    std::free(stack);
    shape = probe.shape;
    return size - untouched;
}

void dcmtk_stack() {
    std::printf("DCMTK's own stack use reading nested sequences (DcmDataset::read, Explicit LE, undefined lengths)\n");
    size_t base = 0;
    for (int levels : {0, 64, 700, 2000}) {
        auto d = nested(Enc::ExplicitLE, levels, false, false);
        DcmtkShape shape;
        const size_t used = dcmtk_stack_use(d, EXS_LittleEndianExplicit, shape);
        if (levels == 0) base = used;
        std::printf("  depth %4d: %7zu bytes of stack (%s)%s\n", levels, used, shape.good ? "read" : "error",
                    levels ? (" = " + std::to_string((used - base) / size_t(levels)) + " bytes per level").c_str() : "");
    }
}

void concurrency() {
    // The dictionary memo is shared: scanners on several threads agree with one alone.
    auto d = ct_like(Enc::ImplicitLE, 1024);
    const cdcm_limits l = lim(64);
    cdcm_limit_verdict ref = scan(d, uid_of(Enc::ImplicitLE), &l);
    std::vector<std::thread> ts;
    std::atomic<int> bad{0};
    for (int t = 0; t < 4; t++)
        ts.emplace_back([&] {
            for (int i = 0; i < 2000; i++)
                if (!same(scan(d, uid_of(Enc::ImplicitLE), &l), ref)) bad++;
        });
    for (auto &t : ts) t.join();
    CHECK(bad == 0, "concurrent scans disagree %d times", bad.load());
    std::printf("concurrency: 4 threads x 2,000 Implicit VR scans agree\n");
}

}  // namespace

int main(int argc, char **argv) {
    OFLog::configure(OFLogger::OFF_LOG_LEVEL);
    if (!dcmDataDict.isDictionaryLoaded()) {
        std::printf("DICOM data dictionary not loaded\n");
        return 2;
    }
    std::string dir = argc > 1 ? argv[1] : "/tmp";
    depth_cases();
    deep_cases();
    structure_cases();
    count_and_size_cases();
    malformed_cases();
    encoding_cases();
    file_cases(dir);
    concurrency();
    if (!(argc > 2 && std::strcmp(argv[2], "--no-bench") == 0)) {
        dcmtk_stack();
        bench();
    }
    std::printf("\n%d checks, %d failures\n", g_checks, g_failures);
    return g_failures == 0 ? 0 : 1;
}
