/* Bounds a DICOM Part 10 file or a buffer before DCMTK parses it: the file meta information as
 * DcmMetaInfo::read delimits it, then the data set through the scanner (cdcm_limits.cpp); the C API. */
#include "cdcm_limits.h"
#include "cdcm_limits_internal.h"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcxfer.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

using namespace cdcm::limits_detail;

/* ------------------------------------------------------------ Part 10 files */

namespace {

constexpr size_t kWindow = 1u << 20;  /* the file meta information must fit in the first MiB */

void set_verdict(cdcm_limit_verdict &v, int kind, uint32_t tag, long long offset, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void set_verdict(cdcm_limit_verdict &v, int kind, uint32_t tag, long long offset, const char *fmt, ...) {
    std::memset(&v, 0, sizeof v);
    v.kind = kind;
    v.tag = tag;
    v.offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v.text, sizeof v.text, fmt, ap);
    va_end(ap);
}

struct Meta {
    size_t end = 0;          /* where the data set begins */
    bool has_ts = false;
    std::string ts;          /* (0002,0010) as DCMTK reads it */
};

/* The file meta information group as DcmMetaInfo::read delimits it: by its group length when the
 * first element is (0002,0000), else while the next tag is in group 0002. Nothing but plain group
 * 0002 elements in Explicit VR LE is accepted in it. */
bool parse_meta(const uint8_t *b, size_t n, bool whole_file, size_t start, Meta &meta, cdcm_limit_verdict &v) {
    meta.end = start;
    if (n - start < 2) return true;
    if (b[start] == 0x00 && b[start + 1] == 0x02) {
        set_verdict(v, CDCM_LIMIT_MALFORMED, 0, (long long)start, "file meta information in big endian byte order at offset %zu", start);
        return false;
    }
    if (!(b[start] == 0x02 && b[start + 1] == 0x00)) return true;  // no meta header
    if (n - start >= 6 && detect_encoding(b + start) != Detected::ExplicitLittle) {
        set_verdict(v, CDCM_LIMIT_MALFORMED, 0, (long long)start, "file meta information not in Explicit VR Little Endian, offset %zu", start);
        return false;
    }
    const Tables &t = tables();
    uint64_t boundary = kUndefined;  /* group length mode: bytes of the group after its start */
    size_t pos = start;
    for (bool first = true;; first = false) {
        if (!first) {
            if (boundary != kUndefined) {
                if (pos - start >= boundary) break;
            } else {
                if (pos >= n && whole_file) break;
                if (pos + 2 <= n && !(b[pos] == 0x02 && b[pos + 1] == 0x00)) {
                    if (b[pos] == 0x00 && b[pos + 1] == 0x02) {
                        set_verdict(v, CDCM_LIMIT_MALFORMED, 0, (long long)pos, "big endian group 0002 tag in the file meta information, offset %zu", pos);
                        return false;
                    }
                    break;
                }
            }
        }
        if (pos + 8 > n) {
            set_verdict(v, CDCM_LIMIT_MALFORMED, 0, (long long)pos, whole_file ? "file ends inside its meta information, offset %zu"
                                                                                 : "file meta information longer than 1 MiB, offset %zu", pos);
            return false;
        }
        const uint32_t tag = uint32_t(rd16(b + pos, false)) << 16 | rd16(b + pos + 2, false);
        if ((tag >> 16) != 0x0002) {
            set_verdict(v, CDCM_LIMIT_MALFORMED, tag, (long long)pos, TAGF " inside the file meta information (its group length), offset %zu",
                        TAGA(tag), pos);
            return false;
        }
        uint8_t vc = t.vr[b[pos + 4] | b[pos + 5] << 8];
        const bool extended = (vc & kVcExtended) != 0;
        vc &= uint8_t(~kVcExtended);
        const size_t hdr = extended ? 12 : 8;
        if (pos + hdr > n) {
            set_verdict(v, CDCM_LIMIT_MALFORMED, tag, (long long)pos, "file meta information truncated at " TAGF ", offset %zu", TAGA(tag), pos);
            return false;
        }
        const uint32_t length = extended ? rd32(b + pos + 8, false) : rd16(b + pos + 6, false);
        if (vc == VC_REFUSE || vc == VC_SQ || length == kUndefinedLength || (length & 1)) {
            set_verdict(v, CDCM_LIMIT_MALFORMED, tag, (long long)pos, "%s " TAGF " in the file meta information, offset %zu",
                        vc == VC_REFUSE ? "non-standard VR on" : vc == VC_SQ ? "sequence" : (length & 1) && length != kUndefinedLength ? "odd length on" : "undefined length on",
                        TAGA(tag), pos);
            return false;
        }
        if (pos + hdr + length > n) {
            set_verdict(v, CDCM_LIMIT_MALFORMED, tag, (long long)pos, whole_file ? "file ends inside " TAGF " of its meta information, offset %zu"
                                                                                  : "file meta information longer than 1 MiB at " TAGF ", offset %zu",
                        TAGA(tag), pos);
            return false;
        }
        const uint8_t *value = b + pos + hdr;
        if (first && tag == 0x00020000u) {
            if (!(b[pos + 4] == 'U' && b[pos + 5] == 'L' && length == 4)) {
                set_verdict(v, CDCM_LIMIT_MALFORMED, tag, (long long)pos, "file meta information group length (0002,0000) is not UL of 4 bytes, offset %zu", pos);
                return false;
            }
            boundary = 12 + uint64_t(rd32(value, false));
        }
        if (tag == 0x00020010u && !meta.has_ts) {
            if (!(b[pos + 4] == 'U' && b[pos + 5] == 'I')) {
                set_verdict(v, CDCM_LIMIT_MALFORMED, tag, (long long)pos, "transfer syntax UID (0002,0010) without VR UI, offset %zu", pos);
                return false;
            }
            // DcmUniqueIdentifier::getString: white space removed, then up to the first NUL.
            meta.has_ts = true;
            for (uint32_t i = 0; i < length && value[i] != 0; i++)
                if (!isspace(value[i])) meta.ts.push_back(char(value[i]));
        }
        pos += hdr + length;
    }
    meta.end = pos;
    return true;
}

}  // namespace

struct cdcm_limit_scanner {
    cdcm::DatasetLimitScanner scanner;
    cdcm_limit_scanner(const cdcm_limits *limits, const char *uid) : scanner(limits, uid) {}
};

extern "C" int cdcm_file_check_limits(const char *path, const cdcm_limits *limits, cdcm_limit_verdict *verdict) {
    cdcm_limit_verdict local;
    cdcm_limit_verdict &v = verdict ? *verdict : local;
    if (path == nullptr) {
        set_verdict(v, CDCM_LIMIT_IO, 0, 0, "no file given");
        return v.kind;
    }
    FILE *f = fopen(path, "rb");
    if (f == nullptr) {
        set_verdict(v, CDCM_LIMIT_IO, 0, 0, "cannot open the file: %s", strerror(errno));
        return v.kind;
    }
    try {
        std::vector<uint8_t> buf(kWindow);
        size_t n = fread(buf.data(), 1, buf.size(), f);
        bool eof = n < buf.size();
        if (eof && ferror(f)) {
            set_verdict(v, CDCM_LIMIT_IO, 0, 0, "cannot read the file: %s", strerror(errno));
            fclose(f);
            return v.kind;
        }
        size_t start = 0;
        if (n >= 132 && std::memcmp(buf.data() + 128, "DICM", 4) == 0) start = 132;
        Meta meta;
        if (!parse_meta(buf.data(), n, eof, start, meta, v)) {
            fclose(f);
            return v.kind;
        }
        cdcm::DatasetLimitScanner scanner(limits, meta.has_ts ? meta.ts.c_str() : nullptr, (long long)meta.end);
        bool going = scanner.feed(buf.data() + meta.end, n - meta.end);
        while (going && !eof) {
            n = fread(buf.data(), 1, buf.size(), f);
            eof = n < buf.size();
            if (eof && ferror(f)) {
                set_verdict(v, CDCM_LIMIT_IO, 0, 0, "cannot read the file: %s", strerror(errno));
                fclose(f);
                return v.kind;
            }
            going = scanner.feed(buf.data(), n);
        }
        fclose(f);
        v = scanner.finish();
    } catch (const std::bad_alloc &) {
        fclose(f);
        set_verdict(v, CDCM_LIMIT_IO, 0, 0, "out of memory while checking the file");
    }
    return v.kind;
}

extern "C" int cdcm_buffer_check_limits(const void *data, size_t length, const char *transfer_syntax_uid,
                                        const cdcm_limits *limits, cdcm_limit_verdict *verdict) {
    cdcm_limit_verdict local;
    cdcm_limit_verdict &v = verdict ? *verdict : local;
    if ((data == nullptr && length > 0) || transfer_syntax_uid == nullptr) {
        set_verdict(v, CDCM_LIMIT_IO, 0, 0, data == nullptr && length > 0 ? "no data given" : "no transfer syntax given");
        return v.kind;
    }
    try {
        cdcm::DatasetLimitScanner scanner(limits, transfer_syntax_uid);
        scanner.feed(data, length);
        v = scanner.finish();
    } catch (const std::bad_alloc &) {
        set_verdict(v, CDCM_LIMIT_IO, 0, 0, "out of memory while checking the data set");
    }
    return v.kind;
}

extern "C" cdcm_limit_scanner *cdcm_limit_scanner_new(const cdcm_limits *limits, const char *transfer_syntax_uid) {
    try {
        return new cdcm_limit_scanner(limits, transfer_syntax_uid);
    } catch (const std::bad_alloc &) {
        return nullptr;
    }
}

extern "C" int cdcm_limit_scanner_feed(cdcm_limit_scanner *s, const void *data, size_t length) {
    return s != nullptr && s->scanner.feed(data, length) ? 1 : 0;
}

extern "C" const cdcm_limit_verdict *cdcm_limit_scanner_finish(cdcm_limit_scanner *s) {
    return s ? &s->scanner.finish() : nullptr;
}

extern "C" void cdcm_limit_scanner_free(cdcm_limit_scanner *s) { delete s; }
