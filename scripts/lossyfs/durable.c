/* lossyfs: the durable state in a backing directory (what survives a power cut), load and collection. */
#include "lossyfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* STORE/data/<ino>: a file's durable contents (its size is the durable size)
 * STORE/meta/<ino>: "mode uid gid\n" of an inode that has reached the disk
 * STORE/dir/<ino>:  a directory's durable entries, each "<ino> <name>\0" */

static void path_of(char *buf, const char *kind, fuse_ino_t ino) {
    snprintf(buf, PATH_MAX, "%s/%s/%lu", lfs.store, kind, (unsigned long)ino);
}

/* Whole-file replacement by rename: atomic against the lossyfs process itself dying. */
static int write_whole(const char *kind, fuse_ino_t ino, const char *buf, size_t len) {
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    path_of(path, kind, ino);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return -errno;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, buf + done, len - done);
        if (w < 0) { int e = errno; close(fd); return -e; }
        done += (size_t)w;
    }
    close(fd);
    return rename(tmp, path) ? -errno : 0;
}

int lfs_persist_meta(struct lfs_node *n) {
    char line[96];
    int len = snprintf(line, sizeof line, "%o %u %u\n", (unsigned)n->mode, (unsigned)n->uid, (unsigned)n->gid);
    int r = write_whole("meta", n->ino, line, (size_t)len);
    if (r == 0) n->meta_durable = true;
    return r;
}

static int write_pages(struct lfs_node *n, size_t durable_size, double keep, unsigned *rng);

int lfs_persist_file(struct lfs_node *n) {
    if (S_ISDIR(n->mode)) return lfs_persist_dir(n);
    int r = write_pages(n, n->size, 1.0, NULL);
    if (r) return r;
    n->size_dirty = false;
    n->durable_size = n->size;
    memset(n->dirty, 0, n->dirty_words * sizeof *n->dirty);
    return lfs_persist_meta(n);
}

static double draw(unsigned *rng) { return (double)rand_r(rng) / ((double)RAND_MAX + 1.0); }

/* Writes dirty pages below min(durable_size, volatile size) into the durable copy (each with
 * probability `keep`), then sets its size to durable_size. */
static int write_pages(struct lfs_node *n, size_t durable_size, double keep, unsigned *rng) {
    char path[PATH_MAX];
    path_of(path, "data", n->ino);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return -errno;
    size_t limit = durable_size < n->size ? durable_size : n->size;
    for (size_t w = 0; w < n->dirty_words; w++) {
        if (!n->dirty[w]) continue;
        for (size_t b = 0; b < 64; b++) {
            if (!(n->dirty[w] & (1ull << b))) continue;
            size_t off = (w * 64 + b) * LFS_PAGE;
            if (off >= limit) continue;
            if (keep < 1.0 && draw(rng) >= keep) continue;
            size_t len = limit - off < LFS_PAGE ? limit - off : LFS_PAGE;
            if (pwrite(fd, n->data + off, len, (off_t)off) != (ssize_t)len) { int e = errno ? errno : EIO; close(fd); return -e; }
        }
    }
    int r = ftruncate(fd, (off_t)durable_size) ? -errno : 0;
    close(fd);
    return r;
}

int lfs_persist_dir(struct lfs_node *n) {
    size_t cap = 64, len = 0;
    for (size_t i = 0; i < n->nents; i++) cap += strlen(n->ents[i].name) + 24;
    char *buf = malloc(cap);
    if (!buf) return -ENOMEM;
    for (size_t i = 0; i < n->nents; i++) {
        struct lfs_node *child = lfs_get(n->ents[i].ino);
        if (child && !child->meta_durable) {
            int r = lfs_persist_meta(child); /* the inode reaches the disk with its first durable entry */
            if (r) { free(buf); return r; }
        }
        len += (size_t)snprintf(buf + len, cap - len, "%lu %s", (unsigned long)n->ents[i].ino, n->ents[i].name) + 1;
    }
    int r = write_whole("dir", n->ino, buf, len);
    free(buf);
    if (r) return r;
    n->dir_dirty = false;
    return n->meta_durable ? 0 : lfs_persist_meta(n);
}

/* At a cut in torn mode: each unsynced size change, dirty page and changed directory reaches the
 * disk independently with probability lfs.torn (a write cache flushing in any order). */
void lfs_torn_writeback(void) {
    unsigned rng = lfs.seed;
    for (size_t i = 0; i < lfs.nodes_cap; i++) {
        struct lfs_node *n = lfs.nodes[i];
        if (!n) continue;
        if (S_ISDIR(n->mode)) {
            if (n->dir_dirty && draw(&rng) < lfs.torn) lfs_persist_dir(n);
        } else if (S_ISREG(n->mode)) {
            size_t size = n->durable_size;
            if (n->size_dirty && draw(&rng) < lfs.torn) size = n->size;
            if (n->size_dirty || n->dirty_words) write_pages(n, size, lfs.torn, &rng);
        }
    }
}

/* ---- loading the durable state at mount ---- */

static char *read_all(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st)) { close(fd); return NULL; }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t done = 0;
    while (buf && done < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + done, (size_t)st.st_size - done);
        if (r <= 0) break;
        done += (size_t)r;
    }
    close(fd);
    if (buf) buf[done] = 0;
    *len = done;
    return buf;
}

static struct lfs_node *load_node(fuse_ino_t ino) {
    char path[PATH_MAX];
    size_t len;
    path_of(path, "meta", ino);
    char *meta = read_all(path, &len);
    if (!meta) return NULL;
    unsigned mode = 0, uid = 0, gid = 0;
    int ok = sscanf(meta, "%o %u %u", &mode, &uid, &gid) == 3;
    free(meta);
    if (!ok) return NULL;
    struct lfs_node *n = lfs_new_node(ino, mode, uid, gid);
    if (!n) return NULL;
    n->meta_durable = true;
    if (S_ISREG(mode)) {
        path_of(path, "data", ino);
        n->data = read_all(path, &n->size);
        n->cap = n->data ? n->size + 1 : 0;
        if (!n->data) n->size = 0;
        n->durable_size = n->size;
        struct stat st;
        if (stat(path, &st) == 0) n->mtime = n->ctime = n->atime = st.st_mtim;
    }
    return n;
}

static void load_dir(struct lfs_node *dir) {
    char path[PATH_MAX];
    size_t len;
    path_of(path, "dir", dir->ino);
    char *buf = read_all(path, &len);
    if (!buf) return;
    for (size_t at = 0; at < len;) {
        char *rec = buf + at;
        at += strlen(rec) + 1;
        char *space = strchr(rec, ' ');
        if (!space) continue;
        fuse_ino_t ino = strtoul(rec, NULL, 10);
        const char *name = space + 1;
        struct lfs_node *child = lfs_get(ino);
        if (child && S_ISDIR(child->mode)) continue; /* a directory named twice (unsynced move): keep the first */
        if (!child && !(child = load_node(ino))) continue;
        if (lfs_add_entry(dir, name, ino)) continue;
        child->nlink++;
        if (S_ISDIR(child->mode)) {
            child->parent = dir->ino;
            load_dir(child);
        }
    }
    free(buf);
    dir->dir_dirty = false;
}

/* Deletes what no durable entry reaches: contents and inodes whose names never became durable. */
static void collect(const char *kind) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", lfs.store, kind);
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *end;
        fuse_ino_t ino = strtoul(e->d_name, &end, 10);
        if (*end == 0 && lfs_get(ino)) continue;
        char victim[PATH_MAX + 256];
        snprintf(victim, sizeof victim, "%s/%s", path, e->d_name);
        unlink(victim);
    }
    closedir(d);
}

int lfs_load(void) {
    const char *kinds[] = {"data", "meta", "dir"};
    char path[PATH_MAX];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", lfs.store, kinds[i]);
        if (mkdir(path, 0700) && errno != EEXIST) return -errno;
    }
    lfs.next_ino = FUSE_ROOT_ID + 1;
    struct lfs_node *root = load_node(FUSE_ROOT_ID);
    if (!root) {
        root = lfs_new_node(FUSE_ROOT_ID, S_IFDIR | 0755, getuid(), getgid());
        if (!root) return -ENOMEM;
        int r = lfs_persist_meta(root);
        if (r) return r;
    }
    root->parent = FUSE_ROOT_ID;
    root->nlink = 1;
    load_dir(root);
    for (int i = 0; i < 3; i++) collect(kinds[i]);
    return 0;
}
