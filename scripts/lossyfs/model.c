/* lossyfs: the volatile state (inodes, directory entries, file contents and their dirty pages). */
#include "lossyfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct lfs lfs;

void lfs_touch(struct timespec *t) { clock_gettime(CLOCK_REALTIME, t); }

struct lfs_node *lfs_get(fuse_ino_t ino) {
    return ino < lfs.nodes_cap ? lfs.nodes[ino] : NULL;
}

struct lfs_node *lfs_new_node(fuse_ino_t ino, mode_t mode, uid_t uid, gid_t gid) {
    if (ino >= lfs.nodes_cap) {
        size_t cap = lfs.nodes_cap ? lfs.nodes_cap : 1024;
        while (cap <= ino) cap *= 2;
        struct lfs_node **nodes = realloc(lfs.nodes, cap * sizeof *nodes);
        if (!nodes) return NULL;
        memset(nodes + lfs.nodes_cap, 0, (cap - lfs.nodes_cap) * sizeof *nodes);
        lfs.nodes = nodes;
        lfs.nodes_cap = cap;
    }
    struct lfs_node *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->ino = ino;
    n->mode = mode;
    n->uid = uid;
    n->gid = gid;
    lfs_touch(&n->mtime);
    n->atime = n->ctime = n->mtime;
    lfs.nodes[ino] = n;
    if (ino >= lfs.next_ino) lfs.next_ino = ino + 1;
    return n;
}

/* Inode numbers are never reused: a durable directory may still name a number the running system
 * has forgotten, and its durable contents stay in the store until the next mount collects them. */
void lfs_maybe_free(struct lfs_node *n) {
    if (n->ino == FUSE_ROOT_ID || n->nlink || n->nlookup || n->open) return;
    lfs.nodes[n->ino] = NULL;
    for (size_t i = 0; i < n->nents; i++) free(n->ents[i].name);
    free(n->ents);
    free(n->data);
    free(n->dirty);
    free(n);
}

struct lfs_entry *lfs_find(struct lfs_node *dir, const char *name) {
    for (size_t i = 0; i < dir->nents; i++)
        if (strcmp(dir->ents[i].name, name) == 0) return &dir->ents[i];
    return NULL;
}

int lfs_add_entry(struct lfs_node *dir, const char *name, fuse_ino_t ino) {
    if (dir->nents == dir->ents_cap) {
        size_t cap = dir->ents_cap ? dir->ents_cap * 2 : 16;
        struct lfs_entry *ents = realloc(dir->ents, cap * sizeof *ents);
        if (!ents) return -ENOMEM;
        dir->ents = ents;
        dir->ents_cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) return -ENOMEM;
    dir->ents[dir->nents++] = (struct lfs_entry){copy, ino};
    dir->dir_dirty = true;
    lfs_touch(&dir->mtime);
    dir->ctime = dir->mtime;
    return 0;
}

void lfs_remove_entry(struct lfs_node *dir, struct lfs_entry *e) {
    free(e->name);
    size_t i = (size_t)(e - dir->ents);
    memmove(&dir->ents[i], &dir->ents[i + 1], (dir->nents - i - 1) * sizeof *e);
    dir->nents--;
    dir->dir_dirty = true;
    lfs_touch(&dir->mtime);
    dir->ctime = dir->mtime;
}

void lfs_mark_dirty(struct lfs_node *n, size_t from, size_t to) {
    if (to <= from) return;
    size_t first = from / LFS_PAGE, last = (to - 1) / LFS_PAGE;
    size_t words = last / 64 + 1;
    if (words > n->dirty_words) {
        size_t cap = n->dirty_words ? n->dirty_words : 4;
        while (cap < words) cap *= 2;
        uint64_t *d = realloc(n->dirty, cap * sizeof *d);
        if (!d) abort(); /* a test tool: running out of memory is fatal, never silently lossy */
        memset(d + n->dirty_words, 0, (cap - n->dirty_words) * sizeof *d);
        n->dirty = d;
        n->dirty_words = cap;
    }
    for (size_t p = first; p <= last; p++) n->dirty[p / 64] |= 1ull << (p % 64);
}

static int reserve(struct lfs_node *n, size_t size) {
    if (size <= n->cap) return 0;
    size_t cap = n->cap ? n->cap : LFS_PAGE;
    while (cap < size) cap *= 2;
    char *d = realloc(n->data, cap);
    if (!d) return -ENOMEM;
    n->data = d;
    n->cap = cap;
    return 0;
}

/* Truncation or extension: bytes past the old size read as zeros and are dirty (the durable copy
 * may still hold older bytes there until the next fsync). */
int lfs_resize(struct lfs_node *n, size_t size) {
    if (size == n->size) return 0;
    if (size > n->size) {
        int r = reserve(n, size);
        if (r) return r;
        memset(n->data + n->size, 0, size - n->size);
        lfs_mark_dirty(n, n->size, size);
    }
    n->size = size;
    n->size_dirty = true;
    return 0;
}

int lfs_write(struct lfs_node *n, const char *buf, size_t len, off_t off) {
    size_t end = (size_t)off + len;
    if (end > n->size) {
        int r = lfs_resize(n, end);
        if (r) return r;
    }
    memcpy(n->data + off, buf, len);
    lfs_mark_dirty(n, (size_t)off, end);
    return 0;
}

void lfs_stat(const struct lfs_node *n, struct stat *st) {
    memset(st, 0, sizeof *st);
    st->st_ino = n->ino;
    st->st_mode = n->mode;
    st->st_nlink = n->nlink;
    if (S_ISDIR(n->mode)) { /* 2 + subdirectories, as fts(3) (FileManager's enumerator) relies on */
        st->st_nlink = 2;
        for (size_t i = 0; i < n->nents; i++) {
            const struct lfs_node *child = lfs_get(n->ents[i].ino);
            if (child && S_ISDIR(child->mode)) st->st_nlink++;
        }
    }
    st->st_uid = n->uid;
    st->st_gid = n->gid;
    st->st_size = S_ISDIR(n->mode) ? (off_t)n->nents * 32 : (off_t)n->size;
    st->st_blksize = LFS_PAGE;
    st->st_blocks = (st->st_size + 511) / 512;
    st->st_atim = n->atime;
    st->st_mtim = n->mtime;
    st->st_ctim = n->ctime;
}
