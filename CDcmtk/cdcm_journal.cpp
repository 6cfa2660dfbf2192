/* The crash journal (see include/CDcmtk_journal.h): a file mapped shared, so what a thread wrote
 * there survives the process's death in the page cache; a fatal-signal handler on an alternate
 * stack records which slot's thread crashed. Everything the handler touches is preallocated. */
#include "include/CDcmtk_journal.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

constexpr int kSlots = 64;
constexpr size_t kSlotBytes = 256;
constexpr uint32_t kMagic = 0x4A574744;  // "DGWJ"

struct Header {
    uint32_t magic;
    uint32_t running;  /* 1 while a run is open, 0 after a clean close */
    int32_t crash_signal;
    int32_t crash_slot;
    int64_t crash_time;
    char pad[256 - 24];
};

struct Journal {
    Header header;
    char slots[kSlots][kSlotBytes];
};

Journal *g_journal = nullptr;
std::atomic<int> g_owner[kSlots];
char g_previous[kSlots][kSlotBytes];
int g_fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

__thread int t_slot __attribute__((tls_model("initial-exec"))) = -1;

/* Frees the thread's alternate signal stack when the thread ends. */
struct AltStack {
    void *memory = nullptr;
    ~AltStack() {
        if (memory == nullptr) return;
        stack_t off;
        memset(&off, 0, sizeof(off));
        off.ss_flags = SS_DISABLE;
        sigaltstack(&off, nullptr);
        free(memory);
    }
    void ensure() {
        if (memory != nullptr) return;
        size_t size = 64 * 1024;
        memory = malloc(size);
        if (memory == nullptr) return;
        stack_t st;
        memset(&st, 0, sizeof(st));
        st.ss_sp = memory;
        st.ss_size = size;
        if (sigaltstack(&st, nullptr) != 0) {
            free(memory);
            memory = nullptr;
        }
    }
};
thread_local AltStack t_altstack;

void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) return;
        p += w;
        n -= static_cast<size_t>(w);
    }
}

void on_fatal(int sig, siginfo_t *, void *) {
    int slot = t_slot;
    if (g_journal != nullptr) {
        g_journal->header.crash_signal = sig;
        g_journal->header.crash_slot = slot;
        g_journal->header.crash_time = static_cast<int64_t>(time(nullptr));
    }
    static const char prefix[] = "dicom-gateway: fatal signal while: ";
    write_all(2, prefix, sizeof(prefix) - 1);
    if (g_journal != nullptr && slot >= 0) {
        const char *a = g_journal->slots[slot];
        write_all(2, a, strnlen(a, kSlotBytes));
    } else {
        write_all(2, "(no activity announced)", 23);
    }
    write_all(2, "\n", 1);
    // Die of the same signal, with the default action (a core dump where enabled). Swift's own
    // backtracer is not chained: run from here it can hang the dying process.
    signal(sig, SIG_DFL);
    raise(sig);
}

void set_error(char *error, size_t len, const std::string &text) {
    if (error == nullptr || len == 0) return;
    snprintf(error, len, "%s", text.c_str());
}

}  // namespace

extern "C" int cdcm_journal_open(const char *path, cdcm_journal_report *report, char *error, size_t error_len) {
    if (report != nullptr) {
        memset(report, 0, sizeof(*report));
        report->crash_slot = -1;
    }
    if (g_journal != nullptr) return 0;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        set_error(error, error_len, std::string("cannot open the crash journal ") + path + ": " + strerror(errno));
        return -1;
    }
    struct stat stbuf;
    bool existing = fstat(fd, &stbuf) == 0 && stbuf.st_size == static_cast<off_t>(sizeof(Journal));
    if (!existing && ftruncate(fd, sizeof(Journal)) != 0) {
        set_error(error, error_len, std::string("cannot size the crash journal ") + path + ": " + strerror(errno));
        close(fd);
        return -1;
    }
    void *map = mmap(nullptr, sizeof(Journal), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        set_error(error, error_len, std::string("cannot map the crash journal ") + path + ": " + strerror(errno));
        return -1;
    }
    Journal *j = static_cast<Journal *>(map);
    memset(g_previous, 0, sizeof(g_previous));
    if (existing && j->header.magic == kMagic) {
        if (report != nullptr) {
            report->had_journal = 1;
            report->ended_abnormally = j->header.running != 0;
            report->crash_signal = j->header.crash_signal;
            report->crash_slot = j->header.crash_slot;
            report->crash_time = j->header.crash_time;
        }
        for (int i = 0; i < kSlots; i++) {
            memcpy(g_previous[i], j->slots[i], kSlotBytes);
            g_previous[i][kSlotBytes - 1] = '\0';
        }
    }
    memset(j, 0, sizeof(Journal));
    j->header.magic = kMagic;
    j->header.running = 1;
    j->header.crash_slot = -1;
    msync(j, sizeof(Journal), MS_SYNC);
    for (int i = 0; i < kSlots; i++) g_owner[i].store(0);
    g_journal = j;
    for (size_t i = 0; i < sizeof(g_fatal) / sizeof(g_fatal[0]); i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = on_fatal;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
        sigemptyset(&sa.sa_mask);
        sigaction(g_fatal[i], &sa, nullptr);
    }
    return 0;
}

extern "C" int cdcm_journal_slot_count(void) { return kSlots; }

extern "C" const char *cdcm_journal_previous(int slot) {
    if (slot < 0 || slot >= kSlots) return "";
    return g_previous[slot];
}

extern "C" void cdcm_journal_begin(const char *activity) {
    Journal *j = g_journal;
    if (j == nullptr || activity == nullptr) return;
    t_altstack.ensure();
    if (t_slot < 0) {
        for (int i = 0; i < kSlots; i++) {
            int expected = 0;
            if (g_owner[i].compare_exchange_strong(expected, 1)) {
                t_slot = i;
                break;
            }
        }
        if (t_slot < 0) return;  // more concurrent activities than slots: this one goes unrecorded
    }
    char *slot = j->slots[t_slot];
    size_t n = strnlen(activity, kSlotBytes - 1);
    memcpy(slot, activity, n);
    slot[n] = '\0';
}

extern "C" void cdcm_journal_end(void) {
    Journal *j = g_journal;
    int slot = t_slot;
    if (j == nullptr || slot < 0) return;
    j->slots[slot][0] = '\0';
    t_slot = -1;
    g_owner[slot].store(0);
}

extern "C" void cdcm_journal_close(void) {
    Journal *j = g_journal;
    if (j == nullptr) return;
    j->header.running = 0;
    msync(j, sizeof(Journal), MS_SYNC);
}

extern "C" void cdcm_journal_test_crash(void) {
    t_altstack.ensure();
    raise(SIGSEGV);
    abort();  // if an earlier handler returned
}
