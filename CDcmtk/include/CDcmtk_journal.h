/* CDcmtk: the crash journal, a small shared mapping in which risky operations announce
 * themselves, so that the start after a crash can say what the process was doing and quarantine
 * the one operation that crashed it. Plain C; included by CDcmtk.h. */
#ifndef CDCMTK_JOURNAL_H
#define CDCMTK_JOURNAL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What the earlier run left in the journal. */
typedef struct cdcm_journal_report {
    int had_journal;        /* a journal from an earlier run was found */
    int ended_abnormally;   /* the earlier run did not close it (crash, kill -9, power cut) */
    int crash_signal;       /* the fatal signal caught (SIGSEGV...), 0 when none was (kill -9, power cut) */
    int crash_slot;         /* the slot of the thread that crashed, -1 when it had none */
    long long crash_time;   /* unix seconds of the crash, 0 if none */
} cdcm_journal_report;

/** Opens (creating) the journal at path: reads what the earlier run left into *report and into
 *  the slots readable with cdcm_journal_previous, then starts this run's journal and installs
 *  handlers for fatal signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) that record the crashing
 *  thread's slot before the process dies as it would have. 0 on success. */
int cdcm_journal_open(const char *path, cdcm_journal_report *report, char *error, size_t error_len);

/** Number of slots (threads announcing an activity at the same time). */
int cdcm_journal_slot_count(void);

/** The earlier run's activity in slot i when it ended, "" if none. Valid after cdcm_journal_open. */
const char *cdcm_journal_previous(int slot);

/** Announces what the calling thread is about to do (at most 200 bytes, no patient data), e.g.
 *  "delivery\t42\tHUB\t1.2.3.4". Takes a free slot on the first call in a thread, and gives the
 *  thread an alternate signal stack so that even a stack overflow is recorded. Cheap (a copy
 *  into the mapping). Without an open journal, does nothing. */
void cdcm_journal_begin(const char *activity);

/** The calling thread's activity is over: clears and frees its slot. */
void cdcm_journal_end(void);

/** A clean end: the next open reports ended_abnormally = 0. */
void cdcm_journal_close(void);

/** Test failpoint: a real SIGSEGV on the calling thread, as a parser overflowing its stack would. */
void cdcm_journal_test_crash(void);

#ifdef __cplusplus
}
#endif

#endif
