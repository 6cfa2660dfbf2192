/* The disk's durability floor for the ingest benchmark (scripts/bench/ingest, issue 15 point 5):
 * exactly the system calls of each cache layout, per instance, one instance after another (each
 * durable before the next starts, as one association's acknowledgements are), with nothing else
 * to do: no network, no parsing, no hashing.
 *
 *   floor DIR LAYOUT SIZE COUNT [THREADS [fifo]]
 *
 * LAYOUT
 *   two-flush     today's: create DIR/incoming/N.part, write, fdatasync, close, rename into
 *                 DIR/study/series/N.dcm, open + fsync + close that directory
 *   one-flush     open a file created in advance (empty) in a directory already durable, write,
 *                 fdatasync, close
 *   segment       one segment file preallocated with fallocate (unwritten extents): pwrite at the
 *                 end of what is written, fdatasync
 *   segment-reuse one segment file already written (zeros) and synced: pwrite over it, fdatasync
 *                 (no extent conversion, so no journal commit: the data flush alone)
 *   index         an SQLite commit of one row per instance, WAL mode, synchronous=FULL
 *   one-flush+index, two-flush+index
 *                 the file layout and the index commit of the same instance on two threads at
 *                 once; the instance is done when both are
 * THREADS (one-flush only): that many threads each doing one-flush on its share of COUNT at once.
 * fifo: run at SCHED_FIFO priority 10 (root only), so that no wake-up waits for a CPU: on a
 * machine whose cores are busy, a flush's latency as seen at normal priority is mostly the wait
 * for a CPU after the device answered; this shows the device alone.
 *
 * Everything is set up (directories made and synced, files created in advance, the segment
 * allocated), then sync(2) and a 1 s pause, then the timed loop. Prints one tab-separated line:
 *   layout size threads count seconds mean_ms_per_op p50_ms p95_ms
 * (per-op times as one thread sees them). Built by scripts/bench/floor.py with cc into .build-bench/.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *root;
static size_t size;
static int count, threads = 1;
static char *payload;
static double *latency; /* per op, ms */

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "floor: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, ": %s\n", strerror(errno));
    va_end(ap);
    exit(1);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void path(char *out, const char *fmt, ...) {
    char rel[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rel, sizeof rel, fmt, ap);
    va_end(ap);
    snprintf(out, 4096, "%s/%s", root, rel);
}

static void sync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0 || fsync(fd) != 0) die("fsync of directory %s", dir);
    close(fd);
}

/* mkdir + fsync of its parent (and of itself, so files made in it later have a durable home). */
static void make_dir(const char *rel) {
    char p[4096], parent[4096];
    path(p, "%s", rel);
    if (mkdir(p, 0750) != 0 && errno != EEXIST) die("mkdir %s", p);
    snprintf(parent, sizeof parent, "%s", p);
    *strrchr(parent, '/') = 0;
    sync_dir(parent);
    sync_dir(p);
}

static void write_all(int fd, off_t offset, const char *what) {
    size_t done = 0;
    while (done < size) {
        ssize_t n = offset < 0 ? write(fd, payload + done, size - done) : pwrite(fd, payload + done, size - done, offset + done);
        if (n <= 0) die("write of %s", what);
        done += n;
    }
}

/* ---- the layouts: one instance each ---- */

static void two_flush(int i) {
    char part[4096], final[4096], dir[4096];
    path(part, "incoming/%d.part", i);
    path(final, "study/series/%d.dcm", i);
    path(dir, "study/series");
    int fd = open(part, O_WRONLY | O_CREAT | O_EXCL, 0640);
    if (fd < 0) die("create %s", part);
    write_all(fd, -1, part);
    if (fdatasync(fd) != 0) die("fdatasync %s", part);
    close(fd);
    if (rename(part, final) != 0) die("rename %s", part);
    sync_dir(dir);
}

static void one_flush(int i) {
    char p[4096];
    path(p, "ready/%d.dcm", i);
    int fd = open(p, O_WRONLY);
    if (fd < 0) die("open %s", p);
    write_all(fd, -1, p);
    if (fdatasync(fd) != 0) die("fdatasync %s", p);
    close(fd);
}

static int segment_fd = -1;

static void segment(int i) {
    write_all(segment_fd, (off_t)i * size, "the segment");
    if (fdatasync(segment_fd) != 0) die("fdatasync of the segment");
}

static sqlite3 *db;
static sqlite3_stmt *insert;

static void index_commit(int i) {
    char sop[64], rel[64];
    snprintf(sop, sizeof sop, "1.2.826.0.1.3680043.8.1055.99.%d", i);
    snprintf(rel, sizeof rel, "ready/%d.dcm", i);
    sqlite3_bind_text(insert, 1, sop, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 2, rel, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(insert, 3, (sqlite3_int64)size);
    sqlite3_bind_double(insert, 4, now());
    if (sqlite3_step(insert) != SQLITE_DONE) { errno = 0; die("insert: %s", sqlite3_errmsg(db)); }
    sqlite3_reset(insert);
}

/* ---- set-up (untimed) ---- */

static void prepare_files(void) {
    char p[4096];
    make_dir("ready");
    for (int i = 0; i < count; i++) {
        path(p, "ready/%d.dcm", i);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0640);
        if (fd < 0) die("create %s", p);
        close(fd);
    }
    path(p, "ready");
    sync_dir(p);
}

static void prepare_segment(int reuse) {
    char p[4096];
    make_dir("segment");
    path(p, "segment/0.seg");
    segment_fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0640);
    if (segment_fd < 0) die("create %s", p);
    off_t total = (off_t)count * size;
    if (reuse) {
        memset(payload, 0, size);
        for (int i = 0; i < count; i++) write_all(segment_fd, (off_t)i * size, p);
        for (size_t k = 0; k < size; k++) payload[k] = (char)(k * 131 + 7);
    } else if (fallocate(segment_fd, 0, 0, total) != 0) {
        die("fallocate %s", p);
    }
    if (fsync(segment_fd) != 0) die("fsync %s", p);
    path(p, "segment");
    sync_dir(p);
}

static void prepare_index(void) {
    char p[4096];
    make_dir("index");
    path(p, "index/index.sqlite");
    if (sqlite3_open(p, &db) != SQLITE_OK) { errno = 0; die("open %s", p); }
    char *err = NULL;
    if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                         "CREATE TABLE instance(id INTEGER PRIMARY KEY, sopUID TEXT UNIQUE NOT NULL, path TEXT NOT NULL,"
                         " sizeBytes INTEGER NOT NULL, receivedAt REAL NOT NULL);", NULL, NULL, &err) != SQLITE_OK) {
        errno = 0;
        die("schema: %s", err);
    }
    if (sqlite3_prepare_v2(db, "INSERT INTO instance(sopUID, path, sizeBytes, receivedAt) VALUES (?, ?, ?, ?)", -1, &insert, NULL)
        != SQLITE_OK) { errno = 0; die("prepare: %s", sqlite3_errmsg(db)); }
}

/* ---- timing ---- */

typedef void (*step_fn)(int);

struct worker {
    step_fn step;
    int first, stride;
    pthread_barrier_t *start;
};

static void *run_share(void *arg) {
    struct worker *w = arg;
    pthread_barrier_wait(w->start);
    for (int i = w->first; i < count; i += w->stride) {
        double t = now();
        w->step(i);
        latency[i] = (now() - t) * 1000;
    }
    return NULL;
}

/* K threads, each doing `step` on instances first, first+K, ...; returns wall seconds. */
static double run_threads(step_fn step, int k) {
    pthread_t tid[256];
    struct worker w[256];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, k + 1);
    for (int t = 0; t < k; t++) {
        w[t] = (struct worker){step, t, k, &start};
        if (pthread_create(&tid[t], NULL, run_share, &w[t]) != 0) die("pthread_create");
    }
    pthread_barrier_wait(&start);
    double t0 = now();
    for (int t = 0; t < k; t++) pthread_join(tid[t], NULL);
    return now() - t0;
}

/* The pair: the file on this thread, the index commit of the same instance on a helper thread. */
static step_fn pair_file;
static pthread_barrier_t pair_go, pair_done;
static int pair_next;

static void *pair_helper(void *arg) {
    (void)arg;
    for (;;) {
        pthread_barrier_wait(&pair_go);
        if (pair_next < 0) return NULL;
        index_commit(pair_next);
        pthread_barrier_wait(&pair_done);
    }
}

static void pair_step(int i) {
    pair_next = i;
    pthread_barrier_wait(&pair_go);
    pair_file(i);
    pthread_barrier_wait(&pair_done);
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: floor DIR two-flush|one-flush|segment|segment-reuse|index|one-flush+index|two-flush+index"
                        " SIZE COUNT [THREADS [fifo]]\n");
        return 2;
    }
    root = argv[1];
    const char *layout = argv[2];
    size = strtoul(argv[3], NULL, 10);
    count = atoi(argv[4]);
    if (argc > 5) threads = atoi(argv[5]);
    if (argc > 6 && strcmp(argv[6], "fifo") == 0) {
        struct sched_param param = {.sched_priority = 10};
        if (sched_setscheduler(0, SCHED_FIFO, &param) != 0) die("SCHED_FIFO (needs root)");
    }
    if (size == 0 || count <= 0 || threads < 1 || threads > 256) { fprintf(stderr, "floor: bad SIZE, COUNT or THREADS\n"); return 2; }
    if (mkdir(root, 0750) != 0 && errno != EEXIST) die("mkdir %s", root);
    payload = malloc(size);
    latency = calloc(count, sizeof *latency);
    for (size_t k = 0; k < size; k++) payload[k] = (char)(k * 131 + 7);

    step_fn step;
    int pair = 0;
    if (strcmp(layout, "two-flush") == 0 || strcmp(layout, "two-flush+index") == 0) {
        make_dir("incoming");
        make_dir("study");
        make_dir("study/series");
        step = two_flush;
        pair = strchr(layout, '+') != NULL;
    } else if (strcmp(layout, "one-flush") == 0 || strcmp(layout, "one-flush+index") == 0) {
        prepare_files();
        step = one_flush;
        pair = strchr(layout, '+') != NULL;
    } else if (strcmp(layout, "segment") == 0 || strcmp(layout, "segment-reuse") == 0) {
        prepare_segment(strcmp(layout, "segment-reuse") == 0);
        step = segment;
    } else if (strcmp(layout, "index") == 0) {
        step = index_commit;
    } else {
        fprintf(stderr, "floor: unknown layout %s\n", layout);
        return 2;
    }
    if (threads > 1 && step != one_flush) { fprintf(stderr, "floor: THREADS is for one-flush only\n"); return 2; }
    if (pair || step == index_commit) prepare_index();
    pthread_t helper;
    if (pair) {
        pair_file = step;
        step = pair_step;
        pthread_barrier_init(&pair_go, NULL, 2);
        pthread_barrier_init(&pair_done, NULL, 2);
        if (pthread_create(&helper, NULL, pair_helper, NULL) != 0) die("pthread_create");
    }
    sync();
    sleep(1);
    double seconds = run_threads(step, threads);
    if (pair) {
        pair_next = -1;
        pthread_barrier_wait(&pair_go);
        pthread_join(helper, NULL);
    }
    if (db) {
        sqlite3_finalize(insert);
        sqlite3_close(db);
    }
    double total = 0;
    for (int i = 0; i < count; i++) total += latency[i];
    qsort(latency, count, sizeof *latency, by_value);
    printf("%s\t%zu\t%d\t%d\t%.6f\t%.4f\t%.4f\t%.4f\n", layout, size, threads, count, seconds, total / count,
           latency[count / 2], latency[(int)(count * 0.95)]);
    return 0;
}
