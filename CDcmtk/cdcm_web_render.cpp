/* DICOMweb: rendering one frame of a stored file to JPEG (dcmimgle/dcmimage, dcmjpeg's writer). */
#include "cdcm_web_internal.h"

#include "dcmtk/dcmimgle/dcmimage.h"
#include "dcmtk/dcmimage/diregist.h"  // color images (RGB, YBR, palette) for DicomImage
#include "dcmtk/dcmjpeg/dipijpeg.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

extern "C" int cdcm_web_render_jpeg(const char *path, uint32_t frame, uint32_t max_side, int quality, cdcm_buffer *out,
                                    cdcm_status *st) {
    cdcm::status_clear(st);
    if (path == nullptr || out == nullptr) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "no file or output");
        return CDCM_WEB_FAILED;
    }
    *out = cdcm_buffer{nullptr, 0};
    try {
        cdcm::register_codecs();
        DcmFileFormat file;
        if (!cdcm::load_file(file, path, 4096, st)) return CDCM_WEB_FAILED;
        DcmDataset *ds = file.getDataset();
        if (!ds->tagExists(DCM_PixelData)) {
            cdcm::status_set(st, CDCM_ERR_INVALID, "the instance has no pixel data to render");
            return CDCM_WEB_NOT_POSSIBLE;
        }
        Sint32 frames = 1;
        if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
        const Uint32 index = frame == 0 ? 0 : frame - 1;
        if (index >= static_cast<Uint32>(frames)) {
            cdcm::status_set(st, CDCM_ERR_INVALID, "frame " + std::to_string(frame) + " is not in the instance (" +
                                                       std::to_string(frames) + " frames)");
            return CDCM_WEB_NOT_FOUND;
        }
        DicomImage image(&file, ds->getOriginalXfer(), CIF_UsePartialAccessToPixelData, index, 1);
        if (image.getStatus() != EIS_Normal) {
            cdcm::status_set(st, CDCM_ERR_INVALID,
                             std::string("cannot render: ") + DicomImage::getString(image.getStatus()));
            return CDCM_WEB_NOT_POSSIBLE;
        }
        if (image.isMonochrome()) {
            if (image.getWindowCount() > 0) image.setWindow(0);
            else image.setMinMaxWindow();
        }
        DicomImage *target = &image;
        std::unique_ptr<DicomImage> scaled;
        const unsigned long width = image.getWidth(), height = image.getHeight();
        if (max_side > 0 && (width > max_side || height > max_side)) {
            const bool wide = width >= height;
            scaled.reset(image.createScaledImage(wide ? max_side : 0UL, wide ? 0UL : max_side, 1, 1));
            if (scaled == nullptr || scaled->getStatus() != EIS_Normal) {
                cdcm::status_set(st, CDCM_ERR_INTERNAL, "cannot scale the image");
                return CDCM_WEB_FAILED;
            }
            target = scaled.get();
        }
        DiJPEGPlugin plugin;
        plugin.setQuality(static_cast<unsigned int>(quality < 1 ? 1 : quality > 100 ? 100 : quality));
        plugin.setSampling(ESS_422);
        char *memory = nullptr;
        size_t length = 0;
        FILE *stream = open_memstream(&memory, &length);
        if (stream == nullptr) {
            cdcm::status_set(st, CDCM_ERR_INTERNAL, "out of memory");
            return CDCM_WEB_FAILED;
        }
        const int written = target->writePluginFormat(&plugin, stream, 0);
        fclose(stream);
        if (!written || length == 0) {
            free(memory);
            cdcm::status_set(st, CDCM_ERR_INTERNAL, "the JPEG writer failed");
            return CDCM_WEB_FAILED;
        }
        out->data = reinterpret_cast<uint8_t *>(memory);
        out->length = length;
        return CDCM_WEB_OK;
    } catch (...) {
        cdcm_buffer_free(out);
        cdcm::status_from_exception(st, "cdcm_web_render_jpeg");
        return CDCM_WEB_FAILED;
    }
}
