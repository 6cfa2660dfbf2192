// libFuzzer target for the data set limit scanner (CDcmtk/cdcm_limits.cpp). Input: byte 0 picks the
// transfer syntax (% 5: Implicit LE, Explicit LE, Explicit BE, Deflated Explicit LE, or a UID DCMTK
// does not know) and whether the rest is the encoded data set itself (raw) or a program for the
// builder (program.h: mostly well-formed data sets); byte 1 how the data is cut and which limits
// apply (depth 64, or one limit small enough to be reached). Checks:
//   1. feeding it in random-size chunks gives exactly the verdict of feeding it at once;
//   2. when the verdict is OK, DCMTK's own DcmDataset::read of the same bytes does not crash, and
//      what it builds is no deeper and has no more elements than the scanner counted.
#include "cdcm_limits.h"
#include "dcmtk_oracle.h"
#include "program.h"

#include "dcmtk/oflog/oflog.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

const char *const kUids[] = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99",
                             "1.2.3.4.99"};

/* The two top bits of the cut byte: the fuzzing limits (depth 64), or one limit made small enough
 * to be reached, so that where each verdict falls is compared between cuttings too. */
cdcm_limits fuzz_limits(uint8_t cut, size_t n) {
    cdcm_limits l;
    l.max_sequence_depth = 64;
    l.max_elements = 20000;
    l.max_value_length = 1 << 20;
    l.max_total_bytes = 4 << 20;
    switch (cut >> 6) {
    case 1: l.max_total_bytes = 1 + (long long)(n * (cut & 31) / 32); break;
    case 2: l.max_elements = 1 + (cut & 31); break;
    case 3:
        l.max_sequence_depth = 1 + (cut & 7);
        l.max_value_length = 2 + 2 * ((cut >> 3) & 7);
        break;
    }
    return l;
}

bool same(const cdcm_limit_verdict &a, const cdcm_limit_verdict &b) {
    return a.kind == b.kind && a.tag == b.tag && a.offset == b.offset && a.depth_reached == b.depth_reached &&
           a.elements == b.elements && std::strcmp(a.text, b.text) == 0;
}

[[noreturn]] void die(const char *what, const cdcm_limit_verdict &a, const cdcm_limit_verdict *b) {
    std::fprintf(stderr, "\n*** %s\n  one shot: kind %d tag %08X offset %lld depth %d elements %lld: %s\n", what, a.kind, a.tag,
                 a.offset, a.depth_reached, a.elements, a.text);
    if (b)
        std::fprintf(stderr, "  chunked:  kind %d tag %08X offset %lld depth %d elements %lld: %s\n", b->kind, b->tag, b->offset,
                     b->depth_reached, b->elements, b->text);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    OFLog::configure(OFLogger::OFF_LOG_LEVEL);
    if (!dcmDataDict.isDictionaryLoaded()) {
        std::fprintf(stderr, "DICOM data dictionary not loaded\n");
        std::abort();
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    const unsigned which = data[0] % 5;
    const bool program = (data[0] / 5) % 2 == 1;
    const char *uid = kUids[which];
    const uint8_t cut = data[1];
    const uint8_t *body = data + 2;
    size_t n = size - 2;
    std::vector<uint8_t> built;
    if (program) {
        const fuzzkit::Enc enc = which == 0 ? fuzzkit::Enc::ImplicitLE
                                 : which == 2 ? fuzzkit::Enc::ExplicitBE
                                 : which == 4 ? ((data[0] / 10) % 2 ? fuzzkit::Enc::ImplicitLE : fuzzkit::Enc::ExplicitLE)
                                              : fuzzkit::Enc::ExplicitLE;
        built = fuzzkit::run_program(enc, body, n);
        if (which == 3) built = fuzzkit::deflate_raw(built);
        body = built.data();
        n = built.size();
    }
    const cdcm_limits l = fuzz_limits(cut, n);

    cdcm::DatasetLimitScanner one(&l, uid);
    one.feed(body, n);
    const cdcm_limit_verdict a = one.finish();

    cdcm::DatasetLimitScanner chunked(&l, uid);
    uint32_t state = 0x9E3779B9u ^ (uint32_t(cut) * 0x01000193u) ^ uint32_t(n);
    for (size_t at = 0; at < n;) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        size_t k = cut == 0 ? 1 : (cut < 16 ? 1 + state % cut : 1 + state % (size_t(cut) * 64));
        if (k > n - at) k = n - at;
        const bool going = chunked.feed(body + at, k);
        at += k;
        if (!going) {
            // later feeds are ignored
            chunked.feed(body, n - at < 3 ? n - at : 3);
            break;
        }
    }
    const cdcm_limit_verdict b = chunked.finish();
    if (!same(a, b)) die("chunked feeding changed the verdict", a, &b);
    if (a.kind < CDCM_LIMIT_OK || a.kind > CDCM_LIMIT_IO || a.depth_reached < 0 || std::strlen(a.text) == 0)
        die("verdict out of range", a, nullptr);

    static const bool verbose = std::getenv("SCANNER_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "%s: kind %d: %s\n", uid, a.kind, a.text);
    if (a.kind == CDCM_LIMIT_OK) {
        const E_TransferSyntax xfer = which == 4 ? EXS_Unknown : fuzzkit::xfer_of(uid);
        const fuzzkit::DcmtkShape s = fuzzkit::dcmtk_parse(body, n, xfer);
        if (verbose)
            std::fprintf(stderr, "  DCMTK: %s, depth %d, %lld elements %s\n", s.good ? "read" : "error", s.depth, s.elements, s.error.c_str());
        if (s.depth > a.depth_reached || s.elements > a.elements) {
            std::fprintf(stderr, "DCMTK built depth %d, %lld elements\n", s.depth, s.elements);
            die("DCMTK saw more nesting or elements than the scanner passed", a, nullptr);
        }
    }
    return 0;
}
