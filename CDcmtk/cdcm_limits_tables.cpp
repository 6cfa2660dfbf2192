/* What DCMTK's tables say, for the data set scanner (cdcm_limits.cpp): the VR table, the data
 * dictionary (memoised), the parser settings the walk models and transfer syntax detection. */
#include "cdcm_limits.h"
#include "cdcm_limits_internal.h"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcdicent.h"
#include "dcmtk/dcmdata/dcistrmz.h"
#include "dcmtk/dcmdata/dcobject.h"
#include "dcmtk/dcmdata/dctag.h"
#include "dcmtk/dcmdata/dcvr.h"
#include "dcmtk/dcmdata/dcxfer.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>
#include <string>

using namespace cdcm::limits_detail;

namespace {

DictClass class_of(DcmEVR evr) {
    switch (evr) {
    case EVR_SQ: return DC_SQ;
    case EVR_na: return DC_NA;
    case EVR_UN: case EVR_UNKNOWN: case EVR_UNKNOWN2B: return DC_UNKNOWN;
    case EVR_px: case EVR_PixelData: return DC_PX;
    case EVR_OB: case EVR_OW: case EVR_OF: case EVR_OD: case EVR_OL: case EVR_OV: case EVR_ox: case EVR_lt:
    case EVR_pixelItem: case EVR_pixelSQ: case EVR_OverlayData: return DC_BULK;
    case EVR_UI: return DC_UID;
    case EVR_AE: case EVR_AS: case EVR_CS: case EVR_DA: case EVR_DS: case EVR_DT: case EVR_IS: case EVR_TM:
    case EVR_UR: case EVR_LO: case EVR_LT: case EVR_PN: case EVR_SH: case EVR_ST: case EVR_UC: case EVR_UT:
        return DC_STRING;
    default: return DC_OTHER;
    }
}



/* The parser settings (dcmdata globals) whose defaults the walk models; read once per process. */
std::string changed_parser_settings() {
    struct Setting { const char *name; OFGlobal<OFBool> *value; bool expected; };
    const Setting settings[] = {
        {"dcmEnableCP246Support", &dcmEnableCP246Support, true},
        {"dcmEnableAutomaticInputDataCorrection", &dcmEnableAutomaticInputDataCorrection, true},
        {"dcmEnableUnknownVRConversion", &dcmEnableUnknownVRConversion, false},
        {"dcmAutoDetectDatasetXfer", &dcmAutoDetectDatasetXfer, false},
        {"dcmAcceptUnexpectedImplicitEncoding", &dcmAcceptUnexpectedImplicitEncoding, false},
        {"dcmPreferVRFromDataDictionary", &dcmPreferVRFromDataDictionary, false},
        {"dcmPreferLengthFieldSizeFromDataDictionary", &dcmPreferLengthFieldSizeFromDataDictionary, false},
        {"dcmReadImplPrivAttribMaxLengthAsSQ", &dcmReadImplPrivAttribMaxLengthAsSQ, false},
        {"dcmIgnoreParsingErrors", &dcmIgnoreParsingErrors, false},
        {"dcmIgnoreFileMetaInformationGroupLength", &dcmIgnoreFileMetaInformationGroupLength, false},
        {"dcmReplaceWrongDelimitationItem", &dcmReplaceWrongDelimitationItem, false},
        {"dcmConvertUndefinedLengthOBOWtoSQ", &dcmConvertUndefinedLengthOBOWtoSQ, false},
        {"dcmConvertVOILUTSequenceOWtoSQ", &dcmConvertVOILUTSequenceOWtoSQ, false},
        {"dcmZlibExpectRFC1950Encoding", &dcmZlibExpectRFC1950Encoding, false},
        {"dcmAcceptOddAttributeLength", &dcmAcceptOddAttributeLength, true},
    };
    std::string changed;
    for (const Setting &x : settings)
        if (bool(x.value->get()) != x.expected) changed += (changed.empty() ? "" : ", ") + std::string(x.name);
    return changed;
}

}  // namespace

namespace cdcm::limits_detail {

const Tables *g_tables = nullptr;  /* set once by tables(); read on the hot path after that */

const Tables &tables() {
    static std::once_flag once;
    std::call_once(once, [] {
        Tables *n = new Tables;
        for (unsigned i = 0; i < 65536; i++) {
            const char name[3] = {char(i & 0xFF), char(i >> 8), 0};
            DcmVR vr(name);
            const DcmEVR evr = vr.getEVR();
            uint8_t c;
            if (evr == EVR_SQ) c = VC_SQ;
            else if (evr == EVR_UN || evr == EVR_UNKNOWN) c = VC_UN;
            else if (evr == EVR_UNKNOWN2B) c = VC_SHORT_BULK;
            else if (evr == EVR_OB || evr == EVR_OW) c = VC_OBOW;
            else if (!vr.isStandard()) c = VC_REFUSE;
            else if (evr == EVR_OF || evr == EVR_OD || evr == EVR_OL || evr == EVR_OV) c = VC_LONG_BULK;
            else c = vr.usesExtendedLengthEncoding() ? VC_LONG : VC_SHORT;
            if (vr.usesExtendedLengthEncoding()) c |= kVcExtended;
            n->vr[i] = c;
        }
        DcmDataDictionary &dict = const_cast<DcmDataDictionary &>(dcmDataDict.rdlock());
        auto visit = [n](const DcmDictEntry *e) {
            if (e == nullptr) return;
            const char *creator = e->getPrivateCreator();
            if (creator != nullptr && e->getEVR() == EVR_SQ) n->creators.emplace_back(creator);
            if (creator == nullptr && e->getEVR() == EVR_na &&
                !(e->getGroup() == 0xFFFE && e->getUpperGroup() == 0xFFFE &&
                  (e->getElement() == 0xE000 || e->getElement() == 0xE00D || e->getElement() == 0xE0DD) &&
                  e->getUpperElement() == e->getElement()))
                n->na_elsewhere = true;
        };
        for (DcmHashDictIterator it = dict.normalBegin(); it != dict.normalEnd(); ++it) visit(*it);
        for (DcmDictEntryListIterator it = dict.repeatingBegin(); it != dict.repeatingEnd(); ++it) visit(*it);
        dcmDataDict.rdunlock();
        std::sort(n->creators.begin(), n->creators.end());
        n->creators.erase(std::unique(n->creators.begin(), n->creators.end()), n->creators.end());
        for (const std::string &c : n->creators) n->max_creator_length = std::max(n->max_creator_length, c.size());
        n->changed_settings = changed_parser_settings();
        g_tables = n;
    });
    return *g_tables;
}

}  // namespace cdcm::limits_detail

namespace {

/* Dictionary look-ups are on the path of every Implicit VR element: a process-wide, lock-free memo in
 * front of DCMTK's own findEntry (so the answer is always DCMTK's). An entry packs the tag, the
 * creator's index (0 = none) and the class; when its probes are taken, the look-up is just not kept. */
constexpr unsigned kMemoBits = 13;
std::atomic<uint64_t> g_memo[1u << kMemoBits];

/* DCMTK's VR for the tag (0 when a creator is given but has no entry for it: DCMTK then keeps the
 * VR it found without the creator). */
uint8_t lookup_class(uint32_t tag, uint16_t creator) {
    const char *pc = creator ? g_tables->creators[creator - 1].c_str() : nullptr;
    const DcmDataDictionary &dict = dcmDataDict.rdlock();
    const DcmDictEntry *e = dict.findEntry(DcmTagKey(uint16_t(tag >> 16), uint16_t(tag & 0xFFFF)), pc);
    const DcmEVR evr = e ? e->getEVR() : EVR_UNKNOWN;
    dcmDataDict.rdunlock();
    if (e == nullptr && creator != 0) return 0;
    return class_of(evr);
}

DictClass memo_class(uint32_t tag, uint16_t creator) {
    const uint64_t key = uint64_t(creator) << 32 | tag;
    uint32_t h = (tag * 0x9E3779B1u) ^ (uint32_t(creator) * 0x85EBCA6Bu);
    h ^= h >> 15;
    for (unsigned probe = 0; probe < 8; probe++) {
        std::atomic<uint64_t> &slot = g_memo[(h + probe) & ((1u << kMemoBits) - 1)];
        uint64_t v = slot.load(std::memory_order_relaxed);
        if (v == 0) {
            uint8_t found = lookup_class(tag, creator);
            const DictClass c = found ? DictClass(found) : memo_class(tag, 0);
            uint64_t expected = 0;
            slot.compare_exchange_strong(expected, key | uint64_t(c) << 56, std::memory_order_relaxed);
            return c;
        }
        if ((v & 0x00FFFFFFFFFFFFFFull) == key) return DictClass(v >> 56);
    }
    const uint8_t found = lookup_class(tag, creator);
    return found ? DictClass(found) : memo_class(tag, 0);
}

}  // namespace

namespace cdcm::limits_detail {

DictClass dict_class(uint32_t tag, uint16_t creator) {
    return memo_class(tag, creator);
}

Detected detect_encoding(const uint8_t b[6]) {
    const uint16_t t1 = uint16_t(b[0] | b[1] << 8), t2 = uint16_t(b[2] | b[3] << 8);
    const bool little = DcmTag(t1, t2).error().good();
    const bool big = DcmTag(uint16_t(t1 >> 8 | t1 << 8), uint16_t(t2 >> 8 | t2 << 8)).error().good();
    bool vr = false;
    if (isalpha(b[4]) && isalpha(b[5])) {
        const char name[3] = {char(b[4]), char(b[5]), 0};
        vr = DcmVR(name).isStandard();
    }
    const uint16_t big_group = uint16_t(t1 >> 8 | t1 << 8);
    if (!little && !big) return vr ? Detected::ExplicitLittle : Detected::ImplicitLittle;
    const bool prefer_big = little && big && t1 > 0xFF && big_group <= 0xFF;
    if (vr) return (!little || prefer_big) ? Detected::ExplicitBig : Detected::ExplicitLittle;
    return (!little || prefer_big) ? Detected::ImplicitBig : Detected::ImplicitLittle;
}

}  // namespace cdcm::limits_detail

namespace cdcm {

DatasetEncoding encoding_for_transfer_syntax(const char *uid) {
    if (uid == nullptr || *uid == '\0') return DatasetEncoding::Detect;
    DcmXfer xfer(uid);
    if (xfer.getXfer() == EXS_Unknown) return DatasetEncoding::Detect;
    const E_StreamCompression sc = xfer.getStreamCompression();
    if (sc == ESC_zlib)
        return xfer.isExplicitVR() && xfer.isLittleEndian() ? DatasetEncoding::DeflatedExplicitLittle
                                                            : DatasetEncoding::Unsupported;
    if (sc != ESC_none) return DatasetEncoding::Unsupported;
    if (xfer.isImplicitVR()) return xfer.isLittleEndian() ? DatasetEncoding::ImplicitLittle : DatasetEncoding::Unsupported;
    return xfer.isLittleEndian() ? DatasetEncoding::ExplicitLittle : DatasetEncoding::ExplicitBig;
}

}  // namespace cdcm
