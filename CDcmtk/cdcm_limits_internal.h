/* What the data set scanner (cdcm_limits.cpp, cdcm_limits_structure.cpp) shares with the Part 10 file check and the C API
 * (cdcm_limits_file.cpp) and with DCMTK's tables (cdcm_limits_tables.cpp): byte readers, the VR
 * table, the dictionary classes and transfer syntax detection. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

/* A tag in messages: printf(TAGF, TAGA(tag)) prints (gggg,eeee). */
#define TAGF "(%04X,%04X)"
#define TAGA(t) unsigned((t) >> 16), unsigned((t) & 0xFFFF)

namespace cdcm::limits_detail {

constexpr uint64_t kUndefined = ~0ull;          /* end/limit of a frame without one */
constexpr uint32_t kUndefinedLength = 0xFFFFFFFFu;
constexpr uint32_t kItem = 0xFFFEE000u;
constexpr uint32_t kItemDelimitation = 0xFFFEE00Du;
constexpr uint32_t kSequenceDelimitation = 0xFFFEE0DDu;
constexpr uint32_t kPixelData = 0x7FE00010u;
constexpr size_t kMaxCreatorsPerItem = 64;

/* What a frame of the scanner's stack is, in messages. */
inline const char *frame_noun(bool fragments, bool item) {
    return fragments ? "encapsulated pixel data" : item ? "item of sequence" : "sequence";
}

/* What an element is, by the two VR bytes of Explicit VR (DCMTK's DcmVR decides). */
enum VrClass : uint8_t {
    VC_SHORT = 0,    /* 2-byte length, a value subject to max_value_length */
    VC_SHORT_BULK,   /* 2-byte length, an illegal VR DCMTK reads as bytes */
    VC_LONG,         /* 4-byte length: UC UR UT SV UV */
    VC_LONG_BULK,    /* OF OD OL OV */
    VC_OBOW,         /* undefined length = fragments */
    VC_UN,           /* UN or an unknown upper-case VR: undefined length = Implicit VR LE sequence */
    VC_SQ,
    VC_REFUSE,       /* a VR name DCMTK keeps for internal use ("ox", "na", "pi", ...) */
};
constexpr uint8_t kVcExtended = 0x80;  /* reserved field + 4-byte length */


inline uint16_t rd16(const uint8_t *p, bool big) {
    return big ? static_cast<uint16_t>(p[0] << 8 | p[1]) : static_cast<uint16_t>(p[1] << 8 | p[0]);
}
inline uint32_t rd32(const uint8_t *p, bool big) {
    return big ? (uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3])
               : (uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]);
}

/* DCMTK's data dictionary and VR table as the walk needs them, built once per process. */
struct Tables {
    uint8_t vr[65536];                 /* VrClass | kVcExtended, by first byte | second byte << 8 */
    std::vector<std::string> creators; /* sorted: private creators with a sequence in the dictionary */
    size_t max_creator_length = 0;
    bool na_elsewhere = false;         /* the dictionary gives VR "na" to tags other than items/delimiters */
    std::string changed_settings;      /* DCMTK parser settings not at the defaults the walk models */
};

const Tables &tables();
extern const Tables *g_tables;  /* set once by tables(); read on the hot path after that */

/* What an element is, by its VR in the data dictionary (Implicit VR). */
enum DictClass : uint8_t {
    DC_UNKNOWN = 1,  /* not in the dictionary, or UN: undefined length = a sequence (CP-246) */
    DC_SQ,
    DC_NA,           /* item and delimitation tags */
    DC_PX,           /* read as pixel data: undefined length = fragments */
    DC_BULK,         /* OB OW OF OD OL OV and DCMTK's internal bulk VRs */
    DC_STRING,       /* byte strings padded with spaces (a private creator can be one) */
    DC_UID,
    DC_OTHER,
};

/* The dictionary's class for the tag (with the private creator's index into Tables::creators, 1-based;
 * 0 = none), as DCMTK's findEntry answers it; tables() must have run. */
DictClass dict_class(uint32_t tag, uint16_t creator);

/* DCMTK's DcmItem::checkTransferSyntax: how it reads a data set whose transfer syntax it does not know. */
enum class Detected { ImplicitLittle, ExplicitLittle, ExplicitBig, ImplicitBig };

Detected detect_encoding(const uint8_t b[6]);

}  // namespace cdcm::limits_detail
