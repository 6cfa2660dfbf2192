/* The dataset handle: load, read and write top-level string attributes (and strings in items of
   top-level sequences), save, probe files. */
#include "cdcm_internal.h"

#include <cstring>

using cdcm::copy_string;

extern "C" cdcm_dataset *cdcm_dataset_new(void) {
    try {
        return new cdcm_dataset();
    } catch (...) {
        return nullptr;
    }
}

extern "C" void cdcm_dataset_free(cdcm_dataset *ds) { delete ds; }

extern "C" cdcm_dataset *cdcm_dataset_load(const char *path, int stop_before_pixel_data, cdcm_status *st) {
    cdcm::status_clear(st);
    if (path == nullptr) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "no file path");
        return nullptr;
    }
    try {
        cdcm_dataset *ds = new cdcm_dataset();
        // Values longer than 4 KB (pixel data, large blobs) stay on disk and are read only on demand.
        OFCondition cond = ds->file.loadFile(path, EXS_Unknown, EGL_noChange,
                                             stop_before_pixel_data ? 4096 : DCM_MaxReadLength, ERM_autoDetect);
        if (cond.good() && !stop_before_pixel_data) ds->file.loadAllDataIntoMemory();
        if (cond.good() && stop_before_pixel_data) {
            // For reading attributes: text in any Specific Character Set comes out as UTF-8.
            // Best effort: a value that cannot be converted is left as it was.
            const char *charset = nullptr;
            if (ds->dataset()->findAndGetString(DCM_SpecificCharacterSet, charset).good() && charset != nullptr &&
                *charset != '\0' && strcmp(charset, "ISO_IR 192") != 0) {
                ds->dataset()->convertToUTF8();
            }
        }
        if (cond.bad()) {
            cdcm::status_from_condition(st, cond, std::string("cannot read DICOM file ") + path);
            st->kind = CDCM_ERR_FILE;
            delete ds;
            return nullptr;
        }
        return ds;
    } catch (...) {
        cdcm::status_from_exception(st, "cdcm_dataset_load");
        return nullptr;
    }
}

static DcmItem *item_for_tag(const cdcm_dataset *ds, uint32_t tag) {
    cdcm_dataset *m = const_cast<cdcm_dataset *>(ds);
    if ((tag >> 16) == 0x0002) return m->file.getMetaInfo();
    return m->dataset();
}

extern "C" long cdcm_dataset_get_string(const cdcm_dataset *ds, uint32_t tag, char *buf, size_t buf_len) {
    if (ds == nullptr) return -1;
    try {
        DcmElement *elem = nullptr;
        DcmTagKey key(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag & 0xFFFF));
        if (item_for_tag(ds, tag)->findAndGetElement(key, elem, OFFalse).bad()) return -1;
        return cdcm::element_string(elem, buf, buf_len);
    } catch (...) {
        return -1;
    }
}

extern "C" int cdcm_dataset_put_string(cdcm_dataset *ds, uint32_t tag, const char *value, cdcm_status *st) {
    cdcm::status_clear(st);
    if (ds == nullptr || value == nullptr) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "no dataset or value");
        return -1;
    }
    try {
        DcmTag dtag(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag & 0xFFFF));
        OFCondition cond = item_for_tag(ds, tag)->putAndInsertString(dtag, value, OFTrue);
        if (cond.bad()) {
            char name[16];
            snprintf(name, sizeof(name), "(%04X,%04X)", tag >> 16, tag & 0xFFFF);
            cdcm::status_from_condition(st, cond, std::string("cannot set ") + name);
            return -1;
        }
        return 0;
    } catch (...) {
        cdcm::status_from_exception(st, "cdcm_dataset_put_string");
        return -1;
    }
}

extern "C" int cdcm_dataset_remove(cdcm_dataset *ds, uint32_t tag) {
    if (ds == nullptr) return 0;
    try {
        DcmTagKey key(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag & 0xFFFF));
        DcmElement *removed = item_for_tag(ds, tag)->remove(key);
        if (removed == nullptr) return 0;
        delete removed;
        return 1;
    } catch (...) {
        return 0;
    }
}

extern "C" size_t cdcm_dataset_count(const cdcm_dataset *ds) {
    if (ds == nullptr) return 0;
    return const_cast<cdcm_dataset *>(ds)->dataset()->card();
}

extern "C" long cdcm_dataset_element_at(const cdcm_dataset *ds, size_t index, uint32_t *tag, char vr[3],
                                        char *buf, size_t buf_len) {
    if (ds == nullptr) return -1;
    try {
        DcmDataset *d = const_cast<cdcm_dataset *>(ds)->dataset();
        if (index >= d->card()) return -1;
        DcmElement *elem = d->getElement(static_cast<unsigned long>(index));
        if (elem == nullptr) return -1;
        if (tag) *tag = (static_cast<uint32_t>(elem->getGTag()) << 16) | elem->getETag();
        if (vr) copy_string(vr, 3, DcmVR(elem->ident()).getVRName());
        return cdcm::element_string(elem, buf, buf_len);
    } catch (...) {
        return -1;
    }
}

static DcmSequenceOfItems *top_level_sequence(const cdcm_dataset *ds, uint32_t seq_tag) {
    DcmSequenceOfItems *seq = nullptr;
    DcmTagKey key(static_cast<Uint16>(seq_tag >> 16), static_cast<Uint16>(seq_tag & 0xFFFF));
    if (const_cast<cdcm_dataset *>(ds)->dataset()->findAndGetSequence(key, seq, OFFalse).bad()) return nullptr;
    return seq;
}

extern "C" size_t cdcm_dataset_item_count(const cdcm_dataset *ds, uint32_t seq_tag) {
    if (ds == nullptr) return 0;
    try {
        DcmSequenceOfItems *seq = top_level_sequence(ds, seq_tag);
        return seq == nullptr ? 0 : static_cast<size_t>(seq->card());
    } catch (...) {
        return 0;
    }
}

extern "C" long cdcm_dataset_item_get_string(const cdcm_dataset *ds, uint32_t seq_tag, size_t item, uint32_t tag,
                                             char *buf, size_t buf_len) {
    if (ds == nullptr) return -1;
    try {
        DcmSequenceOfItems *seq = top_level_sequence(ds, seq_tag);
        if (seq == nullptr || item >= seq->card()) return -1;
        DcmItem *entry = seq->getItem(static_cast<unsigned long>(item));
        DcmElement *elem = nullptr;
        DcmTagKey key(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag & 0xFFFF));
        if (entry == nullptr || entry->findAndGetElement(key, elem, OFFalse).bad()) return -1;
        return cdcm::element_string(elem, buf, buf_len);
    } catch (...) {
        return -1;
    }
}

extern "C" int cdcm_dataset_save(cdcm_dataset *ds, const char *path, const char *transfer_syntax, cdcm_status *st) {
    cdcm::status_clear(st);
    if (ds == nullptr || path == nullptr) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "no dataset or path");
        return -1;
    }
    try {
        E_TransferSyntax xfer = EXS_Unknown;
        if (transfer_syntax != nullptr && *transfer_syntax != '\0') {
            DcmXfer x(transfer_syntax);
            xfer = x.getXfer();
            if (xfer == EXS_Unknown) {
                cdcm::status_set(st, CDCM_ERR_INVALID, std::string("unknown transfer syntax ") + transfer_syntax);
                return -1;
            }
        } else {
            xfer = ds->dataset()->getOriginalXfer();
            if (xfer == EXS_Unknown) xfer = EXS_LittleEndianExplicit;
        }
        OFCondition cond = ds->file.saveFile(path, xfer);
        if (cond.bad()) {
            cdcm::status_from_condition(st, cond, std::string("cannot write ") + path);
            st->kind = CDCM_ERR_FILE;
            return -1;
        }
        return 0;
    } catch (...) {
        cdcm::status_from_exception(st, "cdcm_dataset_save");
        return -1;
    }
}

static void copy_uid(DcmItem *item, const DcmTagKey &key, char *dst, size_t len) {
    const char *value = nullptr;
    if (item != nullptr && item->findAndGetString(key, value).good() && value != nullptr)
        copy_string(dst, len, value);
}

extern "C" int cdcm_file_probe(const char *path, cdcm_file_info *info, cdcm_status *st) {
    cdcm::status_clear(st);
    if (info == nullptr) return -1;
    memset(info, 0, sizeof(*info));
    cdcm_dataset *ds = cdcm_dataset_load(path, 1, st);
    if (ds == nullptr) return -1;
    try {
        DcmMetaInfo *meta = ds->file.getMetaInfo();
        DcmDataset *data = ds->dataset();
        copy_uid(meta, DCM_MediaStorageSOPClassUID, info->sop_class_uid, sizeof(info->sop_class_uid));
        copy_uid(meta, DCM_MediaStorageSOPInstanceUID, info->sop_instance_uid, sizeof(info->sop_instance_uid));
        copy_uid(meta, DCM_TransferSyntaxUID, info->transfer_syntax_uid, sizeof(info->transfer_syntax_uid));
        if (info->sop_class_uid[0] == '\0') copy_uid(data, DCM_SOPClassUID, info->sop_class_uid, sizeof(info->sop_class_uid));
        if (info->sop_instance_uid[0] == '\0')
            copy_uid(data, DCM_SOPInstanceUID, info->sop_instance_uid, sizeof(info->sop_instance_uid));
        if (info->transfer_syntax_uid[0] == '\0') {
            DcmXfer x(data->getOriginalXfer());
            copy_string(info->transfer_syntax_uid, sizeof(info->transfer_syntax_uid), x.getXferID());
        }
        copy_uid(data, DCM_StudyInstanceUID, info->study_instance_uid, sizeof(info->study_instance_uid));
        copy_uid(data, DCM_SeriesInstanceUID, info->series_instance_uid, sizeof(info->series_instance_uid));
        cdcm_dataset_free(ds);
        if (info->sop_class_uid[0] == '\0' || info->sop_instance_uid[0] == '\0') {
            cdcm::status_set(st, CDCM_ERR_FILE, std::string(path) + " has no SOP Class UID or SOP Instance UID");
            return -1;
        }
        return 0;
    } catch (...) {
        cdcm_dataset_free(ds);
        cdcm::status_from_exception(st, "cdcm_file_probe");
        return -1;
    }
}

namespace {

/* True when a sequence only asks for return values: no items, or items whose elements are all
 * empty (nested sequences likewise). Bounded by the nesting the input limits allowed in. */
bool sequence_is_return_key(DcmSequenceOfItems *seq, int depth) {
    if (depth > 256) return false;
    for (unsigned long i = 0; i < seq->card(); i++) {
        DcmItem *item = seq->getItem(i);
        if (item == nullptr) continue;
        for (unsigned long e = 0; e < item->card(); e++) {
            DcmElement *elem = item->getElement(e);
            if (elem == nullptr) continue;
            if (elem->ident() == EVR_SQ) {
                if (!sequence_is_return_key(static_cast<DcmSequenceOfItems *>(elem), depth + 1)) return false;
            } else if (elem->getLengthField() > 0) {
                return false;
            }
        }
    }
    return true;
}

}  // namespace

extern "C" long cdcm_dataset_query_key_at(const cdcm_dataset *ds, size_t index, uint32_t *tag, char *buf, size_t buf_len) {
    if (ds == nullptr) return -1;
    try {
        DcmDataset *d = const_cast<cdcm_dataset *>(ds)->dataset();
        if (index >= d->card()) return -1;
        DcmElement *elem = d->getElement(static_cast<unsigned long>(index));
        if (elem == nullptr) return -1;
        if (tag) *tag = (static_cast<uint32_t>(elem->getGTag()) << 16) | elem->getETag();
        if (elem->ident() == EVR_SQ) {
            return sequence_is_return_key(static_cast<DcmSequenceOfItems *>(elem), 0) ? -2 : -4;
        }
        long n = cdcm::element_string(elem, nullptr, 0);
        if (n == -2) {
            // Binary or over the attribute-read cutoff: empty is a return key, a value is not matchable here.
            if (elem->getLengthField() == 0) return -2;
            switch (elem->ident()) {
            case EVR_OB: case EVR_OW: case EVR_OF: case EVR_OD: case EVR_OL: case EVR_OV: case EVR_UN:
                return -5;
            default:
                break;
            }
            OFString raw;
            if (elem->getOFStringArray(raw, OFFalse).bad()) return -5;
            OFString value = cdcm::normalize_components(raw, elem->ident());
            copy_string(buf, buf_len, value.c_str());
            return static_cast<long>(value.length());
        }
        return cdcm::element_string(elem, buf, buf_len);
    } catch (...) {
        return -1;
    }
}
