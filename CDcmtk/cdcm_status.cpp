/* Converts DCMTK's OFCondition and C++ exceptions into cdcm_status, in one place. */
#include "cdcm_internal.h"
#include "dcmtk/dcmnet/cond.h"
#include "dcmtk/dcmnet/dul.h"

#include <cstring>

namespace cdcm {

void copy_string(char *dst, size_t dst_len, const char *src) {
    if (dst == nullptr || dst_len == 0) return;
    if (src == nullptr) src = "";
    size_t n = strlen(src);
    if (n >= dst_len) n = dst_len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void status_clear(cdcm_status *st) {
    if (st == nullptr) return;
    memset(st, 0, sizeof(*st));
}

void status_set(cdcm_status *st, cdcm_error_kind kind, const std::string &text) {
    if (st == nullptr) return;
    st->kind = kind;
    copy_string(st->text, sizeof(st->text), text.c_str());
}

cdcm_error_kind kind_of(const OFCondition &cond) {
    if (cond.good()) return CDCM_OK;
    if (cond == DUL_ASSOCIATIONREJECTED) return CDCM_ERR_REJECTED;
    if (cond == DUL_PEERABORTEDASSOCIATION) return CDCM_ERR_ABORTED;
    if (cond == DIMSE_NODATAAVAILABLE || cond == DUL_READTIMEOUT) return CDCM_ERR_TIMEOUT;
    if (cond == DIMSE_NOVALIDPRESENTATIONCONTEXTID || cond == DIMSE_BADCOMMANDTYPE) return CDCM_ERR_NO_CONTEXT;
    if (cond.module() == OFM_dcmnet &&
        (cond.code() == DULC_TCPINITERROR || cond.code() == DULC_NETWORKCLOSED || cond.code() == DULC_TCPIOERROR ||
         cond.code() == DULC_UNKNOWNHOST || cond == DUL_ILLEGALPDU))
        return CDCM_ERR_NETWORK;
    if (cond.module() == OFM_dcmdata) return CDCM_ERR_FILE;
    if (cond.module() == OFM_dcmnet) return CDCM_ERR_PROTOCOL;
    return CDCM_ERR_INTERNAL;
}

void status_from_condition(cdcm_status *st, const OFCondition &cond, const std::string &what) {
    if (st == nullptr) return;
    std::string text = what;
    if (!text.empty()) text += ": ";
    text += cond.text();
    status_set(st, kind_of(cond), text);
}

void status_from_exception(cdcm_status *st, const char *where) {
    std::string text = std::string("internal error in ") + where;
    try {
        throw;
    } catch (const std::exception &e) {
        text += ": ";
        text += e.what();
    } catch (...) {
        text += ": unknown C++ exception";
    }
    status_set(st, CDCM_ERR_INTERNAL, text);
}

long element_string(DcmElement *elem, char *buf, size_t buf_len) {
    if (elem == nullptr) return -1;
    switch (elem->ident()) {
    case EVR_SQ: case EVR_OB: case EVR_OW: case EVR_OF: case EVR_OD: case EVR_OL: case EVR_OV:
    case EVR_UN: case EVR_pixelSQ: case EVR_pixelItem: case EVR_UNKNOWN: case EVR_UNKNOWN2B:
    case EVR_PixelData: case EVR_OverlayData: case EVR_ox: case EVR_xs: case EVR_lt: case EVR_na: case EVR_up:
    case EVR_item: case EVR_metainfo: case EVR_dataset: case EVR_fileFormat: case EVR_dicomDir: case EVR_dirRecord:
        return -2;
    default:
        break;
    }
    // Bulk values (look-up tables, long texts beyond 64 KB) are not attributes anyone matches on.
    if (elem->getLengthField() > 65536) return -2;
    OFString value;
    if (elem->getLengthField() > 4096) {
        // A long value (e.g. a list of 10,000 UIDs): DCMTK's normalising read finds each component
        // by scanning from the start (quadratic: 16 s for 10,000 UIDs). Read it raw, normalise here.
        if (elem->getOFStringArray(value, OFFalse).bad()) value.clear();
        value = normalize_components(value, elem->ident());
    } else if (elem->getOFStringArray(value).bad()) {
        value.clear();
    }
    copy_string(buf, buf_len, value.c_str());
    return static_cast<long>(value.length());
}

OFString normalize_components(const OFString &raw, int vr) {
    auto trim = [](const char *p, size_t n, bool leading) {
        size_t b = 0, e = n;
        while (e > b && (p[e - 1] == ' ' || p[e - 1] == '\0')) e--;
        if (leading) while (b < e && p[b] == ' ') b++;
        return OFString(p + b, e - b);
    };
    const char *p = raw.c_str();
    size_t n = raw.length();
    // Texts are one value whatever they contain (a backslash is text there): trailing spaces only.
    if (vr == EVR_LT || vr == EVR_ST || vr == EVR_UT) return trim(p, n, false);
    OFString out;
    out.reserve(n);
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || p[i] == '\\') {
            if (start > 0) out += '\\';
            out += trim(p + start, i - start, true);
            start = i + 1;
        }
    }
    return out;
}

std::string limit_comment(const cdcm_limit_verdict &v) {
    char tag[16] = "";
    if (v.tag != 0) snprintf(tag, sizeof(tag), " at (%04X,%04X)", v.tag >> 16, v.tag & 0xFFFF);
    std::string what;
    switch (v.kind) {
    case CDCM_LIMIT_DEPTH: what = "sequence nesting over the limit"; break;
    case CDCM_LIMIT_ELEMENTS: what = "too many elements"; break;
    case CDCM_LIMIT_VALUE_LENGTH: what = "value over the length limit"; break;
    case CDCM_LIMIT_TOTAL: what = "data set over the size limit"; break;
    case CDCM_LIMIT_MALFORMED: what = "malformed data set"; break;
    default: what = "data set refused"; break;
    }
    std::string comment = what + tag;
    if (comment.size() > 64) comment.resize(64);
    return comment;
}

}  // namespace cdcm
