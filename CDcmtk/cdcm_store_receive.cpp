/* A C-STORE data set goes from the association to its file in one pass: each PDV is written,
 * added to the data set's SHA-256 and, every 256 KiB, handed to the kernel's writeback, so that
 * neither a second read of the file for its digest nor a long final flush is needed. */
#include "cdcm_store_receive.h"

#include "dcmtk/dcmdata/dcostrmf.h"

#include <openssl/evp.h>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace {

class ReceivingConsumer : public DcmConsumer {
public:
    explicit ReceivingConsumer(int fd) : fd_(fd), digest_(EVP_MD_CTX_new()) {
        if (digest_ == nullptr || EVP_DigestInit_ex(digest_, EVP_sha256(), nullptr) != 1) status_ = EC_MemoryExhausted;
    }
    ~ReceivingConsumer() override { EVP_MD_CTX_free(digest_); }

    OFBool good() const override { return status_.good(); }
    OFCondition status() const override { return status_; }
    OFBool isFlushed() const override { return OFTrue; }
    offile_off_t avail() const override { return OFstatic_cast(offile_off_t, 1) << 30; }
    void flush() override {}

    offile_off_t write(const void *buf, offile_off_t buflen) override {
        if (status_.bad()) return 0;
        const char *p = static_cast<const char *>(buf);
        offile_off_t left = buflen;
        while (left > 0) {
            ssize_t n = ::write(fd_, p, static_cast<size_t>(left));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                status_ = makeOFCondition(OFM_dcmdata, 19, OF_error, "cannot write the received data set");
                return buflen - left;
            }
            p += n;
            left -= n;
        }
        if (EVP_DigestUpdate(digest_, buf, static_cast<size_t>(buflen)) != 1) status_ = EC_MemoryExhausted;
        written_ += buflen;
        if (written_ - handed_to_writeback_ >= 256 * 1024) {
            // Advisory: start writing what has arrived; the flush before the acknowledgement decides.
            sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
            handed_to_writeback_ = written_;
        }
        return buflen;
    }

    offile_off_t written() const { return written_; }

    std::string hex_digest() {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (EVP_DigestFinal_ex(digest_, md, &len) != 1) return "";
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
    OFCondition status_ = EC_Normal;
    offile_off_t written_ = 0;
    offile_off_t handed_to_writeback_ = 0;
};

/* DcmOutputStream's constructor is protected: a stream over our consumer, as DcmOutputFileStream
 * is over its file consumer (the base only stores the pointer while members are built). */
class ReceivingStream : public DcmOutputStream {
public:
    explicit ReceivingStream(int fd) : DcmOutputStream(&consumer_), consumer_(fd) {}
    ReceivingConsumer &consumer() { return consumer_; }

private:
    ReceivingConsumer consumer_;
};

}  // namespace

namespace cdcm {

OFCondition receive_store_dataset(T_ASC_Association *assoc, T_DIMSE_C_StoreRQ &req, T_ASC_PresentationContextID pcid,
                                  int timeout, const char *path, ReceivedDataset &out) {
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
    if (fd < 0) {
        DIC_UL bytes = 0, pdvs = 0;
        OFCondition drained = DIMSE_ignoreDataSet(assoc, DIMSE_NONBLOCKING, timeout, &bytes, &pdvs);
        return drained.good() ? DIMSE_OUTOFRESOURCES : drained;
    }
    off_t meta_size = lseek(fd, 0, SEEK_END);
    T_ASC_PresentationContextID received_on = 0;
    {
        ReceivingStream stream(fd);
        cond = DIMSE_receiveDataSetInFile(assoc, DIMSE_NONBLOCKING, timeout, &received_on, &stream, nullptr, nullptr);
        if (cond.good()) {
            out.sha256 = stream.consumer().hex_digest();
            out.file_size = static_cast<long long>(meta_size) + static_cast<long long>(stream.consumer().written());
        }
    }
    if (close(fd) != 0 && cond.good()) cond = DIMSE_OUTOFRESOURCES;
    if (cond.good() && received_on != pcid) {
        cond = makeDcmnetCondition(DIMSEC_INVALIDPRESENTATIONCONTEXTID, OF_error,
                                   "C-STORE data set sent on another presentation context than its command");
    }
    return cond;
}

}  // namespace cdcm
