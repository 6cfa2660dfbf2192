/* A streaming, non-recursive scanner that bounds a DICOM data set before DCMTK parses it
 * (DCMTK 3.6.7 recurses without bound on nested sequences). Never included from Swift. */
#ifndef CDCM_LIMITS_H
#define CDCM_LIMITS_H

#include "include/CDcmtk_limits.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace cdcm {

/* How the bytes of a data set are encoded (PS3.5 chapter 7 and annex A). */
enum class DatasetEncoding : uint8_t {
    ImplicitLittle,          /* 1.2.840.10008.1.2 */
    ExplicitLittle,          /* 1.2.840.10008.1.2.1 and every encapsulated (compressed) transfer syntax */
    ExplicitBig,             /* 1.2.840.10008.1.2.2 */
    DeflatedExplicitLittle,  /* 1.2.840.10008.1.2.1.99: raw deflate of Explicit VR LE */
    Detect,                  /* decided from the first 6 bytes, as DCMTK does for an unknown transfer syntax */
    Unsupported,             /* a transfer syntax DCMTK cannot read (every data set is refused) */
};

/* The encoding DCMTK reads a data set in for this transfer syntax UID (DCMTK's own table decides):
 * NULL or a UID DCMTK does not know gives Detect. */
DatasetEncoding encoding_for_transfer_syntax(const char *uid);

/* Walks the encoded data set as it arrives, in chunks of any size, without copying values: only an
 * element header (at most 12 bytes) is kept across chunk boundaries. It interprets the bytes exactly
 * as DCMTK 3.6.7 with its default settings does (explicit VR UN of undefined length read as an
 * Implicit VR LE sequence, data dictionary VRs and private creators in Implicit VR), and refuses as
 * MALFORMED what DCMTK would read in another way or not at all, so a data set it passes is one whose
 * nesting and size DCMTK will see as checked.
 *
 *     DatasetLimitScanner scanner(&limits, encoding_for_transfer_syntax(ts_uid));
 *     while (more data) if (!scanner.feed(p, n)) break;
 *     const cdcm_limit_verdict &v = scanner.finish();
 *
 * One thread at a time per scanner; any number of scanners may run concurrently. The first scanner of
 * the process builds its tables from DCMTK's VR table and data dictionary (15-20 ms): make one at
 * start-up. DCMTK's parser settings (dcmEnableCP246Support, dcmEnableUnknownVRConversion, ...) are
 * read then: if one is not at its default every data set is MALFORMED; do not change them later.
 * The constructor may throw std::bad_alloc. */
class DatasetLimitScanner {
public:
    /* limits NULL = defaults. base_offset is added to the offsets of verdicts (e.g. the size of a
     * file's meta header); it does not apply inside a deflated data set, whose offsets are those of
     * the inflated bytes. */
    DatasetLimitScanner(const cdcm_limits *limits, DatasetEncoding encoding, long long base_offset = 0);
    DatasetLimitScanner(const cdcm_limits *limits, const char *transfer_syntax_uid, long long base_offset = 0);
    ~DatasetLimitScanner();
    DatasetLimitScanner(const DatasetLimitScanner &) = delete;
    DatasetLimitScanner &operator=(const DatasetLimitScanner &) = delete;

    /* False once a verdict other than OK is reached; later feeds are ignored. Never throws (out of
     * memory is the verdict IO). */
    bool feed(const void *data, size_t length);
    /* End of data: what is still open (an element, item or sequence, of defined or undefined
     * length) makes the data set MALFORMED. Idempotent. */
    const cdcm_limit_verdict &finish();
    const cdcm_limit_verdict &verdict() const { return verdict_; }

    /* The limits in effect, defaults filled in. */
    static cdcm_limits effective_limits(const cdcm_limits *limits);

private:
    enum class Enc : uint8_t { ImplicitLittle, ExplicitLittle, ExplicitBig };
    enum class FrameKind : uint8_t { Root, Item, Sequence, Fragments };

    struct Frame {
        uint64_t end;      /* offset just after the value, kUndefined for undefined length */
        uint64_t limit;    /* the nearest defined end of this frame or an enclosing one */
        uint32_t tag;      /* the sequence (or fragments) element; for an item, its sequence's tag */
        FrameKind kind;
        Enc enc;           /* encoding of what is inside (an explicit UN sequence holds Implicit VR LE) */
    };

    /* A private creator of the current item that names a creator of the data dictionary which has
     * sequences: DCMTK reads that block's elements in Implicit VR with their dictionary VR. */
    struct Creator {
        uint32_t frame;    /* index in stack_ of the item it belongs to */
        uint16_t group;
        uint8_t block;
        uint16_t creator;  /* index in the dictionary's creator table */
    };

    struct Inflater;

    bool feed_unchecked(const void *data, size_t length);
    bool feed_plain(const uint8_t *p, size_t n);
    bool feed_deflated(const uint8_t *p, size_t n);
    bool resolve_detected_encoding();
    unsigned header_size(const uint8_t *h, unsigned avail) const;
    bool on_header(const uint8_t *h, unsigned size);
    bool on_element(const uint8_t *h, unsigned size, uint32_t tag, Enc enc);
    bool on_item_level(uint32_t tag, uint32_t length);
    bool on_fragment_level(uint32_t tag, uint32_t length);
    bool open_frame(FrameKind kind, uint32_t tag, uint32_t length, Enc enc, uint64_t header_offset);
    bool pop_frame();
    bool close_ended();
    bool value_done();
    void remember_creator();
    uint16_t creator_for(uint16_t group, uint16_t element) const;

    bool fail(int kind, uint32_t tag, uint64_t offset, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
    long long report_offset(uint64_t offset) const { return static_cast<long long>(offset) + base_offset_; }

    cdcm_limits limits_;
    cdcm_limit_verdict verdict_;
    long long base_offset_;
    bool failed_ = false;
    bool finished_ = false;
    bool detect_ = false;
    bool deflated_ = false;

    uint64_t off_ = 0;            /* bytes of the (inflated) data set consumed */
    uint64_t skip_ = 0;           /* bytes of the current value still to skip */
    uint32_t value_tag_ = 0;      /* element whose value is being skipped */
    uint64_t value_offset_ = 0;   /* where that element's header began */
    uint8_t hdr_[16];             /* an element header split across chunks */
    unsigned hdr_len_ = 0;

    std::vector<Frame> stack_;    /* stack_[0] is the data set itself */
    int depth_ = 0;               /* open sequences */
    long long elements_ = 0;

    /* Implicit VR private creators (only those the dictionary has sequences for). */
    std::vector<Creator> creators_;
    bool capturing_ = false;      /* the value being skipped is a private creator: keep its first bytes */
    uint16_t capture_group_ = 0;
    uint8_t capture_block_ = 0;
    char capture_pad_ = ' ';
    uint32_t capture_len_ = 0;    /* bytes of the value kept */
    bool capture_tail_padding_ = true;  /* every byte past the kept ones was padding */
    std::vector<char> capture_;

    std::unique_ptr<Inflater> inflater_;
    uint64_t fed_ = 0;            /* bytes given to feed() (for a deflated data set, compressed) */
};

}  // namespace cdcm

#endif
