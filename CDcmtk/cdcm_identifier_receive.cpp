/* A C-FIND/C-MOVE/C-GET identifier is received into memory through the input-limits scanner and
 * parsed by DCMTK only when it is within the limits (DIMSE_receiveDataSetInMemory would parse it
 * while it arrives, recursing once per nesting level without bound). */
#include "cdcm_store_receive.h"
#include "cdcm_limits.h"

#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/dcmdata/dcostrma.h"

namespace {

class IdentifierConsumer : public DcmConsumer {
public:
    IdentifierConsumer(const cdcm_limits &limits, const char *transfer_syntax) : scanner_(&limits, transfer_syntax) {}

    OFBool good() const override { return OFTrue; }
    OFCondition status() const override { return EC_Normal; }
    OFBool isFlushed() const override { return OFTrue; }
    offile_off_t avail() const override { return OFstatic_cast(offile_off_t, 1) << 30; }
    void flush() override {}

    /* Never fails towards DCMTK (see ReceivingConsumer): the rest is read and dropped. */
    offile_off_t write(const void *buf, offile_off_t buflen) override {
        if (over_) return buflen;
        if (!scanner_.feed(buf, static_cast<size_t>(buflen))) {
            over_ = true;
            std::string().swap(data_);
            return buflen;
        }
        data_.append(static_cast<const char *>(buf), static_cast<size_t>(buflen));
        return buflen;
    }

    const cdcm_limit_verdict &verdict() { return scanner_.finish(); }
    const std::string &data() const { return data_; }

private:
    cdcm::DatasetLimitScanner scanner_;
    std::string data_;
    bool over_ = false;
};

class IdentifierStream : public DcmOutputStream {
public:
    IdentifierStream(const cdcm_limits &limits, const char *transfer_syntax)
        : DcmOutputStream(&consumer_), consumer_(limits, transfer_syntax) {}
    IdentifierConsumer &consumer() { return consumer_; }

private:
    IdentifierConsumer consumer_;
};

}  // namespace

namespace cdcm {

OFCondition receive_identifier_bounded(T_ASC_Association *assoc, T_ASC_PresentationContextID pcid, int timeout,
                                       const cdcm_limits &limits, DcmDataset **out, cdcm_limit_verdict &verdict) {
    *out = nullptr;
    memset(&verdict, 0, sizeof(verdict));
    T_ASC_PresentationContext pc;
    if (ASC_findAcceptedPresentationContext(assoc->params, pcid, &pc).bad())
        return makeDcmnetCondition(DIMSEC_INVALIDPRESENTATIONCONTEXTID, OF_error, "identifier on a presentation context not accepted");
    T_ASC_PresentationContextID received_on = 0;
    IdentifierStream stream(limits, pc.acceptedTransferSyntax);
    OFCondition cond = DIMSE_receiveDataSetInFile(assoc, DIMSE_NONBLOCKING, timeout, &received_on, &stream, nullptr, nullptr);
    if (cond.bad()) return cond;
    if (received_on != pcid)
        return makeDcmnetCondition(DIMSEC_INVALIDPRESENTATIONCONTEXTID, OF_error, "identifier sent on another presentation context than its command");
    verdict = stream.consumer().verdict();
    if (verdict.kind != CDCM_LIMIT_OK) return EC_Normal;
    const std::string &bytes = stream.consumer().data();
    DcmXfer xfer(pc.acceptedTransferSyntax);
    DcmInputBufferStream in;
    in.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
    in.setEos();
    if (xfer.getStreamCompression() != ESC_none) {
        cond = in.installCompressionFilter(xfer.getStreamCompression());
        if (cond.bad()) return cond;
    }
    DcmDataset *ds = new DcmDataset();
    ds->transferInit();
    cond = ds->read(in, xfer.getXfer());
    ds->transferEnd();
    if (cond.bad()) {
        delete ds;
        return makeDcmnetCondition(DIMSEC_RECEIVEFAILED, OF_error, "identifier could not be parsed");
    }
    *out = ds;
    return EC_Normal;
}

}  // namespace cdcm
