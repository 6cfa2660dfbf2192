/* DICOMweb: a stored file's data set as DICOM JSON with BulkDataURIs, and bulk data values. */
#include "cdcm_web_internal.h"

#include "dcmtk/dcmdata/dcfcache.h"
#include "dcmtk/dcmdata/dcjson.h"

#include <cstdlib>
#include <cstring>
#include <sstream>

extern "C" void cdcm_buffer_free(cdcm_buffer *buffer) {
    if (buffer == nullptr) return;
    free(buffer->data);
    buffer->data = nullptr;
    buffer->length = 0;
}

namespace cdcm {

bool load_file(DcmFileFormat &file, const char *path, Uint32 max_read, cdcm_status *st) {
    OFCondition cond = file.loadFile(path, EXS_Unknown, EGL_noChange, max_read, ERM_autoDetect);
    if (cond.good()) return true;
    status_from_condition(st, cond, std::string("cannot read DICOM file ") + path);
    st->kind = CDCM_ERR_FILE;
    return false;
}

bool buffer_set(cdcm_buffer *out, const void *bytes, size_t length) {
    out->data = static_cast<uint8_t *>(malloc(length > 0 ? length : 1));
    if (out->data == nullptr) return false;
    if (length > 0) memcpy(out->data, bytes, length);
    out->length = length;
    return true;
}

bool is_binary_vr(DcmEVR vr) {
    switch (vr) {
    case EVR_OB: case EVR_OW: case EVR_OF: case EVR_OD: case EVR_OL: case EVR_OV: case EVR_UN:
    case EVR_ox: case EVR_px: case EVR_pixelSQ: case EVR_PixelData: case EVR_OverlayData:
        return true;
    default:
        return false;
    }
}

std::string tag_hex(const DcmTagKey &key) {
    char text[9];
    snprintf(text, sizeof(text), "%04X%04X", key.getGroup(), key.getElement());
    return text;
}

}  // namespace cdcm

namespace {

/* Compact JSON whose top-level large binary values become BulkDataURIs. DCMTK asks the format
 * with the tag only, so the caller says, before writing each top-level element, whether it is one. */
class WebJsonFormat : public DcmJsonFormatCompact {
public:
    explicit WebJsonFormat(std::string instance_url) : DcmJsonFormatCompact(OFFalse), url_(std::move(instance_url)) {}

    void current(const DcmTagKey &tag, bool bulk) {
        current_ = tag;
        bulk_ = bulk;
    }

    OFBool asBulkDataURI(const DcmTagKey &tag, OFString &uri) override {
        if (!bulk_ || tag != current_) return OFFalse;
        uri = (url_ + "/bulkdata/" + cdcm::tag_hex(tag)).c_str();
        return OFTrue;
    }

private:
    std::string url_;
    DcmTagKey current_;
    bool bulk_ = false;
};

}  // namespace

extern "C" int cdcm_web_metadata(const char *path, const char *instance_url, uint32_t inline_limit, cdcm_buffer *out,
                                 cdcm_status *st) {
    cdcm::status_clear(st);
    if (path == nullptr || instance_url == nullptr || out == nullptr) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "no file, URL or output");
        return CDCM_WEB_FAILED;
    }
    try {
        DcmFileFormat file;
        // Values over 4 KB stay on disk: those above inline_limit are never read at all.
        if (!cdcm::load_file(file, path, 4096, st)) return CDCM_WEB_FAILED;
        DcmDataset *ds = file.getDataset();
        const char *charset = nullptr;
        if (ds->findAndGetString(DCM_SpecificCharacterSet, charset).good() && charset != nullptr && *charset != '\0' &&
            strcmp(charset, "ISO_IR 192") != 0) {
            ds->convertToUTF8();  // JSON is UTF-8; best effort, as for the index
        }
        WebJsonFormat format(instance_url);
        std::ostringstream json;
        json << "{";
        bool first = true;
        for (unsigned long i = 0; i < ds->card(); ++i) {
            DcmElement *elem = ds->getElement(i);
            if (elem == nullptr || elem->getETag() == 0x0000) continue;  // no group lengths in DICOM JSON
            const DcmEVR vr = elem->ident();
            const bool bulk = elem->getTag() == DCM_PixelData ||
                              (cdcm::is_binary_vr(vr) && elem->getLength() > inline_limit);
            format.current(elem->getTag(), bulk);
            if (!first) json << ",";
            first = false;
            OFCondition cond = elem->writeJson(json, format);
            if (cond.bad()) {
                cdcm::status_from_condition(st, cond, "cannot write " + cdcm::tag_hex(elem->getTag()) + " as JSON");
                return CDCM_WEB_FAILED;
            }
        }
        json << "}";
        const std::string text = json.str();
        if (!cdcm::buffer_set(out, text.data(), text.size())) {
            cdcm::status_set(st, CDCM_ERR_INTERNAL, "out of memory");
            return CDCM_WEB_FAILED;
        }
        return CDCM_WEB_OK;
    } catch (...) {
        cdcm::status_from_exception(st, "cdcm_web_metadata");
        return CDCM_WEB_FAILED;
    }
}

extern "C" int cdcm_web_bulkdata(const char *path, uint32_t tag, cdcm_buffer *out, char transfer_syntax[65],
                                 cdcm_status *st) {
    cdcm::status_clear(st);
    if (path == nullptr || out == nullptr) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "no file or output");
        return CDCM_WEB_FAILED;
    }
    try {
        DcmFileFormat file;
        if (!cdcm::load_file(file, path, 4096, st)) return CDCM_WEB_FAILED;
        DcmDataset *ds = file.getDataset();
        const DcmTagKey key(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag & 0xFFFF));
        DcmElement *elem = nullptr;
        if (ds->findAndGetElement(key, elem, OFFalse).bad() || elem == nullptr || !cdcm::is_binary_vr(elem->ident())) {
            cdcm::status_set(st, CDCM_ERR_INVALID, "no binary attribute " + cdcm::tag_hex(key) + " in the file");
            return CDCM_WEB_NOT_FOUND;
        }
        const E_TransferSyntax xfer = ds->getOriginalXfer();
        if (key == DCM_PixelData && DcmXfer(xfer).isEncapsulated()) {
            std::string bytes;
            int r = cdcm::encapsulated_all(ds, xfer, bytes, st);
            if (r != CDCM_WEB_OK) return r;
            cdcm::copy_string(transfer_syntax, 65, DcmXfer(xfer).getXferID());
            if (!cdcm::buffer_set(out, bytes.data(), bytes.size())) return CDCM_WEB_FAILED;
            return CDCM_WEB_OK;
        }
        const Uint32 length = elem->getLength();
        out->data = static_cast<uint8_t *>(malloc(length > 0 ? length : 1));
        if (out->data == nullptr) {
            cdcm::status_set(st, CDCM_ERR_INTERNAL, "out of memory");
            return CDCM_WEB_FAILED;
        }
        out->length = length;
        if (length > 0) {
            DcmFileCache cache;
            OFCondition cond = elem->getPartialValue(out->data, 0, length, &cache, EBO_LittleEndian);
            if (cond.bad()) {
                cdcm_buffer_free(out);
                cdcm::status_from_condition(st, cond, "cannot read " + cdcm::tag_hex(key));
                return CDCM_WEB_FAILED;
            }
        }
        cdcm::copy_string(transfer_syntax, 65, cdcm::native_xfer_id(xfer));
        return CDCM_WEB_OK;
    } catch (...) {
        cdcm::status_from_exception(st, "cdcm_web_bulkdata");
        return CDCM_WEB_FAILED;
    }
}
