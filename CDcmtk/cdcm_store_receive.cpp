/* A C-STORE data set goes from the association to its file in one pass: each PDV is written,
 * added to the data set's SHA-256 and, every 256 KiB, handed to the kernel's writeback, so that
 * neither a second read of the file for its digest nor a long final flush is needed. */
#include "cdcm_store_receive.h"
#include "cdcm_limits.h"

#include "dcmtk/dcmdata/dcostrmf.h"

#include <openssl/evp.h>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace {

class ReceivingConsumer : public DcmConsumer {
public:
    ReceivingConsumer(int fd, const cdcm_limits &limits, const char *transfer_syntax)
        : fd_(fd), digest_(EVP_MD_CTX_new()), scanner_(&limits, transfer_syntax) {
        if (digest_ == nullptr || EVP_DigestInit_ex(digest_, EVP_sha256(), nullptr) != 1) digest_failed_ = true;
    }
    ~ReceivingConsumer() override { EVP_MD_CTX_free(digest_); }

    OFBool good() const override { return OFTrue; }
    OFCondition status() const override { return EC_Normal; }
    OFBool isFlushed() const override { return OFTrue; }
    offile_off_t avail() const override { return OFstatic_cast(offile_off_t, 1) << 30; }
    void flush() override {}

    /* Never reports a failure to DCMTK: on a failed write DIMSE_receiveDataSetInFile would drain
     * the rest of the data set without checking whether this PDV was the last one, and then wait
     * for bytes the sender will never send (it waits for our response). The error is kept, the
     * rest is read and dropped, and the caller refuses the instance afterwards. */
    offile_off_t write(const void *buf, offile_off_t buflen) override {
        if (failed_ || over_limits_) return buflen;
        // The input limits first: nothing past a breach is written, and DCMTK never parses it.
        if (!scanner_.feed(buf, static_cast<size_t>(buflen))) {
            over_limits_ = true;
            return buflen;
        }
        const char *p = static_cast<const char *>(buf);
        offile_off_t left = buflen;
        while (left > 0) {
            ssize_t n = ::write(fd_, p, static_cast<size_t>(left));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                failed_ = true;
                return buflen;
            }
            p += n;
            left -= n;
        }
        if (digest_ == nullptr || EVP_DigestUpdate(digest_, buf, static_cast<size_t>(buflen)) != 1) digest_failed_ = true;
        written_ += buflen;
        if (written_ - handed_to_writeback_ >= 256 * 1024) {
            // Advisory: start writing what has arrived; the flush before the acknowledgement decides.
            sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
            handed_to_writeback_ = written_;
        }
        return buflen;
    }

    bool write_failed() const { return failed_; }

    /* The scanner's verdict at the end of the data set (OK, or which limit it broke). */
    const cdcm_limit_verdict &limits_verdict() { return scanner_.finish(); }

    offile_off_t written() const { return written_; }

    /* "" when the digest could not be computed: the caller then reads it from the file. */
    std::string hex_digest() {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (digest_failed_ || EVP_DigestFinal_ex(digest_, md, &len) != 1) return "";
        static const char digits[] = "0123456789abcdef";
        std::string out;
        out.reserve(len * 2);
        for (unsigned int i = 0; i < len; i++) {
            out.push_back(digits[md[i] >> 4]);
            out.push_back(digits[md[i] & 0x0F]);
        }
        return out;
    }

private:
    int fd_;
    EVP_MD_CTX *digest_;
    cdcm::DatasetLimitScanner scanner_;
    bool failed_ = false;
    bool over_limits_ = false;
    bool digest_failed_ = false;
    offile_off_t written_ = 0;
    offile_off_t handed_to_writeback_ = 0;
};

/* DcmOutputStream's constructor is protected: a stream over our consumer, as DcmOutputFileStream
 * is over its file consumer (the base only stores the pointer while members are built). */
class ReceivingStream : public DcmOutputStream {
public:
    ReceivingStream(int fd, const cdcm_limits &limits, const char *transfer_syntax)
        : DcmOutputStream(&consumer_), consumer_(fd, limits, transfer_syntax) {}
    ReceivingConsumer &consumer() { return consumer_; }

private:
    ReceivingConsumer consumer_;
};

}  // namespace

namespace cdcm {

OFCondition receive_store_dataset(T_ASC_Association *assoc, T_DIMSE_C_StoreRQ &req, T_ASC_PresentationContextID pcid,
                                  int timeout, const cdcm_limits &limits, const char *path, ReceivedDataset &out) {
    T_ASC_PresentationContext pc;
    if (ASC_findAcceptedPresentationContext(assoc->params, pcid, &pc).bad())
        return makeDcmnetCondition(DIMSEC_INVALIDPRESENTATIONCONTEXTID, OF_error, "C-STORE on a presentation context not accepted");
    // The meta header exactly as DCMTK writes it for storescp; the data set is appended below.
    DcmOutputFileStream *meta = nullptr;
    OFCondition cond = DIMSE_createFilestream(path, &req, assoc, pcid, 1, &meta);
    delete meta;  // flushes and closes the file
    if (cond.bad()) {
        DIC_UL bytes = 0, pdvs = 0;
        OFCondition drained = DIMSE_ignoreDataSet(assoc, DIMSE_NONBLOCKING, timeout, &bytes, &pdvs);
        return drained.good() ? DIMSE_OUTOFRESOURCES : drained;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    // The meta header is 128 bytes of preamble, "DICM" and group 0002: anything shorter means the
    // stream could not write it (its errors surface only when it is closed).
    off_t meta_size = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
    if (fd < 0 || meta_size < 144) {
        if (fd >= 0) close(fd);
        DIC_UL bytes = 0, pdvs = 0;
        OFCondition drained = DIMSE_ignoreDataSet(assoc, DIMSE_NONBLOCKING, timeout, &bytes, &pdvs);
        return drained.good() ? DIMSE_OUTOFRESOURCES : drained;
    }
    T_ASC_PresentationContextID received_on = 0;
    bool write_failed = false;
    try {
        ReceivingStream stream(fd, limits, pc.acceptedTransferSyntax);
        cond = DIMSE_receiveDataSetInFile(assoc, DIMSE_NONBLOCKING, timeout, &received_on, &stream, nullptr, nullptr);
        write_failed = stream.consumer().write_failed();
        // A failed write stops both writing and scanning: that refusal (out of resources) wins.
        if (cond.good() && !write_failed) out.limits = stream.consumer().limits_verdict();
        if (cond.good() && !write_failed) {
            out.sha256 = stream.consumer().hex_digest();
            out.file_size = static_cast<long long>(meta_size) + static_cast<long long>(stream.consumer().written());
        }
    } catch (...) {
        close(fd);
        throw;
    }
    if (close(fd) != 0) write_failed = true;
    if (cond.bad()) return cond;
    // The whole data set was read off the association: refusing it leaves the association usable.
    if (out.limits.kind != CDCM_LIMIT_OK) return EC_Normal;  // the caller refuses it (0xC000)
    if (write_failed) return DIMSE_OUTOFRESOURCES;
    if (received_on != pcid) {
        return makeDcmnetCondition(DIMSEC_INVALIDPRESENTATIONCONTEXTID, OF_error,
                                   "C-STORE data set sent on another presentation context than its command");
    }
    return cond;
}

}  // namespace cdcm
