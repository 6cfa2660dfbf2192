// Test support: parses a data set with DCMTK itself (DcmDataset::read from a DcmInputBufferStream)
// and measures what DCMTK built, walking it without recursion: deepest sequence nesting and elements.
#pragma once

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcistrmb.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace fuzzkit {

struct DcmtkShape {
    bool good = false;        /* DcmDataset::read succeeded */
    std::string error;        /* else what it said */
    int depth = 0;            /* deepest nesting of sequences (pixel sequences not counted) */
    long long elements = 0;   /* elements in all items (items and fragments not counted) */
};

inline E_TransferSyntax xfer_of(const char *uid) { return DcmXfer(uid).getXfer(); }

inline DcmtkShape dcmtk_parse(const void *data, size_t n, E_TransferSyntax xfer) {
    DcmtkShape shape;
    DcmInputBufferStream in;
    static const char empty = 0;
    in.setBuffer(n ? data : &empty, offile_off_t(n));
    in.setEos();
    DcmDataset ds;
    ds.transferInit();
    OFCondition cond = ds.read(in, xfer, EGL_noChange);
    ds.transferEnd();
    in.releaseBuffer();
    shape.good = cond.good();
    if (!shape.good) shape.error = cond.text();
    std::vector<std::pair<DcmObject *, int>> todo;
    todo.emplace_back(&ds, 0);
    while (!todo.empty()) {
        auto [obj, depth] = todo.back();
        todo.pop_back();
        const DcmEVR id = obj->ident();
        if (id == EVR_dataset || id == EVR_item || id == EVR_dirRecord || id == EVR_metainfo) {
            DcmItem *item = static_cast<DcmItem *>(obj);
            for (DcmObject *e = item->nextInContainer(nullptr); e != nullptr; e = item->nextInContainer(e)) {
                shape.elements++;
                todo.emplace_back(e, depth);
            }
        } else if (id == EVR_SQ) {
            DcmSequenceOfItems *sq = static_cast<DcmSequenceOfItems *>(obj);
            shape.depth = std::max(shape.depth, depth + 1);
            for (DcmObject *i = sq->nextInContainer(nullptr); i != nullptr; i = sq->nextInContainer(i))
                todo.emplace_back(i, depth + 1);
        }
    }
    return shape;
}

}  // namespace fuzzkit
