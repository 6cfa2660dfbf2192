/* lossyfs: the FUSE low-level operations over the volatile model; fsync and fsyncdir persist. */
#include "lossyfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

#define LOCK() pthread_mutex_lock(&lfs.lock)
#define UNLOCK() pthread_mutex_unlock(&lfs.lock)
#define FAIL(req, e) do { UNLOCK(); fuse_reply_err(req, e); return; } while (0)

static const double timeout = 1.0; /* kernel attribute/entry cache: every change goes through it anyway */

static void reply_entry(fuse_req_t req, struct lfs_node *n) {
    struct fuse_entry_param e;
    memset(&e, 0, sizeof e);
    e.ino = n->ino;
    e.generation = 1;
    e.attr_timeout = timeout;
    e.entry_timeout = timeout;
    lfs_stat(n, &e.attr);
    n->nlookup++;
    UNLOCK();
    fuse_reply_entry(req, &e);
}

static struct lfs_node *dir_of(fuse_ino_t ino) {
    struct lfs_node *d = lfs_get(ino);
    return d && S_ISDIR(d->mode) ? d : NULL;
}

static void op_init(void *userdata, struct fuse_conn_info *conn) {
    (void)userdata;
    /* Write-through: every write reaches lossyfs when the syscall returns, so a process killed -9
     * loses nothing the kernel held; only a power cut loses what was not synced. */
    conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
    LOCK();
    struct lfs_node *d = dir_of(parent);
    if (!d) FAIL(req, ENOTDIR);
    fuse_ino_t ino;
    if (strcmp(name, ".") == 0) ino = d->ino;
    else if (strcmp(name, "..") == 0) ino = d->parent;
    else {
        struct lfs_entry *e = lfs_find(d, name);
        if (!e) FAIL(req, ENOENT);
        ino = e->ino;
    }
    reply_entry(req, lfs_get(ino));
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
    LOCK();
    struct lfs_node *n = lfs_get(ino);
    if (n) {
        n->nlookup = n->nlookup > nlookup ? n->nlookup - nlookup : 0;
        lfs_maybe_free(n);
    }
    UNLOCK();
    fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets) {
    LOCK();
    for (size_t i = 0; i < count; i++) {
        struct lfs_node *n = lfs_get(forgets[i].ino);
        if (!n) continue;
        n->nlookup = n->nlookup > forgets[i].nlookup ? n->nlookup - forgets[i].nlookup : 0;
        lfs_maybe_free(n);
    }
    UNLOCK();
    fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    (void)fi;
    LOCK();
    struct lfs_node *n = lfs_get(ino);
    if (!n) FAIL(req, ENOENT);
    struct stat st;
    lfs_stat(n, &st);
    UNLOCK();
    fuse_reply_attr(req, &st, timeout);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi) {
    (void)fi;
    LOCK();
    struct lfs_node *n = lfs_get(ino);
    if (!n) FAIL(req, ENOENT);
    if (to_set & FUSE_SET_ATTR_SIZE) {
        if (!S_ISREG(n->mode)) FAIL(req, EISDIR);
        int r = lfs_resize(n, (size_t)attr->st_size);
        if (r) FAIL(req, -r);
        lfs_touch(&n->mtime);
    }
    if (to_set & FUSE_SET_ATTR_MODE) n->mode = (n->mode & S_IFMT) | (attr->st_mode & 07777);
    if (to_set & FUSE_SET_ATTR_UID) n->uid = attr->st_uid;
    if (to_set & FUSE_SET_ATTR_GID) n->gid = attr->st_gid;
    if (to_set & FUSE_SET_ATTR_ATIME) n->atime = attr->st_atim;
    if (to_set & FUSE_SET_ATTR_MTIME) n->mtime = attr->st_mtim;
    if (to_set & FUSE_SET_ATTR_ATIME_NOW) lfs_touch(&n->atime);
    if (to_set & FUSE_SET_ATTR_MTIME_NOW) lfs_touch(&n->mtime);
    if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) n->meta_durable = false;
    lfs_touch(&n->ctime);
    struct stat st;
    lfs_stat(n, &st);
    UNLOCK();
    fuse_reply_attr(req, &st, timeout);
}

/* A new inode with an entry in `parent`; the entry is volatile until `parent` is fsync'd. */
static struct lfs_node *make(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, int *err) {
    struct lfs_node *d = dir_of(parent);
    if (!d) { *err = ENOTDIR; return NULL; }
    if (lfs_find(d, name)) { *err = EEXIST; return NULL; }
    if (strlen(name) > 255) { *err = ENAMETOOLONG; return NULL; }
    const struct fuse_ctx *ctx = fuse_req_ctx(req);
    struct lfs_node *n = lfs_new_node(lfs.next_ino, mode, ctx->uid, ctx->gid);
    if (!n) { *err = ENOMEM; return NULL; }
    if (lfs_add_entry(d, name, n->ino)) { lfs_maybe_free(n); *err = ENOMEM; return NULL; }
    n->nlink = 1;
    if (S_ISDIR(mode)) n->parent = d->ino;
    return n;
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev) {
    (void)rdev;
    if (!S_ISREG(mode)) { fuse_reply_err(req, EPERM); return; }
    LOCK();
    int err;
    struct lfs_node *n = make(req, parent, name, mode, &err);
    if (!n) FAIL(req, err);
    reply_entry(req, n);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
    LOCK();
    int err;
    struct lfs_node *n = make(req, parent, name, S_IFDIR | (mode & 07777), &err);
    if (!n) FAIL(req, err);
    reply_entry(req, n);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi) {
    LOCK();
    int err;
    struct lfs_node *n = make(req, parent, name, S_IFREG | (mode & 07777), &err);
    if (!n) FAIL(req, err);
    n->open++;
    fi->fh = n->ino;
    struct fuse_entry_param e;
    memset(&e, 0, sizeof e);
    e.ino = n->ino;
    e.generation = 1;
    e.attr_timeout = e.entry_timeout = timeout;
    lfs_stat(n, &e.attr);
    n->nlookup++;
    UNLOCK();
    fuse_reply_create(req, &e, fi);
}

static void drop_entry(struct lfs_node *d, struct lfs_entry *e) {
    struct lfs_node *n = lfs_get(e->ino);
    lfs_remove_entry(d, e);
    if (!n) return;
    n->nlink--;
    lfs_touch(&n->ctime);
    lfs_maybe_free(n);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) {
    LOCK();
    struct lfs_node *d = dir_of(parent);
    if (!d) FAIL(req, ENOTDIR);
    struct lfs_entry *e = lfs_find(d, name);
    if (!e) FAIL(req, ENOENT);
    struct lfs_node *n = lfs_get(e->ino);
    if (n && S_ISDIR(n->mode)) FAIL(req, EISDIR);
    drop_entry(d, e);
    UNLOCK();
    fuse_reply_err(req, 0);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) {
    LOCK();
    struct lfs_node *d = dir_of(parent);
    if (!d) FAIL(req, ENOTDIR);
    struct lfs_entry *e = lfs_find(d, name);
    if (!e) FAIL(req, ENOENT);
    struct lfs_node *n = lfs_get(e->ino);
    if (!n || !S_ISDIR(n->mode)) FAIL(req, ENOTDIR);
    if (n->nents) FAIL(req, ENOTEMPTY);
    drop_entry(d, e);
    UNLOCK();
    fuse_reply_err(req, 0);
}

/* Each directory's side of a rename is durable when that directory is fsync'd (strict: a move
 * between directories synced on one side only leaves the file in both, or in neither). */
static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags) {
    LOCK();
    if (flags & ~RENAME_NOREPLACE) FAIL(req, EINVAL);
    struct lfs_node *from = dir_of(parent), *to = dir_of(newparent);
    if (!from || !to) FAIL(req, ENOTDIR);
    struct lfs_entry *e = lfs_find(from, name);
    if (!e) FAIL(req, ENOENT);
    fuse_ino_t ino = e->ino;
    struct lfs_node *n = lfs_get(ino);
    struct lfs_entry *old = lfs_find(to, newname);
    if (old && old->ino == ino) { UNLOCK(); fuse_reply_err(req, 0); return; }
    if (old) {
        if (flags & RENAME_NOREPLACE) FAIL(req, EEXIST);
        struct lfs_node *victim = lfs_get(old->ino);
        if (victim && S_ISDIR(victim->mode) && (!S_ISDIR(n->mode) || victim->nents)) FAIL(req, victim->nents ? ENOTEMPTY : EISDIR);
        if (victim && !S_ISDIR(victim->mode) && S_ISDIR(n->mode)) FAIL(req, ENOTDIR);
        drop_entry(to, old);
        e = lfs_find(from, name); /* the array may have moved */
    }
    lfs_remove_entry(from, e);
    if (lfs_add_entry(to, newname, ino)) { n->nlink--; lfs_maybe_free(n); FAIL(req, ENOMEM); }
    if (S_ISDIR(n->mode)) n->parent = to->ino;
    lfs_touch(&n->ctime);
    UNLOCK();
    fuse_reply_err(req, 0);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname) {
    LOCK();
    struct lfs_node *n = lfs_get(ino), *d = dir_of(newparent);
    if (!n || !d) FAIL(req, ENOENT);
    if (S_ISDIR(n->mode)) FAIL(req, EPERM);
    if (lfs_find(d, newname)) FAIL(req, EEXIST);
    if (lfs_add_entry(d, newname, ino)) FAIL(req, ENOMEM);
    n->nlink++;
    reply_entry(req, n);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    LOCK();
    struct lfs_node *n = lfs_get(ino);
    if (!n) FAIL(req, ENOENT);
    if (S_ISDIR(n->mode)) FAIL(req, EISDIR);
    n->open++;
    fi->fh = ino;
    fi->keep_cache = 0;
    UNLOCK();
    fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
    (void)fi;
    LOCK();
    struct lfs_node *n = lfs_get(ino);
    if (!n) FAIL(req, ENOENT);
    size_t len = (size_t)off >= n->size ? 0 : n->size - (size_t)off;
    if (len > size) len = size;
    char *copy = malloc(len ? len : 1);
    if (!copy) FAIL(req, ENOMEM);
    if (len) memcpy(copy, n->data + off, len);
    UNLOCK();
    fuse_reply_buf(req, copy, len);
    free(copy);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
    (void)fi;
    LOCK();
    struct lfs_node *n = lfs_get(ino);
    if (!n) FAIL(req, ENOENT);
    int r = lfs_write(n, buf, size, off);
    if (r) FAIL(req, -r);
    lfs_touch(&n->mtime);
    n->ctime = n->mtime;
    UNLOCK();
    fuse_reply_write(req, size);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    (void)ino; (void)fi;
    fuse_reply_err(req, 0); /* close() makes nothing durable */
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    (void)fi;
    LOCK();
    struct lfs_node *n = lfs_get(ino);
    if (n) {
        if (n->open) n->open--;
        lfs_maybe_free(n);
    }
    UNLOCK();
    fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
    (void)datasync; (void)fi;
    LOCK();
    struct lfs_node *n = lfs_get(ino);
    if (!n) FAIL(req, ENOENT);
    int r = lfs_persist_file(n);
    lfs.fsyncs++;
    UNLOCK();
    fuse_reply_err(req, r ? -r : 0);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    LOCK();
    if (!dir_of(ino)) FAIL(req, ENOTDIR);
    UNLOCK();
    fi->fh = ino;
    fuse_reply_open(req, fi);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
    (void)fi;
    LOCK();
    struct lfs_node *d = dir_of(ino);
    if (!d) FAIL(req, ENOTDIR);
    char *buf = malloc(size);
    if (!buf) FAIL(req, ENOMEM);
    size_t used = 0;
    for (off_t i = off; i < (off_t)d->nents + 2; i++) {
        struct stat st;
        memset(&st, 0, sizeof st);
        const char *name;
        if (i < 2) {
            name = i == 0 ? "." : "..";
            st.st_ino = i == 0 ? d->ino : d->parent;
            st.st_mode = S_IFDIR;
        } else {
            struct lfs_entry *e = &d->ents[i - 2];
            struct lfs_node *n = lfs_get(e->ino);
            name = e->name;
            st.st_ino = e->ino;
            st.st_mode = n ? n->mode & S_IFMT : S_IFREG;
        }
        size_t need = fuse_add_direntry(req, buf + used, size - used, name, &st, i + 1);
        if (need > size - used) break;
        used += need;
    }
    UNLOCK();
    fuse_reply_buf(req, buf, used);
    free(buf);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    (void)ino; (void)fi;
    fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
    (void)datasync; (void)fi;
    LOCK();
    struct lfs_node *d = dir_of(ino);
    if (!d) FAIL(req, ENOTDIR);
    int r = lfs_persist_dir(d);
    lfs.fsyncdirs++;
    UNLOCK();
    fuse_reply_err(req, r ? -r : 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino) {
    (void)ino;
    LOCK();
    unsigned long long used = 0, files = 0;
    for (size_t i = 0; i < lfs.nodes_cap; i++)
        if (lfs.nodes[i]) { files++; used += (lfs.nodes[i]->size + LFS_PAGE - 1) / LFS_PAGE; }
    UNLOCK();
    struct statvfs st;
    memset(&st, 0, sizeof st);
    st.f_bsize = st.f_frsize = LFS_PAGE;
    st.f_blocks = 16ull << 20; /* 64 GiB */
    st.f_bfree = st.f_bavail = st.f_blocks > used ? st.f_blocks - used : 0;
    st.f_files = 1ull << 24;
    st.f_ffree = st.f_favail = st.f_files - files;
    st.f_namemax = 255;
    fuse_reply_statfs(req, &st);
}

const struct fuse_lowlevel_ops lfs_ops = {
    .init = op_init,
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .rename = op_rename,
    .link = op_link,
    .open = op_open,
    .read = op_read,
    .write = op_write,
    .flush = op_flush,
    .release = op_release,
    .fsync = op_fsync,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .releasedir = op_releasedir,
    .fsyncdir = op_fsyncdir,
    .statfs = op_statfs,
    .create = op_create,
};
