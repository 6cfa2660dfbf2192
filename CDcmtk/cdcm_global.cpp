/* Process-wide DCMTK set-up (TCP_NODELAY, no reverse DNS, dictionary) and the oflog -> callback bridge. */
#include "cdcm_internal.h"
#include "dcmtk/dcmnet/dcompat.h"
#include "dcmtk/oflog/oflog.h"
#include "dcmtk/oflog/appender.h"
#include "dcmtk/oflog/logger.h"
#include "dcmtk/oflog/spi/logevent.h"

#include <cstdlib>
#include <mutex>

extern DCMTK_DCMNET_EXPORT OFGlobal<OFBool> dcmDisableGethostbyaddr;

namespace {

cdcm_log_fn g_log_fn = nullptr;
void *g_log_ctx = nullptr;

int to_cdcm_level(dcmtk::log4cplus::LogLevel level) {
    if (level >= dcmtk::log4cplus::FATAL_LOG_LEVEL) return CDCM_LOG_FATAL;
    if (level >= dcmtk::log4cplus::ERROR_LOG_LEVEL) return CDCM_LOG_ERROR;
    if (level >= dcmtk::log4cplus::WARN_LOG_LEVEL) return CDCM_LOG_WARN;
    if (level >= dcmtk::log4cplus::INFO_LOG_LEVEL) return CDCM_LOG_INFO;
    if (level >= dcmtk::log4cplus::DEBUG_LOG_LEVEL) return CDCM_LOG_DEBUG;
    return CDCM_LOG_TRACE;
}

dcmtk::log4cplus::LogLevel to_oflog_level(int level) {
    switch (level) {
    case CDCM_LOG_TRACE: return dcmtk::log4cplus::TRACE_LOG_LEVEL;
    case CDCM_LOG_DEBUG: return dcmtk::log4cplus::DEBUG_LOG_LEVEL;
    case CDCM_LOG_INFO: return dcmtk::log4cplus::INFO_LOG_LEVEL;
    case CDCM_LOG_WARN: return dcmtk::log4cplus::WARN_LOG_LEVEL;
    case CDCM_LOG_ERROR: return dcmtk::log4cplus::ERROR_LOG_LEVEL;
    case CDCM_LOG_FATAL: return dcmtk::log4cplus::FATAL_LOG_LEVEL;
    default: return dcmtk::log4cplus::OFF_LOG_LEVEL;
    }
}

class CallbackAppender : public dcmtk::log4cplus::Appender {
public:
    ~CallbackAppender() override { destructorImpl(); }
    void close() override {}

protected:
    void append(const dcmtk::log4cplus::spi::InternalLoggingEvent &event) override {
        cdcm_log_fn fn = g_log_fn;
        if (fn == nullptr) return;
        fn(g_log_ctx, to_cdcm_level(event.getLogLevel()), event.getLoggerName().c_str(),
           event.getMessage().c_str());
    }
};

}  // namespace

extern "C" int cdcm_global_init(char *text, size_t text_len) {
    static std::once_flag once;
    std::call_once(once, [] {
        // dcmnet reads TCP_NODELAY from the environment for every connection it makes.
        setenv("TCP_NODELAY", "1", 0);
        dcmDisableGethostbyaddr.set(OFTrue);
        // Quiet until a handler is installed: linked as a library oflog would print INFO to stderr.
        OFLog::configure(OFLogger::WARN_LOG_LEVEL);
        dcmtk::log4cplus::Logger::getRoot().setLogLevel(dcmtk::log4cplus::WARN_LOG_LEVEL);
    });
    try {
        if (!dcmDataDict.isDictionaryLoaded()) {
            cdcm::copy_string(text, text_len,
                              "the DICOM data dictionary is not loaded: install libdcmtk17 "
                              "(/usr/share/libdcmtk17/dicom.dic) or set DCMDICTPATH");
            return -1;
        }
    } catch (...) {
        cdcm::copy_string(text, text_len, "internal error while checking the DICOM data dictionary");
        return -1;
    }
    cdcm::copy_string(text, text_len, "");
    return 0;
}

extern "C" void cdcm_set_log_handler(int min_level, cdcm_log_fn fn, void *ctx) {
    try {
        g_log_ctx = ctx;
        g_log_fn = fn;
        dcmtk::log4cplus::Logger root = dcmtk::log4cplus::Logger::getRoot();
        root.removeAllAppenders();
        if (fn != nullptr) {
            dcmtk::log4cplus::SharedAppenderPtr appender(new CallbackAppender());
            root.addAppender(appender);
            root.setLogLevel(to_oflog_level(min_level));
        } else {
            root.setLogLevel(dcmtk::log4cplus::OFF_LOG_LEVEL);
        }
    } catch (...) {
        // Logging set-up must never take the process down.
    }
}
