/* DICOMweb: frames of a stored file's pixel data (native slices or encapsulated fragments), and
 * transcoding a file to another transfer syntax with DCMTK's codecs. */
#include "cdcm_web_internal.h"

#include "dcmtk/dcmdata/dccodec.h"
#include "dcmtk/dcmdata/dcfcache.h"
#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcpxitem.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmdata/dcrleerg.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpeg/djencode.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/dcmjpls/djencode.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace cdcm {

void register_codecs() {
    static std::once_flag once;
    std::call_once(once, [] {
        DJDecoderRegistration::registerCodecs();
        DJEncoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DJLSEncoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
        DcmRLEEncoderRegistration::registerCodecs();
    });
}

const char *native_xfer_id(E_TransferSyntax xfer) {
    return xfer == EXS_LittleEndianImplicit ? UID_LittleEndianImplicitTransferSyntax
                                            : UID_LittleEndianExplicitTransferSyntax;
}

static DcmPixelSequence *pixel_sequence(DcmDataset *ds, E_TransferSyntax xfer, cdcm_status *st) {
    DcmElement *elem = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, elem, OFFalse).bad() || elem == nullptr) {
        status_set(st, CDCM_ERR_INVALID, "the file has no pixel data");
        return nullptr;
    }
    DcmPixelData *pixels = OFstatic_cast(DcmPixelData *, elem);
    E_TransferSyntax rep = xfer;
    const DcmRepresentationParameter *param = nullptr;
    pixels->getOriginalRepresentationKey(rep, param);
    DcmPixelSequence *seq = nullptr;
    if (pixels->getEncapsulatedRepresentation(xfer, param, seq).bad() || seq == nullptr) {
        status_set(st, CDCM_ERR_FILE, "the encapsulated pixel data cannot be read");
        return nullptr;
    }
    return seq;
}

static bool append_fragment(DcmPixelSequence *seq, unsigned long index, std::string &bytes) {
    DcmPixelItem *item = nullptr;
    if (seq->getItem(item, index).bad() || item == nullptr) return false;
    const Uint32 length = item->getLength();
    if (length == 0) return true;
    Uint8 *data = nullptr;
    if (item->getUint8Array(data).bad() || data == nullptr) return false;
    bytes.append(reinterpret_cast<const char *>(data), length);
    return true;
}

int encapsulated_all(DcmDataset *ds, E_TransferSyntax xfer, std::string &bytes, cdcm_status *st) {
    DcmPixelSequence *seq = pixel_sequence(ds, xfer, st);
    if (seq == nullptr) return CDCM_WEB_NOT_FOUND;
    for (unsigned long i = 1; i < seq->card(); ++i) {
        if (!append_fragment(seq, i, bytes)) {
            status_set(st, CDCM_ERR_FILE, "a pixel data fragment cannot be read");
            return CDCM_WEB_FAILED;
        }
    }
    return CDCM_WEB_OK;
}

}  // namespace cdcm

namespace {

/* First fragment index (1-based, item 0 being the offset table) of each frame, plus one past the
 * last fragment at the end; empty when the boundaries cannot be found. */
std::vector<unsigned long> frame_starts(DcmPixelSequence *seq, Uint32 frames) {
    const unsigned long fragments = seq->card() > 0 ? seq->card() - 1 : 0;
    std::vector<unsigned long> starts;
    if (fragments == 0) return starts;
    if (frames == 1) return {1, fragments + 1};
    if (fragments == frames) {
        for (unsigned long i = 1; i <= fragments + 1; ++i) starts.push_back(i);
        return starts;
    }
    DcmPixelItem *table = nullptr;
    if (seq->getItem(table, 0).good() && table != nullptr && table->getLength() == frames * 4) {
        Uint8 *raw = nullptr;
        if (table->getUint8Array(raw).good() && raw != nullptr) {
            // Byte offsets of each frame's first fragment, from the first fragment's item tag.
            std::vector<Uint32> offsets(frames);
            for (Uint32 f = 0; f < frames; ++f)
                offsets[f] = raw[4 * f] | (raw[4 * f + 1] << 8) | (raw[4 * f + 2] << 16) | (Uint32(raw[4 * f + 3]) << 24);
            Uint32 position = 0;
            Uint32 f = 0;
            for (unsigned long i = 1; i <= fragments && f < frames; ++i) {
                if (position == offsets[f]) {
                    starts.push_back(i);
                    ++f;
                }
                DcmPixelItem *item = nullptr;
                if (seq->getItem(item, i).bad() || item == nullptr) return {};
                position += 8 + item->getLength();
            }
            if (f != frames) return {};
            starts.push_back(fragments + 1);
            return starts;
        }
    }
    for (Uint32 f = 0; f < frames; ++f) {
        Uint32 start = 0;
        if (DcmCodec::determineStartFragment(f, static_cast<Sint32>(frames), seq, start).bad()) return {};
        starts.push_back(start);
    }
    starts.push_back(fragments + 1);
    return starts;
}

Uint32 number_of_frames(DcmDataset *ds) {
    Sint32 frames = 1;
    if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
    return static_cast<Uint32>(frames);
}

void free_all(cdcm_buffer *outs, size_t count) {
    for (size_t i = 0; i < count; ++i) cdcm_buffer_free(&outs[i]);
}

int native_frames(DcmDataset *ds, E_TransferSyntax xfer, const uint32_t *numbers, size_t count, cdcm_buffer *outs,
                  cdcm_status *st) {
    Uint16 rows = 0, columns = 0, samples = 1, bits = 0;
    ds->findAndGetUint16(DCM_Rows, rows);
    ds->findAndGetUint16(DCM_Columns, columns);
    ds->findAndGetUint16(DCM_SamplesPerPixel, samples);
    ds->findAndGetUint16(DCM_BitsAllocated, bits);
    if (bits == 0 || bits % 8 != 0) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "frames of pixel data with Bits Allocated " + std::to_string(bits) +
                                                   " are not served");
        return CDCM_WEB_NOT_POSSIBLE;
    }
    DcmElement *elem = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, elem, OFFalse).bad() || elem == nullptr) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "the file has no pixel data");
        return CDCM_WEB_NOT_FOUND;
    }
    const unsigned long long frame_size = 1ULL * rows * columns * samples * (bits / 8);
    DcmFileCache cache;
    for (size_t i = 0; i < count; ++i) {
        const unsigned long long offset = (numbers[i] - 1ULL) * frame_size;
        if (frame_size == 0 || offset + frame_size > elem->getLength()) {
            free_all(outs, i);
            cdcm::status_set(st, CDCM_ERR_INVALID, "frame " + std::to_string(numbers[i]) + " is beyond the pixel data");
            return CDCM_WEB_NOT_FOUND;
        }
        outs[i].data = static_cast<uint8_t *>(malloc(frame_size));
        outs[i].length = frame_size;
        OFCondition cond = outs[i].data == nullptr ? EC_MemoryExhausted
                                                   : elem->getPartialValue(outs[i].data, static_cast<Uint32>(offset),
                                                                           static_cast<Uint32>(frame_size), &cache,
                                                                           EBO_LittleEndian);
        if (cond.bad()) {
            free_all(outs, i + 1);
            cdcm::status_from_condition(st, cond, "cannot read frame " + std::to_string(numbers[i]));
            return CDCM_WEB_FAILED;
        }
    }
    (void)xfer;
    return CDCM_WEB_OK;
}

int encapsulated_frames(DcmDataset *ds, E_TransferSyntax xfer, const uint32_t *numbers, size_t count,
                        cdcm_buffer *outs, cdcm_status *st) {
    DcmPixelSequence *seq = cdcm::pixel_sequence(ds, xfer, st);
    if (seq == nullptr) return CDCM_WEB_NOT_FOUND;
    const Uint32 frames = number_of_frames(ds);
    const std::vector<unsigned long> starts = frame_starts(seq, frames);
    if (starts.size() != frames + 1) {
        cdcm::status_set(st, CDCM_ERR_FILE, "the fragments of each frame cannot be told apart");
        return CDCM_WEB_NOT_POSSIBLE;
    }
    for (size_t i = 0; i < count; ++i) {
        std::string bytes;
        bool ok = true;
        for (unsigned long f = starts[numbers[i] - 1]; ok && f < starts[numbers[i]]; ++f) ok = cdcm::append_fragment(seq, f, bytes);
        if (!ok || !cdcm::buffer_set(&outs[i], bytes.data(), bytes.size())) {
            free_all(outs, i);
            cdcm::status_set(st, CDCM_ERR_FILE, "frame " + std::to_string(numbers[i]) + " cannot be read");
            return CDCM_WEB_FAILED;
        }
    }
    return CDCM_WEB_OK;
}

}  // namespace

extern "C" int cdcm_web_frames(const char *path, const uint32_t *numbers, size_t count, const char *want_ts,
                               cdcm_buffer *outs, char transfer_syntax[65], cdcm_status *st) {
    cdcm::status_clear(st);
    if (path == nullptr || numbers == nullptr || outs == nullptr || count == 0) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "no file or frame numbers");
        return CDCM_WEB_FAILED;
    }
    try {
        for (size_t i = 0; i < count; ++i) outs[i] = cdcm_buffer{nullptr, 0};
        const bool as_stored = want_ts == nullptr || *want_ts == '\0' || strcmp(want_ts, "*") == 0;
        DcmFileFormat file;
        if (!cdcm::load_file(file, path, as_stored ? 4096 : DCM_MaxReadLength, st)) return CDCM_WEB_FAILED;
        DcmDataset *ds = file.getDataset();
        E_TransferSyntax xfer = ds->getOriginalXfer();
        const Uint32 frames = number_of_frames(ds);
        for (size_t i = 0; i < count; ++i) {
            if (numbers[i] < 1 || numbers[i] > frames) {
                cdcm::status_set(st, CDCM_ERR_INVALID, "frame " + std::to_string(numbers[i]) + " is not in the instance (" +
                                                           std::to_string(frames) + " frames)");
                return CDCM_WEB_NOT_FOUND;
            }
        }
        if (!as_stored) {
            const DcmXfer want(want_ts);
            if (want.getXfer() == EXS_Unknown) {
                cdcm::status_set(st, CDCM_ERR_INVALID, std::string("unknown transfer syntax ") + want_ts);
                return CDCM_WEB_NOT_POSSIBLE;
            }
            if (want.getXfer() != xfer) {
                cdcm::register_codecs();
                if (ds->chooseRepresentation(want.getXfer(), nullptr).bad() || !ds->canWriteXfer(want.getXfer())) {
                    cdcm::status_set(st, CDCM_ERR_INVALID, std::string("cannot convert the pixel data from ") +
                                                               DcmXfer(xfer).getXferName() + " to " + want.getXferName());
                    return CDCM_WEB_NOT_POSSIBLE;
                }
                xfer = want.getXfer();
            }
        }
        int r;
        if (DcmXfer(xfer).isEncapsulated()) {
            r = encapsulated_frames(ds, xfer, numbers, count, outs, st);
            cdcm::copy_string(transfer_syntax, 65, DcmXfer(xfer).getXferID());
        } else {
            r = native_frames(ds, xfer, numbers, count, outs, st);
            cdcm::copy_string(transfer_syntax, 65, cdcm::native_xfer_id(xfer));
        }
        return r;
    } catch (...) {
        free_all(outs, count);
        cdcm::status_from_exception(st, "cdcm_web_frames");
        return CDCM_WEB_FAILED;
    }
}

extern "C" int cdcm_web_transcode(const char *path, const char *ts, const char *out_path, cdcm_status *st) {
    cdcm::status_clear(st);
    if (path == nullptr || ts == nullptr || out_path == nullptr) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "no file, transfer syntax or output");
        return CDCM_WEB_FAILED;
    }
    try {
        DcmFileFormat file;
        if (!cdcm::load_file(file, path, DCM_MaxReadLength, st)) return CDCM_WEB_FAILED;
        DcmDataset *ds = file.getDataset();
        const DcmXfer want(ts);
        if (want.getXfer() == EXS_Unknown) {
            cdcm::status_set(st, CDCM_ERR_INVALID, std::string("unknown transfer syntax ") + ts);
            return CDCM_WEB_NOT_POSSIBLE;
        }
        cdcm::register_codecs();
        if (ds->chooseRepresentation(want.getXfer(), nullptr).bad() || !ds->canWriteXfer(want.getXfer())) {
            cdcm::status_set(st, CDCM_ERR_INVALID, std::string("cannot convert from ") +
                                                       DcmXfer(ds->getOriginalXfer()).getXferName() + " to " +
                                                       want.getXferName());
            return CDCM_WEB_NOT_POSSIBLE;
        }
        OFCondition cond = file.saveFile(out_path, want.getXfer(), EET_ExplicitLength, EGL_noChange, EPD_noChange, 0, 0,
                             EWM_updateMeta);
        if (cond.bad()) {
            cdcm::status_from_condition(st, cond, std::string("cannot write ") + out_path);
            return CDCM_WEB_FAILED;
        }
        return CDCM_WEB_OK;
    } catch (...) {
        cdcm::status_from_exception(st, "cdcm_web_transcode");
        return CDCM_WEB_FAILED;
    }
}
