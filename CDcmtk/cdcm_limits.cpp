/* Bounds a DICOM data set before DCMTK parses it: a streaming, non-recursive walk of the encoded bytes
 * (PS3.5 chapter 7) that reads them as DCMTK 3.6.7 with its default settings does. Part 10 files and
 * the C API are in cdcm_limits_file.cpp; what DCMTK's tables say is in cdcm_limits_tables.cpp; the
 * nesting of sequences, items and fragments and private creators in cdcm_limits_structure.cpp. */
#include "cdcm_limits.h"
#include "cdcm_limits_internal.h"

#include "dcmtk/config/osconfig.h"

#include <zlib.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

using namespace cdcm::limits_detail;

namespace {

constexpr int kDefaultDepth = 64;
constexpr long long kDefaultElements = 1000000;
constexpr long long kDefaultValueLength = 16ll * 1024 * 1024;

}  // namespace

namespace cdcm {

/* ------------------------------------------------------------ the scanner */

struct DatasetLimitScanner::Inflater {
    z_stream zs;
    bool ok = false;
    bool ended = false;
    uint64_t produced = 0;
    uint8_t out[32768];
    Inflater() {
        std::memset(&zs, 0, sizeof zs);
        ok = inflateInit2(&zs, -MAX_WBITS) == Z_OK;
    }
    ~Inflater() {
        if (ok) inflateEnd(&zs);
    }
};

cdcm_limits DatasetLimitScanner::effective_limits(const cdcm_limits *limits) {
    cdcm_limits l{};
    if (limits != nullptr) l = *limits;
    if (l.max_sequence_depth <= 0) l.max_sequence_depth = kDefaultDepth;
    if (l.max_elements <= 0) l.max_elements = kDefaultElements;
    if (l.max_value_length <= 0) l.max_value_length = kDefaultValueLength;
    if (l.max_total_bytes < 0) l.max_total_bytes = 0;
    return l;
}

DatasetLimitScanner::DatasetLimitScanner(const cdcm_limits *limits, const char *transfer_syntax_uid, long long base_offset)
    : DatasetLimitScanner(limits, encoding_for_transfer_syntax(transfer_syntax_uid), base_offset) {}

DatasetLimitScanner::DatasetLimitScanner(const cdcm_limits *limits, DatasetEncoding encoding, long long base_offset)
    : limits_(effective_limits(limits)), base_offset_(base_offset) {
    std::memset(&verdict_, 0, sizeof verdict_);
    verdict_.kind = CDCM_LIMIT_OK;
    (void)tables();
    stack_.reserve(2 * size_t(std::min(limits_.max_sequence_depth, 4096)) + 4);
    Enc enc = Enc::ImplicitLittle;
    switch (encoding) {
    case DatasetEncoding::ImplicitLittle: enc = Enc::ImplicitLittle; break;
    case DatasetEncoding::ExplicitLittle: enc = Enc::ExplicitLittle; break;
    case DatasetEncoding::ExplicitBig: enc = Enc::ExplicitBig; break;
    case DatasetEncoding::DeflatedExplicitLittle:
        enc = Enc::ExplicitLittle;
        deflated_ = true;
        base_offset_ = 0;  // offsets are those of the inflated data set
        inflater_.reset(new Inflater);
        break;
    case DatasetEncoding::Detect: detect_ = true; break;
    case DatasetEncoding::Unsupported: break;
    }
    stack_.push_back(Frame{kUndefined, kUndefined, 0, FrameKind::Root, enc});
    if (!g_tables->changed_settings.empty())
        fail(CDCM_LIMIT_MALFORMED, 0, 0, "DCMTK parser settings changed from the defaults this check models (%s); data set refused",
             g_tables->changed_settings.c_str());
    else if (encoding == DatasetEncoding::Unsupported)
        fail(CDCM_LIMIT_MALFORMED, 0, 0, "transfer syntax not readable by DCMTK; data set refused");
    else if (deflated_ && !inflater_->ok)
        fail(CDCM_LIMIT_IO, 0, 0, "zlib could not be initialised to inflate the deflated data set");
}

DatasetLimitScanner::~DatasetLimitScanner() = default;

bool DatasetLimitScanner::fail(int kind, uint32_t tag, uint64_t offset, const char *fmt, ...) {
    if (failed_) return false;
    failed_ = true;
    verdict_.kind = kind;
    verdict_.tag = tag;
    verdict_.offset = report_offset(offset);
    verdict_.elements = elements_;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(verdict_.text, sizeof verdict_.text, fmt, ap);
    va_end(ap);
    return false;
}


bool DatasetLimitScanner::feed(const void *data, size_t length) {
    try {
        return feed_unchecked(data, length);
    } catch (const std::bad_alloc &) {  // the creator table or the capture buffer could not grow
        return fail(CDCM_LIMIT_IO, 0, off_, "out of memory while checking the data set");
    }
}

bool DatasetLimitScanner::feed_unchecked(const void *data, size_t length) {
    if (failed_) return false;
    if (finished_ || length == 0) return true;
    const uint8_t *p = static_cast<const uint8_t *>(data);
    const uint64_t max = uint64_t(limits_.max_total_bytes);
    if (max > 0 && fed_ + length > max) {
        const size_t allowed = size_t(max - fed_);
        fed_ = max;
        if (allowed > 0 && !(deflated_ ? feed_deflated(p, allowed) : feed_plain(p, allowed))) return false;
        return fail(CDCM_LIMIT_TOTAL, 0, deflated_ ? off_ : max,
                    "data set larger than the limit of %lld bytes%s", limits_.max_total_bytes,
                    deflated_ ? " (deflated bytes received)" : "");
    }
    fed_ += length;
    return deflated_ ? feed_deflated(p, length) : feed_plain(p, length);
}

bool DatasetLimitScanner::feed_deflated(const uint8_t *p, size_t n) {
    Inflater &z = *inflater_;
    if (z.ended) return true;  // DCMTK ignores what follows the deflate stream (at most a pad byte)
    const uint64_t max = uint64_t(limits_.max_total_bytes);
    while (n > 0) {
        const uInt chunk = n > 0x40000000u ? 0x40000000u : uInt(n);
        z.zs.next_in = const_cast<Bytef *>(p);
        z.zs.avail_in = chunk;
        for (;;) {
            z.zs.next_out = z.out;
            z.zs.avail_out = sizeof z.out;
            const int r = inflate(&z.zs, Z_NO_FLUSH);
            size_t produced = sizeof z.out - z.zs.avail_out;
            if (produced > 0) {
                if (max > 0 && z.produced + produced > max) {
                    const size_t allowed = size_t(max - z.produced);
                    z.produced = max;
                    if (allowed > 0 && !feed_plain(z.out, allowed)) return false;
                    return fail(CDCM_LIMIT_TOTAL, 0, off_, "inflated data set larger than the limit of %lld bytes",
                                limits_.max_total_bytes);
                }
                z.produced += produced;
                if (!feed_plain(z.out, produced)) return false;
            }
            if (r == Z_STREAM_END) {
                z.ended = true;
                return true;
            }
            if (r != Z_OK && r != Z_BUF_ERROR)
                return fail(CDCM_LIMIT_MALFORMED, 0, off_, "deflated data set is not a valid deflate stream (zlib: %s), after %llu inflated bytes",
                            z.zs.msg ? z.zs.msg : "error", (unsigned long long)off_);
            if (z.zs.avail_out != 0 || (r == Z_BUF_ERROR && z.zs.avail_in == 0)) break;
        }
        p += chunk;
        n -= chunk;
    }
    return true;
}

bool DatasetLimitScanner::resolve_detected_encoding() {
    Detected d = detect_encoding(hdr_);
    detect_ = false;
    switch (d) {
    case Detected::ImplicitLittle: stack_[0].enc = Enc::ImplicitLittle; return true;
    case Detected::ExplicitLittle: stack_[0].enc = Enc::ExplicitLittle; return true;
    case Detected::ExplicitBig: stack_[0].enc = Enc::ExplicitBig; return true;
    case Detected::ImplicitBig: break;
    }
    return fail(CDCM_LIMIT_MALFORMED, 0, 0, "data set looks like Implicit VR Big Endian, which DCMTK cannot read; refused");
}

/* Bytes of the header that begins at h (at least 6 bytes of it available). */
unsigned DatasetLimitScanner::header_size(const uint8_t *h, unsigned) const {
    const Frame &top = stack_.back();
    if (top.kind == FrameKind::Sequence || top.kind == FrameKind::Fragments || top.enc == Enc::ImplicitLittle) return 8;
    if (rd16(h, top.enc == Enc::ExplicitBig) == 0xFFFE) return 8;  // item and delimiters have no VR
    return (g_tables->vr[h[4] | h[5] << 8] & kVcExtended) ? 12 : 8;
}

bool DatasetLimitScanner::feed_plain(const uint8_t *p, size_t n) {
    while (n > 0) {
        if (skip_ > 0) {
            const size_t k = skip_ < n ? size_t(skip_) : n;
            if (capturing_) {
                const uint32_t room = uint32_t(capture_.size()) - capture_len_;
                const uint32_t keep = k < room ? uint32_t(k) : room;
                std::memcpy(capture_.data() + capture_len_, p, keep);
                capture_len_ += keep;
                for (size_t i = keep; i < k && capture_tail_padding_; i++)
                    if (char(p[i]) != capture_pad_) capture_tail_padding_ = false;
            }
            p += k;
            n -= k;
            off_ += k;
            skip_ -= k;
            if (skip_ > 0) return true;
            if (!value_done()) return false;
            continue;
        }
        if (detect_) {
            while (hdr_len_ < 6 && n > 0) {
                hdr_[hdr_len_++] = *p++;
                n--;
            }
            if (hdr_len_ < 6) return true;
            if (!resolve_detected_encoding()) return false;
            continue;
        }
        const uint8_t *h;
        unsigned size;
        if (hdr_len_ == 0 && n >= 12) {
            h = p;
            size = header_size(p, 12);
            p += size;
            n -= size;
        } else {
            while (hdr_len_ < 6 && n > 0) {
                hdr_[hdr_len_++] = *p++;
                n--;
            }
            if (hdr_len_ < 6) return true;
            size = header_size(hdr_, hdr_len_);
            while (hdr_len_ < size && n > 0) {
                hdr_[hdr_len_++] = *p++;
                n--;
            }
            if (hdr_len_ < size) return true;
            h = hdr_;
            hdr_len_ = 0;
        }
        if (!on_header(h, size)) return false;
    }
    return true;
}

bool DatasetLimitScanner::on_header(const uint8_t *h, unsigned size) {
    const Frame &top = stack_.back();
    const bool big = top.enc == Enc::ExplicitBig;
    const uint32_t tag = uint32_t(rd16(h, big)) << 16 | rd16(h + 2, big);
    if (top.limit != kUndefined && off_ + size > top.limit)
        return fail(CDCM_LIMIT_MALFORMED, tag, off_,
                    "header of " TAGF " at offset %lld runs past the end of its enclosing %s " TAGF " at offset %lld",
                    TAGA(tag), report_offset(off_), frame_noun(top.kind == FrameKind::Fragments, top.kind == FrameKind::Item),
                    TAGA(top.tag), report_offset(top.limit));
    if (top.kind == FrameKind::Sequence || top.kind == FrameKind::Fragments) {
        const uint32_t length = rd32(h + 4, big);
        off_ += 8;
        return top.kind == FrameKind::Sequence ? on_item_level(tag, length) : on_fragment_level(tag, length);
    }
    return on_element(h, size, tag, top.enc);
}

bool DatasetLimitScanner::on_element(const uint8_t *h, unsigned size, uint32_t tag, Enc enc) {
    const Frame &top = stack_.back();
    const uint64_t start = off_;
    const uint16_t group = uint16_t(tag >> 16), element = uint16_t(tag & 0xFFFF);
    const bool big = enc == Enc::ExplicitBig;

    if (group == 0xFFFE) {
        const uint32_t length = rd32(h + 4, big);
        if (tag == kItemDelimitation && top.kind == FrameKind::Item && top.end == kUndefined) {
            if (length != 0)
                return fail(CDCM_LIMIT_MALFORMED, tag, start, "item delimitation item with length %u (must be 0) in " TAGF ", offset %lld",
                            length, TAGA(top.tag), report_offset(start));
            off_ += 8;
            pop_frame();
            return close_ended();
        }
        if (tag == kItemDelimitation) {
            if (top.kind == FrameKind::Root)
                return fail(CDCM_LIMIT_MALFORMED, tag, start, "item delimitation item (FFFE,E00D) at the top level of the data set, offset %lld",
                            report_offset(start));
            return fail(CDCM_LIMIT_MALFORMED, tag, start, "item delimitation item (FFFE,E00D) in an item of defined length of " TAGF ", offset %lld",
                        TAGA(top.tag), report_offset(start));
        }
        if (tag == kSequenceDelimitation)
            return fail(CDCM_LIMIT_MALFORMED, tag, start, "sequence delimitation item (FFFE,E0DD) where a data element is expected%s, offset %lld",
                        top.kind == FrameKind::Root ? " at the top level" : " in an item", report_offset(start));
        if (tag == kItem)
            return fail(CDCM_LIMIT_MALFORMED, tag, start, "item (FFFE,E000) where a data element is expected, offset %lld", report_offset(start));
        return fail(CDCM_LIMIT_MALFORMED, tag, start, "invalid tag " TAGF " (group FFFE), offset %lld", TAGA(tag), report_offset(start));
    }

    if (++elements_ > limits_.max_elements)
        return fail(CDCM_LIMIT_ELEMENTS, tag, start, "element count exceeds the limit of %lld at " TAGF ", offset %lld",
                    limits_.max_elements, TAGA(tag), report_offset(start));

    enum What { Leaf, LeafBulk, Sequence, SequenceImplicit, Fragments } what = Leaf;
    uint32_t length;
    bool creator_slot = false;
    if (enc == Enc::ImplicitLittle) {
        length = rd32(h + 4, false);
        uint16_t creator = 0;
        if ((group & 1) && element >= 0x1000 && !creators_.empty()) creator = creator_for(group, element);
        const DictClass c = dict_class(tag, creator);
        if (length == kUndefinedLength) {
            if (tag == kPixelData || c == DC_PX) what = Fragments;
            else if (c == DC_SQ || c == DC_UNKNOWN) what = Sequence;
            else
                return fail(CDCM_LIMIT_MALFORMED, tag, start, "undefined length on " TAGF ", which DCMTK reads as a single value, offset %lld",
                            TAGA(tag), report_offset(start));
        } else if (c == DC_SQ) {
            what = Sequence;
        } else {
            what = (c == DC_UNKNOWN || c == DC_BULK || c == DC_PX) ? LeafBulk : Leaf;
            if ((group & 1) && element >= 0x10 && element <= 0xFF) {
                if (c == DC_UID)
                    return fail(CDCM_LIMIT_MALFORMED, tag, start, "private creator " TAGF " has VR UI in the data dictionary; not supported, offset %lld",
                                TAGA(tag), report_offset(start));
                creator_slot = c == DC_STRING && length > 0 && !g_tables->creators.empty();
            }
        }
    } else {
        if (g_tables->na_elsewhere && dict_class(tag, 0) == DC_NA)
            return fail(CDCM_LIMIT_MALFORMED, tag, start, TAGF " has no VR in the data dictionary, offset %lld", TAGA(tag), report_offset(start));
        uint8_t vc = g_tables->vr[h[4] | h[5] << 8];
        if (tag == kPixelData && h[4] == 'O' && h[5] == 'X') vc = VC_OBOW | kVcExtended;  // DCMTK's workaround
        const bool extended = (vc & kVcExtended) != 0;
        vc &= uint8_t(~kVcExtended);
        if (vc == VC_REFUSE)
            return fail(CDCM_LIMIT_MALFORMED, tag, start, "non-standard VR \"%c%c\" on " TAGF ", offset %lld",
                        isprint(h[4]) ? h[4] : '?', isprint(h[5]) ? h[5] : '?', TAGA(tag), report_offset(start));
        length = extended ? rd32(h + 8, big) : rd16(h + 6, big);
        if (length == kUndefinedLength) {
            if (vc == VC_SQ) what = Sequence;
            else if (vc == VC_UN) what = SequenceImplicit;
            else if (vc == VC_OBOW) what = Fragments;
            else
                return fail(CDCM_LIMIT_MALFORMED, tag, start, "undefined length on " TAGF " with VR %c%c, offset %lld", TAGA(tag),
                            isprint(h[4]) ? h[4] : '?', isprint(h[5]) ? h[5] : '?', report_offset(start));
        } else if (vc == VC_SQ) {
            what = Sequence;
        } else {
            what = (vc == VC_SHORT || vc == VC_LONG) ? Leaf : LeafBulk;
        }
    }

    if (length != kUndefinedLength) {
        // DCMTK accepts odd lengths of values (dcmAcceptOddAttributeLength, default on): so do we;
        // a sequence of odd length cannot hold whole items.
        if ((length & 1) && what == Sequence)
            return fail(CDCM_LIMIT_MALFORMED, tag, start, "odd length %u of " TAGF ", offset %lld", length, TAGA(tag), report_offset(start));
        if (top.limit != kUndefined && start + size + length > top.limit)
            return fail(CDCM_LIMIT_MALFORMED, tag, start, TAGF " of %u bytes at offset %lld runs past the end of its item of " TAGF " at offset %lld",
                        TAGA(tag), length, report_offset(start), TAGA(top.tag), report_offset(top.limit));
        if (what == Leaf && length > uint64_t(limits_.max_value_length))
            return fail(CDCM_LIMIT_VALUE_LENGTH, tag, start, "value of " TAGF " is %u bytes, over the limit of %lld, offset %lld",
                        TAGA(tag), length, limits_.max_value_length, report_offset(start));
    }

    off_ += size;
    switch (what) {
    case Sequence: return open_frame(FrameKind::Sequence, tag, length, enc, start);
    case SequenceImplicit: return open_frame(FrameKind::Sequence, tag, length, Enc::ImplicitLittle, start);
    case Fragments: return open_frame(FrameKind::Fragments, tag, kUndefinedLength, enc, start);
    case Leaf:
    case LeafBulk: break;
    }
    if (length == 0) return close_ended();
    skip_ = length;
    value_tag_ = tag;
    value_offset_ = start;
    if (creator_slot) {
        // DCMTK's private creator cache: the first creator of a block in an item wins.
        const uint8_t block = uint8_t(element);
        const uint32_t frame = uint32_t(stack_.size() - 1);
        bool taken = false;
        for (size_t i = creators_.size(); i-- > 0 && creators_[i].frame == frame;)
            if (creators_[i].group == group && creators_[i].block == block) taken = true;
        if (!taken) {
            if (capture_.empty()) capture_.resize(tables().max_creator_length + 2);
            capturing_ = true;
            capture_group_ = group;
            capture_block_ = block;
            capture_pad_ = ' ';
            capture_len_ = 0;
            capture_tail_padding_ = true;
        }
    }
    return true;
}

const cdcm_limit_verdict &DatasetLimitScanner::finish() {
    if (finished_ || failed_) {
        finished_ = true;
        return verdict_;
    }
    finished_ = true;
    if (deflated_ && !inflater_->ended) {
        // As DCMTK does: one zero byte after the data lets raw inflate see the end of the stream.
        static const uint8_t pad = 0;
        if (!feed_deflated(&pad, 1)) return verdict_;
        if (!inflater_->ended) {
            fail(CDCM_LIMIT_MALFORMED, 0, off_, "deflated data set ends before the end of its deflate stream, after %llu inflated bytes",
                 (unsigned long long)off_);
            return verdict_;
        }
    }
    if (detect_) {
        // Fewer than 6 bytes: DCMTK assumes Explicit VR Little Endian.
        detect_ = false;
        stack_[0].enc = Enc::ExplicitLittle;
    }
    if (hdr_len_ > 0) {
        fail(CDCM_LIMIT_MALFORMED, 0, off_, "data set ends inside an element header at offset %lld", report_offset(off_));
    } else if (skip_ > 0) {
        fail(CDCM_LIMIT_MALFORMED, value_tag_, value_offset_, "value of " TAGF " at offset %lld ends %llu bytes past the end of the data set",
             TAGA(value_tag_), report_offset(value_offset_), (unsigned long long)skip_);
    } else if (stack_.size() > 1) {
        const Frame &top = stack_.back();
        const char *noun = frame_noun(top.kind == FrameKind::Fragments, top.kind == FrameKind::Item);
        if (top.end != kUndefined)
            fail(CDCM_LIMIT_MALFORMED, top.tag, off_, "%s " TAGF " of defined length ends at offset %lld, past the end of the data set at offset %lld",
                 noun, TAGA(top.tag), report_offset(top.end), report_offset(off_));
        else
            fail(CDCM_LIMIT_MALFORMED, top.tag, off_, "%s " TAGF " of undefined length not closed at the end of the data set, offset %lld",
                 noun, TAGA(top.tag), report_offset(off_));
    } else {
        verdict_.kind = CDCM_LIMIT_OK;
        verdict_.offset = report_offset(off_);
        verdict_.elements = elements_;
        snprintf(verdict_.text, sizeof verdict_.text, "within limits: %lld elements, nesting depth %d, %llu bytes", elements_,
                 verdict_.depth_reached, (unsigned long long)off_);
    }
    return verdict_;
}

}  // namespace cdcm
