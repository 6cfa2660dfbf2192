/* lossyfs: a FUSE file system that models a disk with a volatile write cache (shared declarations). */
#ifndef LOSSYFS_H
#define LOSSYFS_H

#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define LFS_PAGE 4096u

struct lfs_entry {
    char *name;
    fuse_ino_t ino;
};

/* One inode, as the running system sees it (volatile), with what is known about its durable copy. */
struct lfs_node {
    fuse_ino_t ino;
    mode_t mode;
    uid_t uid;
    gid_t gid;
    struct timespec atime, mtime, ctime;
    uint64_t nlookup;   /* kernel references (lookup - forget) */
    uint32_t nlink;     /* volatile directory entries naming it */
    uint32_t open;      /* open handles */
    bool meta_durable;  /* STORE/meta/<ino> exists (type and mode are on the disk) */
    /* regular file */
    char *data;
    size_t size, cap;
    uint64_t *dirty;    /* bitmap of pages written since the last fsync */
    size_t dirty_words;
    bool size_dirty;    /* size changed since the last fsync */
    size_t durable_size;
    /* directory */
    struct lfs_entry *ents;
    size_t nents, ents_cap;
    fuse_ino_t parent;
    bool dir_dirty;     /* entries changed since the last fsync of this directory */
};

struct lfs {
    char *store;        /* backing directory holding the durable state */
    struct lfs_node **nodes;
    size_t nodes_cap;
    fuse_ino_t next_ino;
    pthread_mutex_t lock;
    double torn;        /* 0: a cut loses all unsynced state; >0: each unsynced item survives with this probability */
    unsigned seed;
    uint64_t fsyncs, fsyncdirs;
};

extern struct lfs lfs;

/* model.c: volatile state */
struct lfs_node *lfs_get(fuse_ino_t ino);
struct lfs_node *lfs_new_node(fuse_ino_t ino, mode_t mode, uid_t uid, gid_t gid);
void lfs_maybe_free(struct lfs_node *n);
struct lfs_entry *lfs_find(struct lfs_node *dir, const char *name);
int lfs_add_entry(struct lfs_node *dir, const char *name, fuse_ino_t ino);
void lfs_remove_entry(struct lfs_node *dir, struct lfs_entry *e);
int lfs_resize(struct lfs_node *n, size_t size);
int lfs_write(struct lfs_node *n, const char *buf, size_t len, off_t off);
void lfs_mark_dirty(struct lfs_node *n, size_t from, size_t to);
void lfs_stat(const struct lfs_node *n, struct stat *st);
void lfs_touch(struct timespec *t);

/* durable.c: the backing store */
int lfs_load(void);
int lfs_persist_file(struct lfs_node *n);
int lfs_persist_dir(struct lfs_node *n);
int lfs_persist_meta(struct lfs_node *n);
void lfs_torn_writeback(void);

/* ops.c */
extern const struct fuse_lowlevel_ops lfs_ops;

#endif
