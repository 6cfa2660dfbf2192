/* The data set scanner's structure (see cdcm_limits.cpp): entering and leaving sequences, items
 * and encapsulated pixel data fragments, within the depth and count limits, and the private
 * creators each item declares (PS3.5 7.8), which decide how DCMTK reads private elements. */
#include "cdcm_limits.h"
#include "cdcm_limits_internal.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

using namespace cdcm::limits_detail;

namespace cdcm {

bool DatasetLimitScanner::on_item_level(uint32_t tag, uint32_t length) {
    const Frame &seq = stack_.back();
    const uint64_t start = off_ - 8;
    if (tag == kItem) {
        if (length != kUndefinedLength) {
            if (length & 1)
                return fail(CDCM_LIMIT_MALFORMED, tag, start, "odd item length %u in " TAGF ", offset %lld", length, TAGA(seq.tag),
                            report_offset(start));
            if (seq.limit != kUndefined && off_ + length > seq.limit)
                return fail(CDCM_LIMIT_MALFORMED, tag, start, "item of %u bytes at offset %lld runs past the end of " TAGF " at offset %lld",
                            length, report_offset(start), TAGA(seq.tag), report_offset(seq.limit));
        }
        const uint64_t end = length == kUndefinedLength ? kUndefined : off_ + length;
        stack_.push_back(Frame{end, std::min(end, seq.limit), seq.tag, FrameKind::Item, seq.enc});
        return close_ended();
    }
    if (tag == kSequenceDelimitation) {
        if (seq.end != kUndefined)
            return fail(CDCM_LIMIT_MALFORMED, tag, start, "sequence delimitation item in " TAGF ", a sequence of defined length, offset %lld",
                        TAGA(seq.tag), report_offset(start));
        if (length != 0)
            return fail(CDCM_LIMIT_MALFORMED, tag, start, "sequence delimitation item with length %u (must be 0) in " TAGF ", offset %lld",
                        length, TAGA(seq.tag), report_offset(start));
        pop_frame();
        return close_ended();
    }
    return fail(CDCM_LIMIT_MALFORMED, tag, start, TAGF " where an item (FFFE,E000) is expected in sequence " TAGF ", offset %lld",
                TAGA(tag), TAGA(seq.tag), report_offset(start));
}

bool DatasetLimitScanner::on_fragment_level(uint32_t tag, uint32_t length) {
    const Frame &frag = stack_.back();
    const uint64_t start = off_ - 8;
    if (tag == kItem) {
        if (length == kUndefinedLength)
            return fail(CDCM_LIMIT_MALFORMED, tag, start, "fragment of undefined length in " TAGF ", offset %lld", TAGA(frag.tag),
                        report_offset(start));
        if (length & 1)
            return fail(CDCM_LIMIT_MALFORMED, tag, start, "odd fragment length %u in " TAGF ", offset %lld", length, TAGA(frag.tag),
                        report_offset(start));
        if (frag.limit != kUndefined && off_ + length > frag.limit)
            return fail(CDCM_LIMIT_MALFORMED, tag, start, "fragment of %u bytes at offset %lld runs past the end of its item at offset %lld",
                        length, report_offset(start), report_offset(frag.limit));
        if (length == 0) return close_ended();
        skip_ = length;
        value_tag_ = frag.tag;
        value_offset_ = start;
        return true;
    }
    if (tag == kSequenceDelimitation) {
        if (length != 0)
            return fail(CDCM_LIMIT_MALFORMED, tag, start, "sequence delimitation item with length %u (must be 0) in " TAGF ", offset %lld",
                        length, TAGA(frag.tag), report_offset(start));
        pop_frame();
        return close_ended();
    }
    return fail(CDCM_LIMIT_MALFORMED, tag, start, TAGF " where a fragment item (FFFE,E000) is expected in " TAGF ", offset %lld",
                TAGA(tag), TAGA(frag.tag), report_offset(start));
}

bool DatasetLimitScanner::open_frame(FrameKind kind, uint32_t tag, uint32_t length, Enc enc, uint64_t header_offset) {
    const uint64_t start = off_;  // just past the header
    const Frame &parent = stack_.back();
    const uint64_t end = length == kUndefinedLength ? kUndefined : start + length;
    if (kind == FrameKind::Sequence) {
        ++depth_;
        if (depth_ > verdict_.depth_reached) verdict_.depth_reached = depth_;
        if (depth_ > limits_.max_sequence_depth)
            return fail(CDCM_LIMIT_DEPTH, tag, header_offset,
                        "sequence nesting depth %d exceeds the limit of %d at " TAGF ", offset %lld", depth_,
                        limits_.max_sequence_depth, TAGA(tag), report_offset(header_offset));
    }
    stack_.push_back(Frame{end, std::min(end, parent.limit), tag, kind, enc});
    return close_ended();
}

bool DatasetLimitScanner::pop_frame() {
    const size_t index = stack_.size() - 1;
    if (stack_.back().kind == FrameKind::Sequence) --depth_;
    stack_.pop_back();
    while (!creators_.empty() && creators_.back().frame >= index) creators_.pop_back();
    return true;
}

bool DatasetLimitScanner::close_ended() {
    for (;;) {
        const Frame &top = stack_.back();
        if (top.kind == FrameKind::Root) return true;
        if (top.end == off_) {
            pop_frame();
            continue;
        }
        if (top.limit == off_)
            return fail(CDCM_LIMIT_MALFORMED, top.tag, off_, "%s " TAGF " of undefined length not closed at the end of its enclosing item, offset %lld",
                        frame_noun(top.kind == FrameKind::Fragments, top.kind == FrameKind::Item), TAGA(top.tag), report_offset(off_));
        return true;
    }
}

bool DatasetLimitScanner::value_done() {
    if (capturing_) {
        capturing_ = false;
        remember_creator();
        if (failed_) return false;
    }
    return close_ended();
}

void DatasetLimitScanner::remember_creator() {
    // DCMTK's value: trailing padding removed, then up to the first NUL (DcmByteString::getString).
    const char *v = capture_.data();
    size_t len = capture_len_;
    const void *nul = std::memchr(v, 0, len);
    if (nul != nullptr) {
        len = size_t(static_cast<const char *>(nul) - v);
    } else {
        if (!capture_tail_padding_) return;  // longer than any creator of the dictionary
        while (len > 0 && v[len - 1] == capture_pad_) len--;
    }
    const Tables &t = tables();
    if (len > t.max_creator_length) return;
    const std::string_view name(v, len);
    auto it = std::lower_bound(t.creators.begin(), t.creators.end(), name,
                               [](const std::string &a, std::string_view b) { return std::string_view(a) < b; });
    if (it == t.creators.end() || std::string_view(*it) != name) return;
    const uint32_t frame = uint32_t(stack_.size() - 1);
    size_t in_item = 0;
    for (size_t i = creators_.size(); i-- > 0 && creators_[i].frame == frame;) in_item++;
    if (in_item >= kMaxCreatorsPerItem) {
        fail(CDCM_LIMIT_MALFORMED, uint32_t(capture_group_) << 16 | capture_block_, value_offset_,
             "more than %zu private creators of dictionary sequences in one item, at " TAGF ", offset %lld", kMaxCreatorsPerItem,
             unsigned(capture_group_), unsigned(capture_block_), report_offset(value_offset_));
        return;
    }
    creators_.push_back(Creator{frame, capture_group_, capture_block_, uint16_t(it - t.creators.begin() + 1)});
}

uint16_t DatasetLimitScanner::creator_for(uint16_t group, uint16_t element) const {
    const uint32_t frame = uint32_t(stack_.size() - 1);
    const uint8_t block = uint8_t(element >> 8);
    for (size_t i = creators_.size(); i-- > 0 && creators_[i].frame == frame;)
        if (creators_[i].group == group && creators_[i].block == block) return creators_[i].creator;
    return 0;
}
}  // namespace cdcm
