/* lossyfs: command line, mount, and the power switch (SIGUSR1 cuts power: nothing unsynced survives). */
#include "lossyfs.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: lossyfs [--torn P] [--seed N] STORE MOUNTPOINT\n"
    "  Serves STORE's durable state at MOUNTPOINT (in the foreground) as a disk with a volatile\n"
    "  write cache: file contents become durable by fsync/fdatasync of the file, directory entries\n"
    "  by fsync of the directory. SIGUSR1 cuts the power: the process exits at once, keeping only\n"
    "  durable state (with --torn P, each unsynced page, size change and directory also survives with\n"
    "  probability P, drawn from --seed). SIGTERM/SIGINT also stop it without syncing anything.\n"
    "  Unmount afterwards with `fusermount3 -u -z MOUNTPOINT`; mount STORE again to see what survived.\n";

static void *power_switch(void *arg) {
    sigset_t *set = arg;
    int sig = 0;
    sigwait(set, &sig);
    pthread_mutex_lock(&lfs.lock); /* between two operations: an fsync in progress completes first */
    if (sig == SIGUSR1 && lfs.torn > 0) lfs_torn_writeback();
    fprintf(stderr, "lossyfs: power cut by signal %d after %llu fsync, %llu fsyncdir\n", sig,
            (unsigned long long)lfs.fsyncs, (unsigned long long)lfs.fsyncdirs);
    _exit(0); /* the kernel aborts the connection: every later request fails with ENOTCONN */
}

int main(int argc, char **argv) {
    int i = 1;
    lfs.seed = (unsigned)getpid();
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (i + 1 >= argc) { fputs(usage, stderr); return 2; }
        if (strcmp(argv[i], "--torn") == 0) lfs.torn = strtod(argv[i + 1], NULL);
        else if (strcmp(argv[i], "--seed") == 0) lfs.seed = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else { fputs(usage, stderr); return 2; }
    }
    if (argc - i != 2 || lfs.torn < 0 || lfs.torn > 1) { fputs(usage, stderr); return 2; }
    char store[PATH_MAX];
    if (!realpath(argv[i], store)) { fprintf(stderr, "lossyfs: store %s: %s\n", argv[i], strerror(errno)); return 1; }
    lfs.store = store;
    const char *mountpoint = argv[i + 1];
    pthread_mutex_init(&lfs.lock, NULL);
    int r = lfs_load();
    if (r) { fprintf(stderr, "lossyfs: cannot load %s: %s\n", store, strerror(-r)); return 1; }

    static sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t t;
    pthread_create(&t, NULL, power_switch, &set);

    char *fargv[] = {argv[0], "-o", geteuid() == 0 ? "fsname=lossyfs,subtype=lossyfs,allow_other"
                                                     : "fsname=lossyfs,subtype=lossyfs", NULL};
    struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
    struct fuse_session *se = fuse_session_new(&args, &lfs_ops, sizeof lfs_ops, NULL);
    if (!se) { fprintf(stderr, "lossyfs: fuse_session_new failed\n"); return 1; }
    if (fuse_session_mount(se, mountpoint)) {
        fprintf(stderr, "lossyfs: cannot mount at %s (is /dev/fuse present, and mounting permitted?)\n", mountpoint);
        return 1;
    }
    printf("lossyfs: mounted %s at %s\n", store, mountpoint);
    fflush(stdout);
    r = fuse_session_loop(se);
    fuse_session_unmount(se);
    fuse_session_destroy(se);
    return r ? 1 : 0;
}
