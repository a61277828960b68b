// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd_fuzz - a structured fuzzer of the iommufd uAPI and its mock driver
 *
 * Runs random but structured sequences of every iommufd ioctl and of the
 * IOMMU_TEST_CMD ops of the mock driver (CONFIG_IOMMUFD_TEST) on a few
 * /dev/iommu file descriptors from a few threads. Object IDs learned from
 * successful calls are kept in pools by kind, so that most calls name a live
 * object of the right kind, some a live object of another kind and a few a
 * random ID. Struct sizes, flags, reserved fields, lengths, IOVAs and user
 * pointers are mostly valid and sometimes not.
 *
 * Usage: iommufd_fuzz [-s SEED] [-n MAX_OPS] [-t SECONDS] [-j THREADS]
 *                     [-f FDS] [-o OPS | -x OPS] [-v]
 *
 * Output is kselftest TAP with one result. It fails on an outcome that the
 * kernel must never give (fail() and MUST_FAIL_IF() below), on a kernel
 * report in the log while it runs (read from /dev/kmsg), on an operation
 * that hangs, and on pages left pinned or a kernel unable to do basic work
 * at the end. With -j 1 the sequence of operations is a function of the
 * seed alone. See README.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include "iommufd_test.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define offsetofend(T, m) (offsetof(T, m) + sizeof(((T *)0)->m))

#define DEV_IOMMU "/dev/iommu"
#define NCTX 3			/* most /dev/iommu file descriptors open */
#define MAX_THREADS 16
#define SLOTS 48		/* hard capacity of a pool */
#define CAP 16			/* an allocation above this destroys instead */
#define CAP_SMALL 8		/* the same, for devices, queues and accesses */
#define CAP_MAPS 32
#define ARENA_SZ (64 << 10)	/* per thread: buffers the kernel reads/writes */
#define HIST 48
#define DESC_SZ 320
#define HIST_SZ (DESC_SZ + 32)
#define NERR 600
#define DEFAULT_MEM_LIMIT 65536
#define KADDR 0xffff888000000000ULL
#define NPASID 8		/* PASID attachments tracked per mock device */
#define NDMABUF 4		/* the mock's dma-bufs a thread keeps */
#define PASID_MAX (1U << MOCK_PASID_WIDTH)

/* Kinds of pool entries; the first K_NOBJ hold iommufd object IDs */
enum {
	K_IOAS,
	K_HWPT,		/* paging HWPT: a = IOAS, b = alloc flags, c = auto */
	K_NESTED,	/* nested HWPT: a = parent or vIOMMU, b = vIOMMU, c = flags */
	K_DEV,		/* mock device: id = stdev, a = idev, b = hwpt, c = flags,
			 * pasid[]: its PASID attachments */
	K_VIOMMU,	/* a = idev, b = parent HWPT, c = in_data,
			 * iova, len = its mmap range (len 0: none) */
	K_VDEV,		/* a = vIOMMU, b = idev, iova = virt_id */
	K_VEVENTQ,	/* a = vIOMMU, fd */
	K_FAULT,	/* fd */
	K_HWQUEUE,	/* a = vIOMMU, b = index, iova, len */
	K_NOBJ,
	K_ACCESS = K_NOBJ, /* id = fd = the access fd, a = IOAS, b = flags */
	K_APAGES,	/* id = item, a = access fd, iova, len */
	K_MAP,		/* id = IOAS, iova, len, uva */
	NKINDS
};

static const char *const kind_name[NKINDS] = {
	"ioas", "hwpt", "nested", "dev", "viommu", "vdev", "veventq", "fault",
	"hwqueue", "access", "apages", "map",
};

struct ent {
	int kind;
	__u32 id;
	__u32 a, b, c;
	__u64 iova, len, uva;
	int fd;			/* -1: none, or closed */
	int busy;		/* users outside g_lock */
	bool dead;		/* freed when busy drops to 0 */
	__u32 cookie[8];	/* K_FAULT: cookies read, to respond to */
	unsigned int ncookie;
	/* K_DEV: PASID pasid[i] has HWPT pasid_hwpt[i] attached */
	__u32 pasid[NPASID], pasid_hwpt[NPASID];
	unsigned int npasid;
	bool pasid_lost;	/* more than NPASID: the list is incomplete */
};

struct ctx {
	int fd;
	int slot;
	int refs;
	bool dead;
	struct ent *e[NKINDS][SLOTS];
	int n[NKINDS];
};

/* Statistics: one per ioctl, test op or file operation */
enum {
	S_DESTROY, S_IOAS_ALLOC, S_IOAS_IOVA_RANGES, S_IOAS_ALLOW_IOVAS,
	S_IOAS_MAP, S_IOAS_MAP_FILE, S_IOAS_COPY, S_IOAS_UNMAP, S_OPTION,
	S_VFIO_IOAS, S_CHANGE_PROCESS,
	S_HWPT_ALLOC_PAGING, S_HWPT_ALLOC_NESTED, S_HWPT_ALLOC_VIOMMU,
	S_HWPT_ALLOC_OTHER, S_GET_HW_INFO, S_SET_DIRTY_TRACKING,
	S_GET_DIRTY_BITMAP, S_INVALIDATE_HWPT, S_INVALIDATE_VIOMMU,
	S_INVALIDATE_OTHER, S_FAULT_QUEUE_ALLOC, S_VIOMMU_ALLOC,
	S_VDEVICE_ALLOC, S_VEVENTQ_ALLOC, S_HW_QUEUE_ALLOC, S_VIOMMU_MMAP,
	S_MOCK_DOMAIN, S_MOCK_DOMAIN_FLAGS, S_MOCK_DOMAIN_REPLACE,
	S_CREATE_ACCESS, S_ACCESS_PAGES, S_DESTROY_ACCESS_PAGES,
	S_ACCESS_RW, S_ACCESS_REPLACE_IOAS, S_ADD_RESERVED,
	S_MD_CHECK_MAP, S_MD_CHECK_REFS, S_MD_CHECK_IOTLB, S_DIRTY,
	S_TRIGGER_IOPF, S_TRIGGER_VEVENT, S_DEV_CHECK_CACHE,
	S_PASID_ATTACH, S_PASID_REPLACE, S_PASID_DETACH, S_PASID_CHECK_HWPT,
	S_PASID_VERIFY, S_SET_TEMP_MEMORY_LIMIT, S_TEST_OP_UNKNOWN,
	S_FAULT_READ, S_FAULT_WRITE, S_FAULT_POLL,
	S_VEVENTQ_READ, S_VEVENTQ_POLL,
	S_CLOSE_QUEUE_FD, S_CLOSE_ACCESS_FD, S_REOPEN, S_CLOSE_ORPHAN,
	S_POLL_ORPHAN, S_UNKNOWN_IOCTL, S_MADVISE, S_DMABUF_GET,
	S_DMABUF_REVOKE, S_DMABUF_MAP,
	NSTAT
};

static const char *const stat_name[NSTAT] = {
	"IOMMU_DESTROY", "IOMMU_IOAS_ALLOC", "IOMMU_IOAS_IOVA_RANGES",
	"IOMMU_IOAS_ALLOW_IOVAS", "IOMMU_IOAS_MAP", "IOMMU_IOAS_MAP_FILE",
	"IOMMU_IOAS_COPY",
	"IOMMU_IOAS_UNMAP", "IOMMU_OPTION", "IOMMU_VFIO_IOAS",
	"IOMMU_IOAS_CHANGE_PROCESS",
	"IOMMU_HWPT_ALLOC(paging)", "IOMMU_HWPT_ALLOC(nested)",
	"IOMMU_HWPT_ALLOC(viommu)", "IOMMU_HWPT_ALLOC(other)",
	"IOMMU_GET_HW_INFO", "IOMMU_HWPT_SET_DIRTY_TRACKING",
	"IOMMU_HWPT_GET_DIRTY_BITMAP", "IOMMU_HWPT_INVALIDATE(hwpt)",
	"IOMMU_HWPT_INVALIDATE(viommu)", "IOMMU_HWPT_INVALIDATE(other)",
	"IOMMU_FAULT_QUEUE_ALLOC", "IOMMU_VIOMMU_ALLOC",
	"IOMMU_VDEVICE_ALLOC", "IOMMU_VEVENTQ_ALLOC", "IOMMU_HW_QUEUE_ALLOC",
	"vIOMMU mmap", "TEST_MOCK_DOMAIN", "TEST_MOCK_DOMAIN_FLAGS",
	"TEST_MOCK_DOMAIN_REPLACE", "TEST_CREATE_ACCESS",
	"TEST_ACCESS_PAGES", "TEST_DESTROY_ACCESS_PAGES", "TEST_ACCESS_RW",
	"TEST_ACCESS_REPLACE_IOAS", "TEST_ADD_RESERVED", "TEST_MD_CHECK_MAP",
	"TEST_MD_CHECK_REFS", "TEST_MD_CHECK_IOTLB", "TEST_DIRTY",
	"TEST_TRIGGER_IOPF", "TEST_TRIGGER_VEVENT", "TEST_DEV_CHECK_CACHE",
	"TEST_PASID_ATTACH", "TEST_PASID_REPLACE", "TEST_PASID_DETACH",
	"TEST_PASID_CHECK_HWPT", "TEST_PASID_CHECK_HWPT(verify)",
	"TEST_SET_TEMP_MEMORY_LIMIT", "TEST_(unknown op)",
	"fault read", "fault write", "fault poll",
	"veventq read", "veventq poll",
	"close queue fd", "close access fd", "reopen /dev/iommu",
	"close orphan fd", "poll orphan fd", "unknown ioctl nr", "madvise",
	"TEST_DMABUF_GET", "TEST_DMABUF_REVOKE", "IOMMU_IOAS_MAP_FILE(dma-buf)",
};

struct opstat {
	unsigned long calls, ok;
	unsigned int err[NERR];
};

struct thr {
	int idx;
	pthread_t tid;
	uint64_t s[4];
	uint8_t *cmdbuf;	/* the ioctl struct; a guard page follows */
	uint8_t *data;		/* ARENA_SZ bytes; guard pages around */
	size_t cmd_sz;
	struct opstat st[NSTAT];
	unsigned long ops;
	unsigned long opno;
	char desc[DESC_SZ];
	char hist[HIST][HIST_SZ];
	unsigned int hpos;
	volatile int64_t op_start;
	volatile int64_t stuck_reported;
	/* The mock's dma-bufs this thread made: fd (-1: none), size, revoked */
	int dmabuf_fd[NDMABUF];
	__u32 dmabuf_len[NDMABUF];
	bool dmabuf_revoked[NDMABUF];
};

struct res {
	int ret;
	int err;
	__u32 size;
	bool bad_arg;
};

/* Options */
static uint64_t g_seed;
static unsigned long g_max_ops;
static int g_secs = -1;
static int g_nthreads = 1;
static bool g_verbose;
static char g_args[1024];	/* -f and -o, for the rerun lines */

/* Shared state */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
/* Recursive: on_fatal_signal() may interrupt a thread inside out() */
static pthread_mutex_t g_out = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_mutex_t g_kmsg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ctx *g_ctx[NCTX];
static int g_nctx = NCTX;	/* -f */
static struct ent *g_orphan[SLOTS];
static int g_norphan;
static struct thr *g_thr[MAX_THREADS];
static unsigned long g_opcount;		/* atomic */
static volatile int g_stop;
static volatile int g_failed;
static volatile int g_kernel_report;
static int64_t g_start_ns, g_deadline_ns, g_next_progress_ns;
static int g_kmsg_fd = -1;
static unsigned long g_faults_read, g_vevents_read, g_lost_read; /* atomic */
static __thread struct thr *cur_thr;

/* Memory */
static long g_page;
static uint8_t *g_pool;		/* anonymous, private */
static size_t g_pool_len;
static size_t g_hole[2];	/* PROT_NONE pages of the pool */
static uint8_t *g_shm;		/* memfd, shared */
static size_t g_shm_len;
static int g_shm_fd = -1;	/* the memfd, kept open for IOAS_MAP_FILE */

static void L(void)
{
	pthread_mutex_lock(&g_lock);
}

static void U(void)
{
	pthread_mutex_unlock(&g_lock);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* Random numbers: xoshiro256**, seeded with splitmix64 */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rnd64(struct thr *t)
{
	uint64_t *s = t->s;
	uint64_t r = rotl(s[1] * 5, 7) * 9;
	uint64_t x = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= x;
	s[3] = rotl(s[3], 45);
	return r;
}

static __u32 rnd32(struct thr *t)
{
	return rnd64(t) >> 32;
}

/* Uniform in [0, n) */
static __u32 rn(struct thr *t, __u32 n)
{
	return (__u32)(((rnd64(t) >> 32) * (uint64_t)n) >> 32);
}

static bool chance(struct thr *t, unsigned int pct)
{
	return rn(t, 100) < pct;
}

static void seed_thread(struct thr *t, uint64_t seed, int idx)
{
	uint64_t x = seed ^ (0x632be59bd9b4e019ULL * (uint64_t)(idx + 1));
	int i;

	for (i = 0; i < 4; i++)
		t->s[i] = splitmix64(&x);
}

/* ------------------------------------------------------------------ */
/* Output */

static const char *errname(int e)
{
	static __thread char buf[16];

	switch (e) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case EMFILE: return "EMFILE";
	case ENOTTY: return "ENOTTY";
	case ENOSPC: return "ENOSPC";
	case ESPIPE: return "ESPIPE";
	case ERANGE: return "ERANGE";
	case EDEADLK: return "EDEADLK";
	case ENOSYS: return "ENOSYS";
	case EOVERFLOW: return "EOVERFLOW";
	case EBADFD: return "EBADFD";
	case EBADE: return "EBADE";
	case EMSGSIZE: return "EMSGSIZE";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EADDRINUSE: return "EADDRINUSE";
	case 524: return "ENOTSUPP(524)";
	default:
		snprintf(buf, sizeof(buf), "E%d", e);
		return buf;
	}
}

static void out(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&g_out);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	pthread_mutex_unlock(&g_out);
}

/* Append to the description of the current operation */
static void note(struct thr *t, const char *fmt, ...)
{
	size_t len = strlen(t->desc);
	va_list ap;

	if (len >= DESC_SZ - 2)
		return;
	if (len)
		t->desc[len++] = ' ';
	va_start(ap, fmt);
	vsnprintf(t->desc + len, DESC_SZ - len, fmt, ap);
	va_end(ap);
}

static void dump_history(struct thr *t, unsigned int max)
{
	unsigned int i, n = t->hpos < max ? t->hpos : max;

	out("# last %u operations of thread %d (oldest first):\n", n, t->idx);
	for (i = t->hpos - n; i != t->hpos; i++)
		out("#   %s\n", t->hist[i % HIST]);
	out("#   %lu %s (current)\n", t->opno, t->desc);
}

/* A check that cannot be false failed: the run is "not ok" */
static void fail(struct thr *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	bool first;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	first = !__atomic_exchange_n(&g_failed, 1, __ATOMIC_SEQ_CST);
	out("# FAIL [thread %d, op %lu] %s\n", t->idx, t->opno, buf);
	if (first)
		dump_history(t, 16);
	g_stop = 1;
}

static void stat_note(struct thr *t, int sid, int ret, int err)
{
	struct opstat *s = &t->st[sid];

	s->calls++;
	if (ret >= 0)
		s->ok++;
	else
		s->err[err < NERR ? err : NERR - 1]++;
}

/* Kernel reports in the log: lines the harness also fails on */
static const char *const kmsg_pat[] = {
	"BUG:", "WARNING:", "Oops", "kernel BUG", "UBSAN", "KASAN",
	"unreferenced object", "DEBUG_LOCKS_WARN_ON", "possible circular",
	"detected stall", "blocked for more than", "list_add corruption",
	"list_del corruption", "Time out waiting for iommufd object",
};

static void kmsg_open(void)
{
	g_kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (g_kmsg_fd >= 0)
		lseek(g_kmsg_fd, 0, SEEK_END);
}

/*
 * Print the kernel's reports (and the lines that follow them, the call
 * trace) that appeared in the log since the last call.
 */
static void kmsg_check(struct thr *t)
{
	static int trailer;	/* kernel lines still to print after a hit */
	char buf[8192];		/* a smaller one: EINVAL on a long record */
	unsigned long pri;
	char *msg, *end;
	unsigned int i;
	ssize_t n;

	if (g_kmsg_fd < 0 || pthread_mutex_trylock(&g_kmsg_lock))
		return;
	for (;;) {
		n = read(g_kmsg_fd, buf, sizeof(buf) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		buf[n] = 0;
		pri = strtoul(buf, &end, 10);
		msg = strchr(buf, ';');
		/* Facility 0: the kernel's own messages, not ours */
		if (!msg || *end != ',' || (pri >> 3) != 0)
			continue;
		msg++;
		end = strchr(msg, '\n');
		if (end)
			*end = 0;
		for (i = 0; i < ARRAY_SIZE(kmsg_pat); i++)
			if (strstr(msg, kmsg_pat[i]))
				break;
		if (i == ARRAY_SIZE(kmsg_pat)) {
			if (trailer > 0) {
				trailer--;
				out("# kernel: %s\n", msg);
			}
			continue;
		}
		out("# kernel: %s\n", msg);
		trailer = 40;
		if (!__atomic_exchange_n(&g_kernel_report, 1,
					 __ATOMIC_SEQ_CST)) {
			out("# kernel report after op %lu of thread %d%s\n",
			    t->opno, t->idx,
			    g_nthreads == 1 ? "" : " (or of another thread)");
			g_stop = 1;
		}
	}
	if (g_kernel_report == 1) {
		g_kernel_report = 2;
		dump_history(t, 24);
	}
	pthread_mutex_unlock(&g_kmsg_lock);
}

/* ------------------------------------------------------------------ */
/* Pools; all under g_lock */

static struct ent *ent_new(int kind)
{
	struct ent *e = calloc(1, sizeof(*e));

	if (!e)
		abort();
	e->kind = kind;
	e->fd = -1;
	return e;
}

static void ent_free(struct ent *e)
{
	if (e->fd >= 0)
		close(e->fd);
	free(e);
}

static void ent_kill(struct ent *e)
{
	e->dead = true;
	if (!e->busy)
		ent_free(e);
}

/* Drop a reference taken with e->busy++ */
static void ent_put(struct ent *e)
{
	if (!e)
		return;
	L();
	if (--e->busy == 0 && e->dead)
		ent_free(e);
	U();
}

static void pool_add(struct ctx *c, struct ent *e)
{
	if (c->dead || c->n[e->kind] >= SLOTS) {
		ent_kill(e);
		return;
	}
	c->e[e->kind][c->n[e->kind]++] = e;
}

static void pool_del_at(struct ctx *c, int kind, int i)
{
	struct ent *e = c->e[kind][i];

	c->e[kind][i] = c->e[kind][--c->n[kind]];
	ent_kill(e);
}

static void pool_del(struct ctx *c, struct ent *e)
{
	int i;

	for (i = 0; i < c->n[e->kind]; i++) {
		if (c->e[e->kind][i] == e) {
			pool_del_at(c, e->kind, i);
			return;
		}
	}
}

static void pool_del_id(struct ctx *c, int kind, __u32 id)
{
	int i;

	for (i = 0; i < c->n[kind]; i++)
		if (c->e[kind][i]->id == id)
			pool_del_at(c, kind, i--);
}

static struct ent *pick(struct thr *t, struct ctx *c, int kind)
{
	if (!c->n[kind])
		return NULL;
	return c->e[kind][rn(t, c->n[kind])];
}

typedef bool (*ent_filter)(const struct ent *e, uint64_t arg);

static struct ent *pick_if(struct thr *t, struct ctx *c, int kind,
			   ent_filter f, uint64_t arg)
{
	int i, n = 0;

	for (i = 0; i < c->n[kind]; i++)
		n += f(c->e[kind][i], arg);
	if (!n)
		return NULL;
	n = rn(t, n);
	for (i = 0; i < c->n[kind]; i++)
		if (f(c->e[kind][i], arg) && !n--)
			return c->e[kind][i];
	return NULL;
}

static bool f_id(const struct ent *e, uint64_t id)
{
	return e->id == id;
}

static bool f_fd(const struct ent *e, uint64_t unused)
{
	return e->fd >= 0;
}

static bool f_idle_fd(const struct ent *e, uint64_t unused)
{
	return e->fd >= 0 && !e->busy;
}

static bool f_orphan_kind(const struct ent *e, uint64_t kind)
{
	return e->kind == (int)kind && e->fd >= 0;
}

static bool pool_full(struct ctx *c, int kind, int cap)
{
	bool full;

	L();
	full = c->n[kind] >= cap;
	U();
	return full;
}

static __u32 rand_id(struct thr *t)
{
	switch (rn(t, 8)) {
	case 0:
		return 0;
	case 1:
		return 0xffffffff;
	case 2:
		return 0x7fffffff;
	case 3:
		return 0x80000000;
	case 4:
		return rnd32(t);
	default:
		return 1 + rn(t, 64);
	}
}

static __u32 ent_oid(struct thr *t, const struct ent *e)
{
	if (e->kind == K_DEV && chance(t, 50))
		return e->a;
	return e->id;
}

/*
 * An ID for a field that wants an object of @kind: a live one of that kind
 * most of the time, a live one of another kind (or of another fd)
 * sometimes, a random one rarely. For K_DEV, @idev asks for the device
 * (idev) ID rather than the selftest object's.
 */
static __u32 pick_id(struct thr *t, struct ctx *c, int kind, bool idev)
{
	unsigned int p = rn(t, 100);
	struct ctx *o = c;
	struct ent *e = NULL;

	if (p < 85) {
		e = pick(t, c, kind);
		if (e)
			return (kind == K_DEV && idev) ? e->a : e->id;
	}
	if (p >= 94 && p < 97)
		o = g_ctx[rn(t, g_nctx)];
	if (p < 97 && o)
		e = pick(t, o, rn(t, K_NOBJ));
	if (e)
		return ent_oid(t, e);
	return rand_id(t);
}

static __u32 pick_idev(struct thr *t, struct ctx *c)
{
	return pick_id(t, c, K_DEV, true);
}

/* Forget an object that IOMMU_DESTROY destroyed, and what went with it */
static void forget_id(struct ctx *c, __u32 id)
{
	int k, i, j;

	for (k = 0; k < K_NOBJ; k++) {
		for (i = 0; i < c->n[k]; i++) {
			struct ent *e = c->e[k][i];

			if (e->id != id)
				continue;
			if (k == K_IOAS) {
				for (j = 0; j < c->n[K_MAP]; j++)
					if (c->e[K_MAP][j]->id == id)
						pool_del_at(c, K_MAP, j--);
			}
			if (k == K_DEV) {
				for (j = 0; j < c->n[K_VDEV]; j++)
					if (c->e[K_VDEV][j]->b == e->a)
						pool_del_at(c, K_VDEV, j--);
			}
			pool_del_at(c, k, i--);
		}
	}
}

/* ------------------------------------------------------------------ */
/* iommufd file descriptors */

static struct ctx *ctx_get(struct thr *t)
{
	int s = rn(t, g_nctx);
	struct ctx *c;

	L();
	c = g_ctx[s];
	if (!c) {
		int fd = open(DEV_IOMMU, O_RDWR | O_CLOEXEC);

		if (fd < 0) {
			U();
			return NULL;
		}
		c = calloc(1, sizeof(*c));
		if (!c)
			abort();
		c->fd = fd;
		c->slot = s;
		g_ctx[s] = c;
	}
	c->refs++;
	U();
	return c;
}

static void ctx_free(struct ctx *c)
{
	close(c->fd);
	free(c);
}

static void ctx_put(struct ctx *c)
{
	L();
	if (--c->refs == 0 && c->dead)
		ctx_free(c);
	U();
}

/*
 * Close a /dev/iommu fd (when its last user is done): its objects go with
 * it. Some queue and access fds of it stay open for a while as orphans.
 */
static void ctx_retire(struct thr *t, int s, bool orphans)
{
	struct ctx *c = g_ctx[s];
	int k, i;

	if (!c)
		return;
	g_ctx[s] = NULL;
	c->dead = true;
	for (k = 0; k < NKINDS; k++) {
		for (i = 0; i < c->n[k]; i++) {
			struct ent *e = c->e[k][i];

			if (orphans && e->fd >= 0 && g_norphan < SLOTS &&
			    chance(t, 50))
				g_orphan[g_norphan++] = e;
			else
				ent_kill(e);
		}
		c->n[k] = 0;
	}
	if (!c->refs)
		ctx_free(c);
}

/* ------------------------------------------------------------------ */
/* Memory: user pointers, IOVAs and lengths */

static void *bad_ptr(struct thr *t)
{
	switch (rn(t, 5)) {
	case 0:
		return NULL;
	case 1:
		return (void *)(uintptr_t)KADDR;
	case 2:
		return t->data + ARENA_SZ;		/* guard page */
	case 3:
		return (void *)(uintptr_t)~0xfffULL;
	default:
		return g_pool + g_hole[0] * g_page;	/* PROT_NONE */
	}
}

/* A buffer for the kernel to read or write @need bytes at, in the arena */
static void *out_ptr(struct thr *t, size_t need, unsigned int badpct)
{
	if (chance(t, badpct))
		return bad_ptr(t);
	if (need >= ARENA_SZ)
		return t->data;
	if (chance(t, 10))
		return t->data + ARENA_SZ - need;	/* ends at the guard */
	return t->data;
}

static bool in_arena(struct thr *t, const void *p, size_t len)
{
	uintptr_t off = (uintptr_t)p - (uintptr_t)t->data;

	return (uintptr_t)p >= (uintptr_t)t->data && off <= ARENA_SZ &&
	       len <= ARENA_SZ - off;
}

static __u64 pool_ptr(struct thr *t, uint8_t *base, size_t blen, __u64 len)
{
	size_t np = blen / g_page;
	size_t off = (size_t)g_page * rn(t, np);

	if (len <= blen && off + len > blen && chance(t, 80))
		off = (blen - len) & ~(size_t)(g_page - 1);
	return (uintptr_t)base + off;
}

/* A user VA to map @len bytes from: the pool, mostly where they fit */
static __u64 gen_uva(struct thr *t, __u64 len)
{
	switch (rn(t, 40)) {
	case 0 ... 29:
		return pool_ptr(t, g_pool, g_pool_len, len);
	case 30 ... 33:
		if (g_shm)
			return pool_ptr(t, g_shm, g_shm_len, len);
		return pool_ptr(t, g_pool, g_pool_len, len);
	case 34:
		return (uintptr_t)g_pool + rn(t, g_pool_len);
	case 35:
		return (uintptr_t)g_pool + (g_hole[1] - rn(t, 2)) * g_page;
	case 36:
		return 0;
	case 37:
		return KADDR;
	case 38:
		return (uintptr_t)g_pool + g_pool_len;	/* guard */
	default:
		return (uintptr_t)g_pool + g_pool_len - g_page;
	}
}

static __u64 gen_len(struct thr *t)
{
	static const __u64 huge[] = {
		~0ULL, 1ULL << 40, 1ULL << 31, ~0ULL - 4095, 1ULL << 63,
	};

	switch (rn(t, 20)) {
	case 0 ... 12:
		return (__u64)g_page * (1 + rn(t, 16));
	case 13:
	case 14:
		return (__u64)g_page * (1 + rn(t, g_pool_len / g_page));
	case 15:
		return (__u64)(g_page / 2) * (1 + rn(t, 32));
	case 16:
		return 1 + rn(t, 4 * g_page);
	case 17:
		return 0;
	case 18:
		return huge[rn(t, ARRAY_SIZE(huge))];
	default:
		return (__u64)g_page * (1 + rn(t, 256));
	}
}

static bool f_map_of(const struct ent *e, uint64_t ioas)
{
	return e->id == ioas;
}

/* A mapping, of @ioas if it has one; g_lock held */
static struct ent *pick_map(struct thr *t, struct ctx *c, __u32 ioas)
{
	struct ent *m = NULL;

	if (chance(t, 85))
		m = pick_if(t, c, K_MAP, f_map_of, ioas);
	if (!m)
		m = pick(t, c, K_MAP);
	return m;
}

/* An IOVA to map at; g_lock held */
static __u64 gen_iova(struct thr *t, struct ctx *c, __u32 ioas)
{
	static const __u64 huge[] = {
		~0ULL, ~0ULL - 4095, 1ULL << 63, 1ULL << 52, 1ULL << 32, 0,
	};
	struct ent *m;

	switch (rn(t, 20)) {
	case 0 ... 10:
		return MOCK_APERTURE_START + (__u64)g_page * rn(t, 4096);
	case 11 ... 13:
		m = pick_map(t, c, ioas);
		if (!m)
			return MOCK_APERTURE_START;
		if (chance(t, 50))
			return m->iova;
		return m->iova + (__u64)g_page * rn(t, m->len / g_page + 1);
	case 14:
		return (__u64)g_page * rn(t, 4096);
	case 15:
		return MOCK_APERTURE_START + (__u64)g_page * rn(t, 4096) + 1 +
		       rn(t, g_page - 1);
	case 16:
		return (__u64)MOCK_APERTURE_LAST + 1 -
		       (__u64)g_page * (1 + rn(t, 4));
	case 17:
		return MOCK_APERTURE_START +
		       (__u64)(g_page / 2) * (2 * rn(t, 1024) + 1);
	case 18:
		return huge[rn(t, ARRAY_SIZE(huge))];
	default:
		return rnd64(t);
	}
}

/* Flags: mostly a combination of @valid, sometimes anything */
static __u32 gen_flags(struct thr *t, __u32 valid)
{
	switch (rn(t, 40)) {
	case 0:
		return rnd32(t);
	case 1:
		return valid | (1U << rn(t, 32));
	case 2:
		return ~0U;
	default:
		return (__u32)rnd32(t) & valid;
	}
}

/* A reserved field: zero mostly */
static __u32 gen_rsvd(struct thr *t)
{
	return chance(t, 2) ? 1U << rn(t, 32) : 0;
}

/* ------------------------------------------------------------------ */
/* The ioctl call, with struct size and argument pointer variations */

enum { SZ_NORMAL, SZ_SHORT, SZ_MIN, SZ_LONG0, SZ_LONGNZ, SZ_RANDOM };

/*
 * Call @req with @cmd (its first __u32 is the size) on @fd. @ksize is the
 * struct's size, @minsize the kernel's minimum (offsetofend of the field
 * main.c names for it). The struct is given mostly as is, sometimes
 * shorter, longer with a zero or a non-zero tail, at a bad address. The
 * kernel's answer is copied back into @cmd; r->size is the size given.
 */
static void fz_ioctl(struct thr *t, int fd, int sid, unsigned long req,
		     void *cmd, size_t ksize, size_t minsize, struct res *r)
{
	uint8_t *buf = t->cmdbuf;
	unsigned int p = rn(t, 100);
	int sc = SZ_NORMAL;
	size_t tail = 0;
	void *arg = buf;
	__u32 size = ksize;

	if (p < 3)
		sc = SZ_SHORT;
	else if (p < 6 && minsize < ksize)
		sc = SZ_MIN;
	else if (p < 10)
		sc = SZ_LONG0;
	else if (p < 13)
		sc = SZ_LONGNZ;
	else if (p < 14)
		sc = SZ_RANDOM;

	switch (sc) {
	case SZ_SHORT:
		size = rn(t, minsize);
		break;
	case SZ_MIN:
		size = minsize;
		break;
	case SZ_LONG0:
		tail = 1 + rn(t, chance(t, 20) ? t->cmd_sz - ksize : 64);
		size = ksize + tail;
		break;
	case SZ_LONGNZ:
		tail = 1 + rn(t, 64);
		size = ksize + tail;
		break;
	case SZ_RANDOM:
		size = chance(t, 50) ? rnd32(t) : ksize + rn(t, 2 * t->cmd_sz);
		break;
	}
	memcpy(buf, cmd, ksize);
	memset(buf + ksize, 0, tail);
	if (sc == SZ_LONGNZ)
		buf[ksize + rn(t, tail)] = 1 + rn(t, 255);
	memcpy(buf, &size, sizeof(size));

	r->bad_arg = chance(t, 2);
	if (r->bad_arg) {
		switch (rn(t, 3)) {
		case 0:
			arg = NULL;
			break;
		case 1:
			arg = (void *)(uintptr_t)KADDR;
			break;
		default:
			arg = buf + t->cmd_sz;	/* guard page */
			break;
		}
	}
	r->size = size;
	r->ret = ioctl(fd, req, arg);
	r->err = r->ret < 0 ? errno : 0;
	memcpy(cmd, buf, ksize);

	note(t, "sz=%u%s -> %s", size, r->bad_arg ? " badarg" : "",
	     errname(r->err));
	stat_note(t, sid, r->ret, r->err);

	/* What the kernel must never do */
	if (r->ret != 0 && r->ret != -1)
		fail(t, "%s returned %d", stat_name[sid], r->ret);
	if (r->err == ENOTTY)
		fail(t, "%s: ENOTTY for an ioctl this kernel has",
		     stat_name[sid]);
	if (r->err >= 512)
		fail(t, "%s: kernel-internal errno %d reached userspace",
		     stat_name[sid], r->err);
	if (r->bad_arg) {
		if (r->err != EFAULT)
			fail(t, "%s: %s for an unreadable argument, not EFAULT",
			     stat_name[sid], errname(r->err));
	} else if (sc == SZ_SHORT) {
		if (r->err != EINVAL)
			fail(t, "%s: %s for size %u < %zu, not EINVAL",
			     stat_name[sid], errname(r->err), size, minsize);
	} else if (sc == SZ_LONGNZ) {
		if (r->err != E2BIG)
			fail(t, "%s: %s for a non-zero tail, not E2BIG",
			     stat_name[sid], errname(r->err));
	}
}

/* The kernel saw input field @m of @T: the size given covers it */
#define SAW(r, T, m) ((r)->size >= offsetofend(T, m))

/* A successful call must not have had input @cond */
#define MUST_FAIL_IF(t, r, cond, what)					\
	do {								\
		if ((r)->ret == 0 && (cond))				\
			fail(t, "success despite %s", what);		\
	} while (0)

static void check_id(struct thr *t, const char *what, __u32 id)
{
	if (!id || id > INT_MAX)
		fail(t, "%s: object ID %u out of range", what, id);
}

static void check_fd(struct thr *t, const char *what, __u32 fd)
{
	if ((int)fd < 0 || fcntl((int)fd, F_GETFD) < 0)
		fail(t, "%s: fd %d is not an open file descriptor", what,
		     (int)fd);
}

static void test_cmd(struct thr *t, struct ctx *c, int sid,
		     struct iommu_test_cmd *cmd, struct res *r)
{
	cmd->size = sizeof(*cmd);
	fz_ioctl(t, c->fd, sid, IOMMU_TEST_CMD, cmd, sizeof(*cmd),
		 offsetofend(struct iommu_test_cmd, last), r);
}

/* ------------------------------------------------------------------ */
/* Operations */

static void op_ioas_unmap(struct thr *t, struct ctx *c);
static void op_close_access(struct thr *t, struct ctx *c);
static void op_destroy_access_pages(struct thr *t, struct ctx *c);

static void do_destroy(struct thr *t, struct ctx *c, __u32 id, int kind,
		       bool forget_busy)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };
	struct res r;

	note(t, "destroy id=%u (%s)", id, kind >= 0 ? kind_name[kind] : "?");
	fz_ioctl(t, c->fd, S_DESTROY, IOMMU_DESTROY, &cmd, sizeof(cmd),
		 offsetofend(struct iommu_destroy, id), &r);
	L();
	if (r.ret == 0) {
		forget_id(c, id);
	} else if (!r.bad_arg && r.size >= sizeof(cmd) && kind >= 0 &&
		   (r.err == ENOENT || (r.err == EBUSY && forget_busy))) {
		/* Gone already, or busy: forget it (fd close destroys it) */
		pool_del_id(c, kind, id);
	}
	U();
}

/* Make room in a full pool */
static void op_reap(struct thr *t, struct ctx *c, int kind)
{
	struct ent *e;
	__u32 id;

	note(t, "reap %s:", kind_name[kind]);
	switch (kind) {
	case K_MAP:
		op_ioas_unmap(t, c);
		return;
	case K_APAGES:
		op_destroy_access_pages(t, c);
		return;
	case K_ACCESS:
		op_close_access(t, c);
		return;
	}
	L();
	e = pick(t, c, kind);
	if (!e || (e->fd >= 0 && e->busy)) {
		U();
		return;
	}
	id = e->id;
	if (e->fd >= 0) {
		close(e->fd);
		e->fd = -1;
	}
	U();
	do_destroy(t, c, id, kind, chance(t, 50));
}

/* An allocation into a full pool destroys one of its objects instead. */
static bool reap_if_full(struct thr *t, struct ctx *c, int kind, int cap)
{
	if (!pool_full(c, kind, cap))
		return false;
	op_reap(t, c, kind);
	return true;
}

static void op_destroy(struct thr *t, struct ctx *c)
{
	struct ent *e = NULL;
	int kind = -1;
	__u32 id;

	L();
	if (chance(t, 75)) {
		kind = rn(t, K_NOBJ);
		e = pick(t, c, kind);
	}
	if (e) {
		id = ent_oid(t, e);
		if ((kind == K_VEVENTQ || kind == K_FAULT) && e->fd >= 0 &&
		    !e->busy && chance(t, 60)) {
			note(t, "close fd %d;", e->fd);
			close(e->fd);
			e->fd = -1;
		}
	} else {
		kind = -1;
		id = pick_id(t, c, rn(t, K_NOBJ), false);
	}
	U();
	do_destroy(t, c, id, kind, false);
}

static void op_ioas_alloc(struct thr *t, struct ctx *c)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	struct ent *e;
	struct res r;

	if (reap_if_full(t, c, K_IOAS, CAP))
		return;
	cmd.flags = gen_rsvd(t);
	note(t, "ioas_alloc flags=%#x", cmd.flags);
	fz_ioctl(t, c->fd, S_IOAS_ALLOC, IOMMU_IOAS_ALLOC, &cmd, sizeof(cmd),
		 offsetofend(struct iommu_ioas_alloc, out_ioas_id), &r);
	MUST_FAIL_IF(t, &r, cmd.flags, "IOAS_ALLOC flags");
	if (r.ret)
		return;
	check_id(t, "IOAS_ALLOC", cmd.out_ioas_id);
	note(t, "=%u", cmd.out_ioas_id);
	e = ent_new(K_IOAS);
	e->id = cmd.out_ioas_id;
	L();
	pool_add(c, e);
	U();
}

static void op_iova_ranges(struct thr *t, struct ctx *c)
{
	struct iommu_ioas_iova_ranges cmd = { .size = sizeof(cmd) };
	struct iommu_iova_range *rg;
	__u32 in_num, i;
	struct res r;
	void *p;

	L();
	cmd.ioas_id = pick_id(t, c, K_IOAS, false);
	U();
	switch (rn(t, 10)) {
	case 0:
		cmd.num_iovas = 0;
		break;
	case 1:
		cmd.num_iovas = 1;
		break;
	case 2:
		cmd.num_iovas = rnd32(t);
		break;
	default:
		cmd.num_iovas = 1 + rn(t, 64);
		break;
	}
	in_num = cmd.num_iovas;
	p = out_ptr(t, (size_t)in_num * sizeof(*rg), 3);
	cmd.allowed_iovas = (uintptr_t)p;
	cmd.__reserved = gen_rsvd(t);
	note(t, "iova_ranges ioas=%u num=%u", cmd.ioas_id, in_num);
	fz_ioctl(t, c->fd, S_IOAS_IOVA_RANGES, IOMMU_IOAS_IOVA_RANGES, &cmd,
		 sizeof(cmd),
		 offsetofend(struct iommu_ioas_iova_ranges, out_iova_alignment),
		 &r);
	MUST_FAIL_IF(t, &r, cmd.__reserved, "IOVA_RANGES __reserved");
	if (r.err == EMSGSIZE && cmd.num_iovas <= in_num)
		fail(t, "IOVA_RANGES: EMSGSIZE with num_iovas %u <= %u",
		     cmd.num_iovas, in_num);
	if (r.ret)
		return;
	if (cmd.num_iovas > in_num)
		fail(t, "IOVA_RANGES: success with %u ranges > room for %u",
		     cmd.num_iovas, in_num);
	if (!cmd.out_iova_alignment ||
	    (cmd.out_iova_alignment & (cmd.out_iova_alignment - 1)) ||
	    cmd.out_iova_alignment > (__u64)g_page)
		fail(t, "IOVA_RANGES: out_iova_alignment %#llx",
		     (unsigned long long)cmd.out_iova_alignment);
	if (!in_arena(t, p, (size_t)cmd.num_iovas * sizeof(*rg)))
		return;
	rg = p;
	for (i = 0; i < cmd.num_iovas; i++) {
		if (rg[i].start > rg[i].last ||
		    (i && rg[i].start <= rg[i - 1].last))
			fail(t, "IOVA_RANGES: range %u [%#llx, %#llx] %s", i,
			     (unsigned long long)rg[i].start,
			     (unsigned long long)rg[i].last,
			     rg[i].start > rg[i].last ? "inverted" :
							"out of order");
	}
}

static void op_allow_iovas(struct thr *t, struct ctx *c)
{
	struct iommu_ioas_allow_iovas cmd = { .size = sizeof(cmd) };
	struct iommu_iova_range *rg = (void *)t->data;
	__u32 i, n, p = rn(t, 100);
	struct res r;

	L();
	cmd.ioas_id = pick_id(t, c, K_IOAS, false);
	U();
	n = p < 40 ? 0 : p < 92 ? 1 + rn(t, 3) : p < 96 ? rn(t, 5000) :
							rnd32(t);
	for (i = 0; i < n && i < ARENA_SZ / sizeof(*rg); i++) {
		__u64 s = MOCK_APERTURE_START + (__u64)g_page * rn(t, 8192);

		switch (rn(t, 6)) {
		case 0:
			rg[i].start = MOCK_APERTURE_START;
			rg[i].last = MOCK_APERTURE_LAST;
			break;
		case 1:
			rg[i].start = 0;
			rg[i].last = ~0ULL;
			break;
		case 2:
			rg[i].start = rnd64(t);
			rg[i].last = rnd64(t);
			break;
		default:
			rg[i].start = s;
			rg[i].last = s + (__u64)g_page * (1 + rn(t, 4096)) - 1;
			break;
		}
	}
	cmd.num_iovas = n;
	cmd.allowed_iovas = chance(t, 3) ? (uintptr_t)bad_ptr(t) :
					   (uintptr_t)rg;
	cmd.__reserved = gen_rsvd(t);
	note(t, "allow_iovas ioas=%u num=%u", cmd.ioas_id, n);
	fz_ioctl(t, c->fd, S_IOAS_ALLOW_IOVAS, IOMMU_IOAS_ALLOW_IOVAS, &cmd,
		 sizeof(cmd),
		 offsetofend(struct iommu_ioas_allow_iovas, allowed_iovas),
		 &r);
	MUST_FAIL_IF(t, &r, cmd.__reserved, "ALLOW_IOVAS __reserved");
}

static void add_map(struct ctx *c, __u32 ioas, __u64 iova, __u64 len,
		    __u64 uva)
{
	struct ent *m = ent_new(K_MAP);

	m->id = ioas;
	m->iova = iova;
	m->len = len;
	m->uva = uva;
	pool_add(c, m);
}

static __u32 gen_map_flags(struct thr *t)
{
	__u32 f = IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE;

	switch (rn(t, 50)) {
	case 0:
		return 0;
	case 1:
		return rnd32(t);
	case 2:
		f = IOMMU_IOAS_MAP_READABLE;
		break;
	case 3:
		f = IOMMU_IOAS_MAP_WRITEABLE;
		break;
	}
	if (chance(t, 60))
		f |= IOMMU_IOAS_MAP_FIXED_IOVA;
	return f;
}

#define MAP_FLAGS_ALL (IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | \
		       IOMMU_IOAS_MAP_READABLE)

/* Where a map goes: its flags, an IOAS, an IOVA (FIXED_IOVA or a hint) */
static void gen_map_dst(struct thr *t, struct ctx *c, __u32 *flags,
			__u32 *ioas_id, __u64 *iova)
{
	*flags = gen_map_flags(t);
	L();
	*ioas_id = pick_id(t, c, K_IOAS, false);
	if (*flags & IOMMU_IOAS_MAP_FIXED_IOVA)
		*iova = gen_iova(t, c, *ioas_id);
	else if (chance(t, 10))
		*iova = rnd64(t);
	U();
}

static void check_fixed_iova(struct thr *t, const char *what, __u32 flags,
			     __u64 in, __u64 out)
{
	if ((flags & IOMMU_IOAS_MAP_FIXED_IOVA) && out != in)
		fail(t, "%s: FIXED_IOVA %#llx moved to %#llx", what,
		     (unsigned long long)in, (unsigned long long)out);
}

static void op_ioas_map(struct thr *t, struct ctx *c)
{
	struct iommu_ioas_map cmd = { .size = sizeof(cmd) };
	__u64 in_iova, in_len;
	struct res r;

	if (reap_if_full(t, c, K_MAP, CAP_MAPS))
		return;
	gen_map_dst(t, c, &cmd.flags, &cmd.ioas_id, &cmd.iova);
	cmd.length = gen_len(t);
	cmd.user_va = gen_uva(t, cmd.length);
	cmd.__reserved = gen_rsvd(t);
	in_iova = cmd.iova;
	in_len = cmd.length;
	note(t, "map ioas=%u flags=%#x va=%#llx len=%#llx iova=%#llx",
	     cmd.ioas_id, cmd.flags, (unsigned long long)cmd.user_va,
	     (unsigned long long)cmd.length, (unsigned long long)cmd.iova);
	fz_ioctl(t, c->fd, S_IOAS_MAP, IOMMU_IOAS_MAP, &cmd, sizeof(cmd),
		 offsetofend(struct iommu_ioas_map, iova), &r);
	MUST_FAIL_IF(t, &r, (cmd.flags & ~MAP_FLAGS_ALL) || cmd.__reserved,
		     "IOAS_MAP unknown flags or __reserved");
	MUST_FAIL_IF(t, &r, !in_len, "IOAS_MAP of length 0");
	if (r.ret)
		return;
	check_fixed_iova(t, "IOAS_MAP", cmd.flags, in_iova, cmd.iova);
	if (cmd.iova + in_len - 1 < cmd.iova)
		fail(t, "IOAS_MAP: iova %#llx + length %#llx overflows",
		     (unsigned long long)cmd.iova,
		     (unsigned long long)in_len);
	note(t, "@%#llx", (unsigned long long)cmd.iova);
	L();
	add_map(c, cmd.ioas_id, cmd.iova, in_len, cmd.user_va);
	U();
}

/* A range of the memfd: the pages g_shm maps, where it is in the file */
static void op_ioas_map_file(struct thr *t, struct ctx *c)
{
	struct iommu_ioas_map_file cmd = { .size = sizeof(cmd) };
	__u64 in_iova, in_len, in_start, uva = 0;
	unsigned int p = rn(t, 100);
	struct res r;

	if (reap_if_full(t, c, K_MAP, CAP_MAPS))
		return;
	gen_map_dst(t, c, &cmd.flags, &cmd.ioas_id, &cmd.iova);
	/* The memfd; the iommufd itself (not a memfd); any number */
	cmd.fd = p < 85 ? g_shm_fd : p < 92 ? c->fd : (__s32)rnd32(t);
	p = rn(t, 100);
	cmd.start = p < 70 ? (__u64)g_page * rn(t, g_shm_len / g_page) :
		    p < 85 ? rn(t, g_shm_len) : rnd64(t);
	cmd.length = chance(t, 80) ? (__u64)g_page * (1 + rn(t, 16)) :
				     gen_len(t);
	in_iova = cmd.iova;
	in_len = cmd.length;
	in_start = cmd.start;
	note(t, "map_file ioas=%u flags=%#x fd=%d start=%#llx len=%#llx iova=%#llx",
	     cmd.ioas_id, cmd.flags, cmd.fd, (unsigned long long)cmd.start,
	     (unsigned long long)cmd.length, (unsigned long long)cmd.iova);
	fz_ioctl(t, c->fd, S_IOAS_MAP_FILE, IOMMU_IOAS_MAP_FILE, &cmd,
		 sizeof(cmd), offsetofend(struct iommu_ioas_map_file, iova),
		 &r);
	MUST_FAIL_IF(t, &r, cmd.flags & ~MAP_FLAGS_ALL,
		     "IOAS_MAP_FILE unknown flags");
	MUST_FAIL_IF(t, &r, !in_len, "IOAS_MAP_FILE of length 0");
	if (r.ret)
		return;
	check_fixed_iova(t, "IOAS_MAP_FILE", cmd.flags, in_iova, cmd.iova);
	note(t, "@%#llx", (unsigned long long)cmd.iova);
	/* The same pages as g_shm's VA, if within the file */
	if (g_shm && cmd.fd == g_shm_fd && in_start < g_shm_len &&
	    in_len <= g_shm_len - in_start)
		uva = (uintptr_t)g_shm + in_start;
	L();
	add_map(c, cmd.ioas_id, cmd.iova, in_len, uva);
	U();
}

/* The pinned memory to this process: only file mappings can move */
static void op_change_process(struct thr *t, struct ctx *c)
{
	struct iommu_ioas_change_process cmd = { .size = sizeof(cmd) };
	struct res r;

	cmd.__reserved = gen_rsvd(t);
	note(t, "change_process");
	fz_ioctl(t, c->fd, S_CHANGE_PROCESS, IOMMU_IOAS_CHANGE_PROCESS, &cmd,
		 sizeof(cmd),
		 offsetofend(struct iommu_ioas_change_process, __reserved), &r);
	MUST_FAIL_IF(t, &r, cmd.__reserved, "IOAS_CHANGE_PROCESS __reserved");
}

static void op_ioas_copy(struct thr *t, struct ctx *c)
{
	struct iommu_ioas_copy cmd = { .size = sizeof(cmd) };
	__u64 in_dst, uva = 0;
	struct ent *m;
	struct res r;

	if (reap_if_full(t, c, K_MAP, CAP_MAPS))
		return;
	cmd.flags = gen_map_flags(t);
	L();
	m = pick(t, c, K_MAP);
	if (m && chance(t, 90)) {
		cmd.src_ioas_id = m->id;
		cmd.src_iova = m->iova;
		cmd.length = m->len;
		uva = m->uva;
		if (chance(t, 10) && m->len > (__u64)g_page) {
			cmd.src_iova += g_page;
			cmd.length -= g_page;
			uva = uva ? uva + g_page : 0;
		}
	} else {
		cmd.src_ioas_id = pick_id(t, c, K_IOAS, false);
		cmd.src_iova = gen_iova(t, c, cmd.src_ioas_id);
		cmd.length = gen_len(t);
	}
	cmd.dst_ioas_id = pick_id(t, c, K_IOAS, false);
	if (cmd.flags & IOMMU_IOAS_MAP_FIXED_IOVA)
		cmd.dst_iova = gen_iova(t, c, cmd.dst_ioas_id);
	U();
	in_dst = cmd.dst_iova;
	note(t, "copy %u@%#llx -> %u@%#llx len=%#llx flags=%#x",
	     cmd.src_ioas_id, (unsigned long long)cmd.src_iova,
	     cmd.dst_ioas_id, (unsigned long long)cmd.dst_iova,
	     (unsigned long long)cmd.length, cmd.flags);
	fz_ioctl(t, c->fd, S_IOAS_COPY, IOMMU_IOAS_COPY, &cmd, sizeof(cmd),
		 offsetofend(struct iommu_ioas_copy, src_iova), &r);
	MUST_FAIL_IF(t, &r, cmd.flags & ~MAP_FLAGS_ALL,
		     "IOAS_COPY unknown flags");
	if (r.ret)
		return;
	if ((cmd.flags & IOMMU_IOAS_MAP_FIXED_IOVA) && cmd.dst_iova != in_dst)
		fail(t, "IOAS_COPY: FIXED_IOVA %#llx moved to %#llx",
		     (unsigned long long)in_dst,
		     (unsigned long long)cmd.dst_iova);
	L();
	add_map(c, cmd.dst_ioas_id, cmd.dst_iova, cmd.length, uva);
	U();
}

static void op_ioas_unmap(struct thr *t, struct ctx *c)
{
	struct iommu_ioas_unmap cmd = { .size = sizeof(cmd) };
	unsigned int p = rn(t, 100);
	__u64 in_iova, in_len;
	struct ent *m;
	struct res r;
	bool all;
	int i;

	L();
	m = pick(t, c, K_MAP);
	if (m && p < 55) {
		cmd.ioas_id = m->id;
		cmd.iova = m->iova;
		cmd.length = m->len;
	} else if (m && p < 65) {
		cmd.ioas_id = m->id;
		cmd.iova = m->iova + g_page;
		cmd.length = m->len - g_page;
	} else if (p < 80) {
		cmd.ioas_id = pick_id(t, c, K_IOAS, false);
		cmd.iova = 0;
		cmd.length = ~0ULL;
	} else if (p < 90) {
		cmd.ioas_id = pick_id(t, c, K_IOAS, false);
		cmd.iova = MOCK_APERTURE_START;
		cmd.length = (__u64)MOCK_APERTURE_LAST - MOCK_APERTURE_START + 1;
	} else {
		cmd.ioas_id = pick_id(t, c, K_IOAS, false);
		cmd.iova = gen_iova(t, c, cmd.ioas_id);
		cmd.length = gen_len(t);
	}
	U();
	in_iova = cmd.iova;
	in_len = cmd.length;
	all = !in_iova && in_len == ~0ULL;
	note(t, "unmap ioas=%u iova=%#llx len=%#llx", cmd.ioas_id,
	     (unsigned long long)in_iova, (unsigned long long)in_len);
	fz_ioctl(t, c->fd, S_IOAS_UNMAP, IOMMU_IOAS_UNMAP, &cmd, sizeof(cmd),
		 offsetofend(struct iommu_ioas_unmap, length), &r);
	if (r.ret)
		return;
	if (!all && (!cmd.length || cmd.length > in_len))
		fail(t, "IOAS_UNMAP: unmapped %#llx of a range of %#llx",
		     (unsigned long long)cmd.length,
		     (unsigned long long)in_len);
	note(t, "=%#llx", (unsigned long long)cmd.length);
	L();
	for (i = 0; i < c->n[K_MAP]; i++) {
		m = c->e[K_MAP][i];
		if (m->id == cmd.ioas_id &&
		    (all || (m->iova >= in_iova &&
			     m->iova - in_iova < in_len)))
			pool_del_at(c, K_MAP, i--);
	}
	U();
}

static void op_option(struct thr *t, struct ctx *c)
{
	struct iommu_option cmd = { .size = sizeof(cmd) };
	unsigned int p = rn(t, 100);
	struct res r;

	L();
	if (p < 50) {
		cmd.option_id = IOMMU_OPTION_HUGE_PAGES;
		cmd.object_id = pick_id(t, c, K_IOAS, false);
	} else if (p < 90) {
		cmd.option_id = IOMMU_OPTION_RLIMIT_MODE;
		cmd.object_id = chance(t, 90) ? 0 :
				pick_id(t, c, K_IOAS, false);
	} else {
		cmd.option_id = rnd32(t);
		cmd.object_id = pick_id(t, c, K_IOAS, false);
	}
	U();
	p = rn(t, 100);
	cmd.op = p < 50 ? IOMMU_OPTION_OP_GET :
		 p < 95 ? IOMMU_OPTION_OP_SET : rnd32(t);
	cmd.val64 = chance(t, 90) ? rn(t, 2) : rnd64(t);
	cmd.__reserved = gen_rsvd(t);
	note(t, "option id=%u op=%u obj=%u val=%#llx", cmd.option_id, cmd.op,
	     cmd.object_id, (unsigned long long)cmd.val64);
	fz_ioctl(t, c->fd, S_OPTION, IOMMU_OPTION, &cmd, sizeof(cmd),
		 offsetofend(struct iommu_option, val64), &r);
	MUST_FAIL_IF(t, &r, cmd.__reserved, "OPTION __reserved");
	if (r.ret == 0 && cmd.op == IOMMU_OPTION_OP_GET && cmd.val64 > 1 &&
	    (cmd.option_id == IOMMU_OPTION_HUGE_PAGES ||
	     cmd.option_id == IOMMU_OPTION_RLIMIT_MODE))
		fail(t, "OPTION GET of option %u: value %llu", cmd.option_id,
		     (unsigned long long)cmd.val64);
}

static void op_vfio_ioas(struct thr *t, struct ctx *c)
{
	struct iommu_vfio_ioas cmd = { .size = sizeof(cmd) };
	unsigned int p = rn(t, 100);
	struct res r;

	cmd.op = p < 40 ? IOMMU_VFIO_IOAS_GET : p < 75 ? IOMMU_VFIO_IOAS_SET :
		 p < 95 ? IOMMU_VFIO_IOAS_CLEAR : rnd32(t);
	L();
	cmd.ioas_id = cmd.op == IOMMU_VFIO_IOAS_SET || chance(t, 10) ?
			      pick_id(t, c, K_IOAS, false) : 0;
	U();
	cmd.__reserved = gen_rsvd(t);
	note(t, "vfio_ioas op=%u ioas=%u", cmd.op, cmd.ioas_id);
	fz_ioctl(t, c->fd, S_VFIO_IOAS, IOMMU_VFIO_IOAS, &cmd, sizeof(cmd),
		 offsetofend(struct iommu_vfio_ioas, __reserved), &r);
	MUST_FAIL_IF(t, &r, cmd.__reserved, "VFIO_IOAS __reserved");
	if (r.ret == 0 && cmd.op == IOMMU_VFIO_IOAS_GET)
		check_id(t, "VFIO_IOAS GET", cmd.ioas_id);
}

/* The data of an allocation that takes a struct iommu_hwpt_selftest */
static void gen_selftest_data(struct thr *t, struct iommu_hwpt_alloc *cmd)
{
	struct iommu_hwpt_selftest *d = (void *)t->data;
	unsigned int p = rn(t, 100);

	memset(t->data, 0, 64);
	d->iotlb = chance(t, 80) ? IOMMU_TEST_IOTLB_DEFAULT : rnd32(t);
	/* The page-table format: the two the mock has, or an unknown one */
	if (chance(t, 20))
		d->pagetable_type = chance(t, 80) ? MOCK_IOMMUPT_HUGE : rnd32(t);
	cmd->data_len = sizeof(*d);
	if (p < 8) {
		cmd->data_len = offsetofend(struct iommu_hwpt_selftest, iotlb);
	} else if (p < 12) {
		cmd->data_len = sizeof(*d) + 4;
		t->data[sizeof(*d) + rn(t, 4)] = 1;
	} else if (p < 17) {
		cmd->data_len = 0;
	} else if (p < 20) {
		cmd->data_len = 2;
	} else if (p < 25) {
		cmd->data_len = rn(t, 2 * g_page);
	}
	cmd->data_uptr = chance(t, 95) ? (uintptr_t)t->data :
					 (uintptr_t)bad_ptr(t);
}

static bool is_nest_parent(const struct ent *e, uint64_t unused)
{
	return e->b & IOMMU_HWPT_ALLOC_NEST_PARENT;
}

#define HWPT_FLAGS_ALL (IOMMU_HWPT_ALLOC_NEST_PARENT | \
			IOMMU_HWPT_ALLOC_DIRTY_TRACKING | \
			IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID)

/* The allocation flags of a HWPT entry */
static __u32 hwpt_flags(const struct ent *e)
{
	return e->kind == K_HWPT ? e->b : e->c;
}

static bool has_pasid_flag(const struct ent *e, uint64_t unused)
{
	return hwpt_flags(e) & IOMMU_HWPT_ALLOC_PASID;
}

static struct ent *find_id(struct ctx *c, int kind, __u32 id);

static void op_hwpt_alloc(struct thr *t, struct ctx *c)
{
	struct iommu_hwpt_alloc cmd = { .size = sizeof(cmd) };
	unsigned int v = rn(t, 100), p;
	bool on_ioas;
	int sid, kind;
	struct ent *e;
	struct res r;

	if (reap_if_full(t, c, K_HWPT, CAP))
		return;
	if (reap_if_full(t, c, K_NESTED, CAP))
		return;
	L();
	cmd.dev_id = pick_idev(t, c);
	if (v < 35) {
		/* A paging HWPT on an IOAS: nest parent, dirty tracking */
		sid = S_HWPT_ALLOC_PAGING;
		kind = K_HWPT;
		cmd.pt_id = pick_id(t, c, K_IOAS, false);
		p = rn(t, 100);
		if (!pick_if(t, c, K_HWPT, is_nest_parent, 0))
			p /= 2;
		cmd.flags = p < 35 ? IOMMU_HWPT_ALLOC_NEST_PARENT :
			    p < 70 ? 0 :
			    p < 85 ? IOMMU_HWPT_ALLOC_DIRTY_TRACKING :
			    p < 93 ? IOMMU_HWPT_ALLOC_NEST_PARENT |
					     IOMMU_HWPT_ALLOC_DIRTY_TRACKING :
			    p < 97 ? IOMMU_HWPT_FAULT_ID_VALID : rnd32(t);
		/* Attachable to PASIDs (and then to RIDs with PASIDs) */
		if (p < 97 && chance(t, 35))
			cmd.flags |= IOMMU_HWPT_ALLOC_PASID;
		cmd.data_type = IOMMU_HWPT_DATA_NONE;
		if (chance(t, 5)) {
			cmd.data_type = IOMMU_HWPT_DATA_SELFTEST;
			cmd.data_len = 4;
			cmd.data_uptr = (uintptr_t)t->data;
		}
	} else if (v < 85) {
		/* A nested HWPT on a nest parent, or made by a vIOMMU */
		kind = K_NESTED;
		if (v < 60) {
			sid = S_HWPT_ALLOC_NESTED;
			e = chance(t, 85) ? pick_if(t, c, K_HWPT,
						    is_nest_parent, 0) : NULL;
			cmd.pt_id = e ? e->id : pick_id(t, c, K_HWPT, false);
		} else {
			sid = S_HWPT_ALLOC_VIOMMU;
			cmd.pt_id = pick_id(t, c, K_VIOMMU, false);
		}
		cmd.data_type = chance(t, 95) ? IOMMU_HWPT_DATA_SELFTEST :
						IOMMU_HWPT_DATA_NONE;
		if (chance(t, 25)) {
			cmd.flags = IOMMU_HWPT_FAULT_ID_VALID;
			cmd.fault_id = pick_id(t, c, K_FAULT, false);
		}
		if (chance(t, 40))
			cmd.flags |= IOMMU_HWPT_ALLOC_PASID;
		if (chance(t, 3))
			cmd.flags = gen_flags(t, HWPT_FLAGS_ALL);
	} else {
		static const __u32 types[] = {
			IOMMU_HWPT_DATA_NONE, IOMMU_HWPT_DATA_VTD_S1,
			IOMMU_HWPT_DATA_ARM_SMMUV3, IOMMU_HWPT_DATA_SELFTEST,
		};

		sid = S_HWPT_ALLOC_OTHER;
		kind = K_NESTED;
		cmd.pt_id = pick_id(t, c, rn(t, K_NOBJ), false);
		cmd.flags = gen_flags(t, HWPT_FLAGS_ALL);
		cmd.data_type = chance(t, 80) ? types[rn(t, 4)] : rnd32(t);
		if (cmd.flags & IOMMU_HWPT_FAULT_ID_VALID)
			cmd.fault_id = pick_id(t, c, K_FAULT, false);
	}
	on_ioas = find_id(c, K_IOAS, cmd.pt_id);
	U();
	if (sid != S_HWPT_ALLOC_PAGING ||
	    cmd.data_type != IOMMU_HWPT_DATA_NONE) {
		gen_selftest_data(t, &cmd);
		if (cmd.data_type == IOMMU_HWPT_DATA_NONE && chance(t, 80)) {
			cmd.data_len = 0;
			cmd.data_uptr = 0;
		}
	}
	cmd.__reserved = gen_rsvd(t);
	cmd.__reserved2 = gen_rsvd(t);
	note(t, "hwpt_alloc dev=%u pt=%u flags=%#x type=%#x len=%u fault=%u",
	     cmd.dev_id, cmd.pt_id, cmd.flags, cmd.data_type, cmd.data_len,
	     cmd.fault_id);
	fz_ioctl(t, c->fd, sid, IOMMU_HWPT_ALLOC, &cmd, sizeof(cmd),
		 offsetofend(struct iommu_hwpt_alloc, __reserved), &r);
	MUST_FAIL_IF(t, &r, cmd.__reserved, "HWPT_ALLOC __reserved");
	MUST_FAIL_IF(t, &r, cmd.flags & ~HWPT_FLAGS_ALL,
		     "HWPT_ALLOC unknown flags");
	if (r.ret)
		return;
	check_id(t, "HWPT_ALLOC", cmd.out_hwpt_id);
	note(t, "=%u", cmd.out_hwpt_id);
	/*
	 * On an IOAS it is a paging HWPT, with or without the mock's data (its
	 * page-table format); on anything else with data, a nested one.
	 */
	if (SAW(&r, struct iommu_hwpt_alloc, data_type))
		kind = cmd.data_type == IOMMU_HWPT_DATA_NONE || on_ioas ?
			       K_HWPT : K_NESTED;
	e = ent_new(kind);
	e->id = cmd.out_hwpt_id;
	if (kind == K_HWPT) {
		e->a = cmd.pt_id;
		e->b = cmd.flags;
	} else {
		e->a = cmd.pt_id;
		e->b = sid == S_HWPT_ALLOC_VIOMMU ? cmd.pt_id : 0;
		e->c = cmd.flags;
	}
	L();
	pool_add(c, e);
	U();
}

static void op_hw_info(struct thr *t, struct ctx *c)
{
	struct iommu_hw_info cmd = { .size = sizeof(cmd) };
	struct iommu_test_hw_info *info;
	__u32 in_len, in_type = 0, i;
	bool typed;
	struct res r;
	uint8_t *p;

	L();
	cmd.dev_id = pick_idev(t, c);
	U();
	switch (rn(t, 10)) {
	case 0:
		cmd.data_len = 0;
		break;
	case 1:
		cmd.data_len = 1 + rn(t, 7);
		break;
	case 2:
		cmd.data_len = rn(t, ARENA_SZ);
		break;
	case 3:
		cmd.data_len = rnd32(t);
		break;
	default:
		cmd.data_len = sizeof(*info) + rn(t, 3) * 8;
		break;
	}
	in_len = cmd.data_len;
	p = out_ptr(t, in_len, 3);
	if (in_arena(t, p, in_len))
		memset(p, 0xa5, in_len);
	cmd.data_uptr = (uintptr_t)p;
	if (chance(t, 40)) {
		static const __u32 types[] = {
			IOMMU_HW_INFO_TYPE_DEFAULT, IOMMU_HW_INFO_TYPE_SELFTEST,
			IOMMU_HW_INFO_TYPE_INTEL_VTD,
			IOMMU_HW_INFO_TYPE_ARM_SMMUV3,
		};

		cmd.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE;
		in_type = chance(t, 90) ? types[rn(t, 4)] : rnd32(t);
		cmd.in_data_type = in_type;
	} else if (chance(t, 5)) {
		cmd.in_data_type = rnd32(t);	/* ignored without the flag */
	}
	if (chance(t, 3))
		cmd.flags = gen_flags(t, IOMMU_HW_INFO_FLAG_INPUT_TYPE);
	if (chance(t, 2))
		cmd.__reserved[rn(t, 3)] = 1 + rn(t, 255);
	typed = cmd.flags & IOMMU_HW_INFO_FLAG_INPUT_TYPE;
	in_type = cmd.in_data_type;
	note(t, "hw_info dev=%u flags=%#x type=%#x len=%u", cmd.dev_id,
	     cmd.flags, in_type, in_len);
	fz_ioctl(t, c->fd, S_GET_HW_INFO, IOMMU_GET_HW_INFO, &cmd, sizeof(cmd),
		 offsetofend(struct iommu_hw_info, __reserved), &r);
	MUST_FAIL_IF(t, &r,
		     (cmd.flags & ~IOMMU_HW_INFO_FLAG_INPUT_TYPE) ||
			     cmd.__reserved[0] || cmd.__reserved[1] ||
			     cmd.__reserved[2],
		     "GET_HW_INFO unknown flags or __reserved");
	/* Every device here is a mock device: it reports only its own type */
	MUST_FAIL_IF(t, &r,
		     typed && in_type != IOMMU_HW_INFO_TYPE_DEFAULT &&
			     in_type != IOMMU_HW_INFO_TYPE_SELFTEST,
		     "GET_HW_INFO of a type the mock device lacks");
	if (r.ret)
		return;
	if (cmd.out_data_type != IOMMU_HW_INFO_TYPE_SELFTEST)
		fail(t, "GET_HW_INFO: out_data_type %#x of a mock device",
		     cmd.out_data_type);
	if (cmd.data_len != sizeof(*info))
		fail(t, "GET_HW_INFO: data_len %u, not %zu", cmd.data_len,
		     sizeof(*info));
	if (cmd.out_max_pasid_log2 != 0 &&
	    cmd.out_max_pasid_log2 != MOCK_PASID_WIDTH)
		fail(t, "GET_HW_INFO: out_max_pasid_log2 %u",
		     cmd.out_max_pasid_log2);
	/* A mock device is no PCI device: never ATS */
	if (SAW(&r, struct iommu_hw_info, out_capabilities) &&
	    ((cmd.out_capabilities & ~(__u64)(IOMMU_HW_CAP_DIRTY_TRACKING |
				     IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED)) ||
	     !(cmd.out_capabilities & IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED)))
		fail(t, "GET_HW_INFO: capabilities %#llx of a mock device",
		     (unsigned long long)cmd.out_capabilities);
	if (!in_arena(t, p, in_len))
		return;
	info = (void *)p;
	if (in_len >= sizeof(*info) &&
	    (info->test_reg != IOMMU_HW_INFO_SELFTEST_REGVAL || info->flags))
		fail(t, "GET_HW_INFO: test_reg %#x flags %#x", info->test_reg,
		     info->flags);
	for (i = sizeof(*info); i < in_len; i++) {
		if (p[i]) {
			fail(t, "GET_HW_INFO: byte %u of %u not zeroed", i,
			     in_len);
			break;
		}
	}
}

static bool is_dirty_hwpt(const struct ent *e, uint64_t unused)
{
	return e->b & IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
}

/* A paging HWPT, preferably one that tracks dirty pages; g_lock held */
static __u32 pick_paging(struct thr *t, struct ctx *c, __u32 *ioas)
{
	struct ent *e = NULL;

	if (chance(t, 60))
		e = pick_if(t, c, K_HWPT, is_dirty_hwpt, 0);
	if (!e && chance(t, 85))
		e = pick(t, c, K_HWPT);
	if (e) {
		*ioas = e->a;
		return e->id;
	}
	*ioas = 0;
	return pick_id(t, c, K_HWPT, false);
}

static void op_set_dirty(struct thr *t, struct ctx *c)
{
	struct iommu_hwpt_set_dirty_tracking cmd = { .size = sizeof(cmd) };
	struct res r;
	__u32 ioas;

	L();
	cmd.hwpt_id = pick_paging(t, c, &ioas);
	U();
	cmd.flags = chance(t, 55) ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0;
	if (chance(t, 3))
		cmd.flags = gen_flags(t, IOMMU_HWPT_DIRTY_TRACKING_ENABLE);
	cmd.__reserved = gen_rsvd(t);
	note(t, "set_dirty hwpt=%u flags=%#x", cmd.hwpt_id, cmd.flags);
	fz_ioctl(t, c->fd, S_SET_DIRTY_TRACKING, IOMMU_HWPT_SET_DIRTY_TRACKING,
		 &cmd, sizeof(cmd),
		 offsetofend(struct iommu_hwpt_set_dirty_tracking, __reserved),
		 &r);
	MUST_FAIL_IF(t, &r, cmd.flags & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
		     "SET_DIRTY_TRACKING unknown flags");
}

/* A page size for dirty bitmaps */
static __u64 gen_pgsize(struct thr *t)
{
	switch (rn(t, 20)) {
	case 0 ... 9:
		return g_page / 2;
	case 10 ... 14:
		return g_page;
	case 15:
		return 2 * g_page;
	case 16:
		return 0;
	case 17:
		return 1ULL << rn(t, 40);
	case 18:
		return 3 * g_page;
	default:
		return rnd64(t);
	}
}

/* IOVA and length of a dirty bitmap request, within a mapping of @ioas */
static void gen_dirty_range(struct thr *t, struct ctx *c, __u32 ioas,
			    __u64 *iova, __u64 *len)
{
	struct ent *m = chance(t, 85) ? pick_map(t, c, ioas) : NULL;

	if (m) {
		*iova = m->iova;
		*len = m->len;
		if (chance(t, 20) && m->len > (__u64)g_page) {
			*iova += g_page;
			*len -= g_page;
		}
	} else {
		*iova = gen_iova(t, c, ioas);
		*len = gen_len(t);
	}
}

static void op_get_dirty(struct thr *t, struct ctx *c)
{
	struct iommu_hwpt_get_dirty_bitmap cmd = { .size = sizeof(cmd) };
	__u64 bits, bytes;
	struct res r;
	__u32 ioas;

	L();
	cmd.hwpt_id = pick_paging(t, c, &ioas);
	gen_dirty_range(t, c, ioas, &cmd.iova, &cmd.length);
	U();
	cmd.page_size = gen_pgsize(t);
	bits = cmd.page_size ? cmd.length / cmd.page_size : 0;
	bytes = (bits + 63) / 64 * 8;
	cmd.data = (uintptr_t)out_ptr(t, bytes < ARENA_SZ ? bytes : ARENA_SZ,
				      3);
	cmd.flags = chance(t, 30) ? IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR : 0;
	if (chance(t, 3))
		cmd.flags = gen_flags(t, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR);
	cmd.__reserved = gen_rsvd(t);
	note(t, "get_dirty hwpt=%u iova=%#llx len=%#llx pgsz=%#llx flags=%#x",
	     cmd.hwpt_id, (unsigned long long)cmd.iova,
	     (unsigned long long)cmd.length,
	     (unsigned long long)cmd.page_size, cmd.flags);
	fz_ioctl(t, c->fd, S_GET_DIRTY_BITMAP, IOMMU_HWPT_GET_DIRTY_BITMAP,
		 &cmd, sizeof(cmd),
		 offsetofend(struct iommu_hwpt_get_dirty_bitmap, data), &r);
	MUST_FAIL_IF(t, &r,
		     (cmd.flags & ~IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) ||
			     cmd.__reserved,
		     "GET_DIRTY_BITMAP unknown flags or __reserved");
}

static bool f_not_viommu(const struct ent *e, uint64_t unused)
{
	return !e->b;
}

/* Fill @num invalidation entries of @len bytes at @p */
static void fill_inv(struct thr *t, uint8_t *p, __u32 len, __u32 num,
		     bool viommu, const __u64 *vids, int nvid, bool nz_tail)
{
	size_t nat = viommu ? sizeof(struct iommu_viommu_invalidate_selftest) :
			      sizeof(struct iommu_hwpt_invalidate_selftest);
	__u32 i, w[3];

	if (!len || len > ARENA_SZ)
		return;
	for (i = 0; i < num && i < 4096 && (i + 1) * (size_t)len <= ARENA_SZ;
	     i++) {
		uint8_t *q = p + (size_t)i * len;
		unsigned int f = rn(t, 100);

		w[0] = f < 60 ? 0 : f < 85 ? IOMMU_TEST_INVALIDATE_FLAG_ALL :
					     rnd32(t);
		if (viommu) {
			f = rn(t, 100);
			w[1] = f < 70 && nvid ? (__u32)vids[rn(t, nvid)] :
			       f < 90 ? rn(t, 8) : rnd32(t);
			w[2] = chance(t, 85) ? rn(t, MOCK_DEV_CACHE_NUM) :
					       rnd32(t);
		} else {
			w[1] = chance(t, 85) ?
				       rn(t, MOCK_NESTED_DOMAIN_IOTLB_NUM) :
				       rnd32(t);
		}
		memset(q, 0, len);
		memcpy(q, w, len < nat ? len : nat);
		if (nz_tail && len > nat)
			q[nat + rn(t, len - nat)] = 1 + rn(t, 255);
	}
}

static void op_invalidate(struct thr *t, struct ctx *c)
{
	struct iommu_hwpt_invalidate cmd = { .size = sizeof(cmd) };
	unsigned int p = rn(t, 100);
	bool viommu, nz_tail = false;
	__u32 nat, in_num;
	__u64 vids[8];
	int nvid = 0, sid, i;
	struct ent *e;
	struct res r;

	L();
	if (p < 55) {
		sid = S_INVALIDATE_HWPT;
		viommu = false;
		e = chance(t, 80) ? pick_if(t, c, K_NESTED, f_not_viommu, 0) :
				    NULL;
		cmd.hwpt_id = e ? e->id : pick_id(t, c, K_NESTED, false);
	} else if (p < 90) {
		sid = S_INVALIDATE_VIOMMU;
		viommu = true;
		cmd.hwpt_id = pick_id(t, c, K_VIOMMU, false);
	} else {
		sid = S_INVALIDATE_OTHER;
		viommu = chance(t, 50);
		cmd.hwpt_id = pick_id(t, c, rn(t, K_NOBJ), false);
	}
	for (i = 0; i < c->n[K_VDEV] && nvid < 8; i++)
		if (!viommu || c->e[K_VDEV][i]->a == cmd.hwpt_id)
			vids[nvid++] = c->e[K_VDEV][i]->iova;
	U();

	p = rn(t, 100);
	if (viommu)
		cmd.data_type = p < 85 ? IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST :
				p < 90 ? IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID :
				p < 93 ? IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 :
					 rnd32(t);
	else
		cmd.data_type = p < 85 ? IOMMU_HWPT_INVALIDATE_DATA_SELFTEST :
				p < 90 ? IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID :
				p < 93 ? IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 :
					 rnd32(t);
	nat = viommu ? sizeof(struct iommu_viommu_invalidate_selftest) :
		       sizeof(struct iommu_hwpt_invalidate_selftest);
	p = rn(t, 100);
	if (p < 75) {
		cmd.entry_len = nat;
	} else if (p < 80) {
		cmd.entry_len = nat + 4 * (1 + rn(t, 4));
	} else if (p < 84) {
		cmd.entry_len = nat + 1 + rn(t, 16);
		nz_tail = true;
	} else if (p < 88) {
		cmd.entry_len = nat - 4;
	} else if (p < 91) {
		cmd.entry_len = 0;
	} else if (p < 94) {
		cmd.entry_len = g_page + 1;
	} else if (p < 97) {
		cmd.entry_len = 1 + rn(t, 64);
	} else {
		cmd.entry_len = rnd32(t);
	}
	p = rn(t, 100);
	cmd.entry_num = p < 10 ? 0 : p < 80 ? 1 + rn(t, 8) :
			p < 95 ? 1 + rn(t, 64) : p < 97 ? (1U << 19) + 1 :
			p < 99 ? rn(t, 1U << 19) : rnd32(t);
	fill_inv(t, t->data, cmd.entry_len, cmd.entry_num, viommu, vids, nvid,
		 nz_tail);
	cmd.data_uptr = chance(t, 96) ? (uintptr_t)t->data :
					(uintptr_t)bad_ptr(t);
	cmd.__reserved = gen_rsvd(t);
	in_num = cmd.entry_num;
	note(t, "invalidate id=%u type=%#x len=%u num=%u", cmd.hwpt_id,
	     cmd.data_type, cmd.entry_len, in_num);
	fz_ioctl(t, c->fd, sid, IOMMU_HWPT_INVALIDATE, &cmd, sizeof(cmd),
		 offsetofend(struct iommu_hwpt_invalidate, __reserved), &r);
	MUST_FAIL_IF(t, &r, cmd.__reserved, "HWPT_INVALIDATE __reserved");
	note(t, "done=%u", cmd.entry_num);
	if (r.bad_arg)
		return;
	if (cmd.entry_num > in_num)
		fail(t, "HWPT_INVALIDATE: %u of %u entries done", cmd.entry_num,
		     in_num);
	if (r.ret == 0 && cmd.entry_num != in_num)
		fail(t, "HWPT_INVALIDATE: success with %u of %u entries done",
		     cmd.entry_num, in_num);
}

static void op_fault_alloc(struct thr *t, struct ctx *c)
{
	struct iommu_fault_alloc cmd = { .size = sizeof(cmd) };
	struct ent *e;
	struct res r;

	if (reap_if_full(t, c, K_FAULT, CAP_SMALL))
		return;
	cmd.flags = gen_rsvd(t);
	note(t, "fault_alloc flags=%#x", cmd.flags);
	fz_ioctl(t, c->fd, S_FAULT_QUEUE_ALLOC, IOMMU_FAULT_QUEUE_ALLOC, &cmd,
		 sizeof(cmd), offsetofend(struct iommu_fault_alloc, out_fault_fd),
		 &r);
	MUST_FAIL_IF(t, &r, cmd.flags, "FAULT_QUEUE_ALLOC flags");
	if (r.ret)
		return;
	check_id(t, "FAULT_QUEUE_ALLOC", cmd.out_fault_id);
	check_fd(t, "FAULT_QUEUE_ALLOC", cmd.out_fault_fd);
	if ((int)cmd.out_fault_fd < 0)
		return;
	fcntl(cmd.out_fault_fd, F_SETFL, O_NONBLOCK);
	note(t, "=%u fd=%u", cmd.out_fault_id, cmd.out_fault_fd);
	e = ent_new(K_FAULT);
	e->id = cmd.out_fault_id;
	e->fd = cmd.out_fault_fd;
	L();
	pool_add(c, e);
	U();
}

/* Take a fd-bearing entry of @kind, from @c or sometimes an orphan */
static struct ent *take_fd_ent(struct thr *t, struct ctx *c, int kind)
{
	struct ent *e = NULL;
	int i, n = 0;

	L();
	if (chance(t, 10)) {
		for (i = 0; i < g_norphan; i++)
			n += f_orphan_kind(g_orphan[i], kind);
		if (n) {
			n = rn(t, n);
			for (i = 0; i < g_norphan; i++) {
				if (f_orphan_kind(g_orphan[i], kind) && !n--) {
					e = g_orphan[i];
					break;
				}
			}
		}
	}
	if (!e)
		e = pick_if(t, c, kind, f_fd, 0);
	if (e)
		e->busy++;
	U();
	return e;
}

static void fault_read(struct thr *t, struct ent *e)
{
	const size_t fsz = sizeof(struct iommu_hwpt_pgfault);
	struct iommu_hwpt_pgfault *f;
	unsigned int p = rn(t, 100);
	size_t count;
	ssize_t ret;
	void *buf;
	int err;

	count = p < 60 ? fsz * (1 + rn(t, 4)) : p < 70 ? fsz * rn(t, 64) :
		p < 80 ? rn(t, 200) : fsz * (1 + rn(t, ARENA_SZ / fsz));
	buf = out_ptr(t, count, 8);
	note(t, "fault read fd=%d count=%zu", e->fd, count);
	ret = read(e->fd, buf, count);
	err = ret < 0 ? errno : 0;
	note(t, "-> %zd %s", ret, errname(err));
	stat_note(t, S_FAULT_READ, ret, err);
	if (ret <= 0)
		return;
	if ((size_t)ret > count || ret % fsz) {
		fail(t, "fault read of %zu bytes returned %zd", count, ret);
		return;
	}
	if (!in_arena(t, buf, ret))
		return;
	L();
	for (f = buf; (uint8_t *)f < (uint8_t *)buf + ret; f++) {
		if (f->__reserved || f->length || !f->dev_id)
			fail(t, "fault record: dev_id %u __reserved %u length %u",
			     f->dev_id, f->__reserved, f->length);
		e->cookie[e->ncookie++ % ARRAY_SIZE(e->cookie)] = f->cookie;
		__atomic_fetch_add(&g_faults_read, 1, __ATOMIC_RELAXED);
	}
	U();
}

static void fault_write(struct thr *t, struct ent *e)
{
	struct iommu_hwpt_page_response *resp = (void *)t->data;
	const size_t rsz = sizeof(*resp);
	unsigned int i, n = 1 + rn(t, 4);
	size_t count = n * rsz;
	ssize_t ret;
	void *buf = resp;
	int err;

	L();
	for (i = 0; i < n; i++) {
		unsigned int k = e->ncookie < ARRAY_SIZE(e->cookie) ?
					 e->ncookie : ARRAY_SIZE(e->cookie);

		resp[i].cookie = k && chance(t, 80) ? e->cookie[rn(t, k)] :
						      rn(t, 4);
		resp[i].code = chance(t, 90) ? rn(t, 2) : rnd32(t);
	}
	U();
	if (chance(t, 10))
		count = rn(t, 4 * rsz);
	if (chance(t, 4))
		buf = bad_ptr(t);
	note(t, "fault write fd=%d count=%zu", e->fd, count);
	ret = write(e->fd, buf, count);
	err = ret < 0 ? errno : 0;
	note(t, "-> %zd %s", ret, errname(err));
	stat_note(t, S_FAULT_WRITE, ret, err);
	if (ret > 0 && ((size_t)ret > count || ret % rsz))
		fail(t, "fault write of %zu bytes returned %zd", count, ret);
	if (ret > 0 || chance(t, 20)) {
		L();
		e->ncookie = 0;
		U();
	}
}

static void fd_poll(struct thr *t, struct ent *e, int sid, short must)
{
	struct pollfd pfd = { .fd = e->fd, .events = POLLIN | POLLOUT };
	int ret, err;

	ret = poll(&pfd, 1, 0);
	err = ret < 0 ? errno : 0;
	note(t, "poll fd=%d -> %d revents=%#x", e->fd, ret, pfd.revents);
	stat_note(t, sid, ret, err);
	if (ret < 0 || (pfd.revents & (POLLNVAL | POLLERR)) ||
	    (pfd.revents & must) != must)
		fail(t, "%s: poll() %d revents %#x", stat_name[sid], ret,
		     pfd.revents);
}

static void op_fault_fd(struct thr *t, struct ctx *c)
{
	struct ent *e = take_fd_ent(t, c, K_FAULT);
	unsigned int p = rn(t, 10);

	if (!e)
		return;
	if (p < 5)
		fault_read(t, e);
	else if (p < 8)
		fault_write(t, e);
	else
		fd_poll(t, e, S_FAULT_POLL, POLLOUT);
	ent_put(e);
}

static void op_viommu_alloc(struct thr *t, struct ctx *c)
{
	struct iommu_viommu_alloc cmd = { .size = sizeof(cmd) };
	struct iommu_viommu_selftest *d = (void *)t->data;
	unsigned int p = rn(t, 100);
	__u32 in_data = rnd32(t);
	struct ent *e;
	struct res r;

	if (reap_if_full(t, c, K_VIOMMU, CAP_SMALL))
		return;
	L();
	cmd.dev_id = pick_idev(t, c);
	e = chance(t, 80) ? pick_if(t, c, K_HWPT, is_nest_parent, 0) : NULL;
	cmd.hwpt_id = e ? e->id : pick_id(t, c, K_HWPT, false);
	U();
	cmd.type = p < 85 ? IOMMU_VIOMMU_TYPE_SELFTEST :
		   p < 89 ? IOMMU_VIOMMU_TYPE_DEFAULT :
		   p < 93 ? IOMMU_VIOMMU_TYPE_ARM_SMMUV3 : rnd32(t);
	memset(t->data, 0, 64);
	d->in_data = in_data;
	d->out_data = 0x5a5a5a5a;
	d->out_mmap_offset = ~0ULL;
	d->out_mmap_length = ~0ULL;
	p = rn(t, 100);
	if (p < 40) {
		cmd.data_len = 0;
	} else if (p < 45) {
		cmd.data_len = 0;
		cmd.data_uptr = (uintptr_t)d;
	} else if (p < 75) {
		cmd.data_len = sizeof(*d);
	} else if (p < 82) {
		cmd.data_len = offsetofend(struct iommu_viommu_selftest,
					   out_data);
	} else if (p < 85) {
		cmd.data_len = 4;
	} else if (p < 90) {
		cmd.data_len = sizeof(*d) + 8;
	} else if (p < 93) {
		cmd.data_len = sizeof(*d) + 8;
		t->data[sizeof(*d) + rn(t, 8)] = 1;
	} else {
		cmd.data_len = rn(t, 2 * g_page);
	}
	if (cmd.data_len)
		cmd.data_uptr = chance(t, 95) ? (uintptr_t)d :
						(uintptr_t)bad_ptr(t);
	cmd.flags = gen_rsvd(t);
	cmd.__reserved = gen_rsvd(t);
	note(t, "viommu_alloc dev=%u hwpt=%u type=%#x len=%u", cmd.dev_id,
	     cmd.hwpt_id, cmd.type, cmd.data_len);
	fz_ioctl(t, c->fd, S_VIOMMU_ALLOC, IOMMU_VIOMMU_ALLOC, &cmd,
		 sizeof(cmd),
		 offsetofend(struct iommu_viommu_alloc, out_viommu_id), &r);
	MUST_FAIL_IF(t, &r, cmd.flags, "VIOMMU_ALLOC flags");
	MUST_FAIL_IF(t, &r, SAW(&r, struct iommu_viommu_alloc, __reserved) &&
			    cmd.__reserved, "VIOMMU_ALLOC __reserved");
	MUST_FAIL_IF(t, &r, cmd.type == IOMMU_VIOMMU_TYPE_DEFAULT,
		     "VIOMMU_ALLOC of IOMMU_VIOMMU_TYPE_DEFAULT");
	if (r.ret)
		return;
	check_id(t, "VIOMMU_ALLOC", cmd.out_viommu_id);
	note(t, "=%u", cmd.out_viommu_id);
	if (SAW(&r, struct iommu_viommu_alloc, data_uptr) &&
	    cmd.data_uptr == (uintptr_t)d &&
	    cmd.type == IOMMU_VIOMMU_TYPE_SELFTEST) {
		if (cmd.data_len >= 8 && d->out_data != in_data)
			fail(t, "VIOMMU_ALLOC: out_data %#x, in_data %#x",
			     d->out_data, in_data);
		/* The mock's two pages to mmap, never at offset 0 */
		if (cmd.data_len >= 16 &&
		    (!d->out_mmap_offset || d->out_mmap_offset % g_page))
			fail(t, "VIOMMU_ALLOC: out_mmap_offset %#llx",
			     (unsigned long long)d->out_mmap_offset);
		if (cmd.data_len >= 24 && d->out_mmap_length != 2 * (__u64)g_page)
			fail(t, "VIOMMU_ALLOC: out_mmap_length %#llx",
			     (unsigned long long)d->out_mmap_length);
	}
	e = ent_new(K_VIOMMU);
	e->id = cmd.out_viommu_id;
	e->a = cmd.dev_id;
	e->b = cmd.hwpt_id;
	e->c = in_data;
	if (SAW(&r, struct iommu_viommu_alloc, data_uptr) &&
	    cmd.data_uptr == (uintptr_t)d && cmd.data_len >= 24 &&
	    cmd.type == IOMMU_VIOMMU_TYPE_SELFTEST) {
		e->iova = d->out_mmap_offset;
		e->len = d->out_mmap_length;
	}
	L();
	pool_add(c, e);
	U();
}

/* A new object in the pool of @kind, after checking its ID */
static void pool_add_obj(struct thr *t, struct ctx *c, int kind,
			 const char *what, __u32 id, __u32 a, __u32 b,
			 __u64 iova, __u64 len)
{
	struct ent *e;

	check_id(t, what, id);
	note(t, "=%u", id);
	e = ent_new(kind);
	e->id = id;
	e->a = a;
	e->b = b;
	e->iova = iova;
	e->len = len;
	L();
	pool_add(c, e);
	U();
}

static bool f_mmap_range(const struct ent *e, uint64_t unused)
{
	return e->len != 0;
}

/*
 * mmap of a vIOMMU's range: only exactly its offset and length, shared and
 * not executable; the pages show in_data; while mapped the vIOMMU is busy.
 */
static void op_viommu_mmap(struct thr *t, struct ctx *c)
{
	unsigned int p = rn(t, 100);
	int prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED;
	__u64 offset, len, want_len = 0;
	__u32 id = 0, in_data = 0;
	bool exact = false;
	int err, expect;
	struct ent *e;
	void *va;

	L();
	e = pick_if(t, c, K_VIOMMU, f_mmap_range, 0);
	if (e) {
		id = e->id;
		in_data = e->c;
		offset = e->iova;
		want_len = len = e->len;
	} else {
		offset = (__u64)g_page * rn(t, 64);
		len = g_page * (1 + rn(t, 2));
	}
	U();
	if (e && p < 60) {
		exact = true;
	} else if (p < 70) {
		offset += g_page * (1 + rn(t, 2));
	} else if (p < 80) {
		len = len == (__u64)g_page ? 2 * (__u64)g_page : len / 2;
	} else if (p < 85) {
		flags = MAP_PRIVATE;
	} else if (p < 90) {
		prot |= PROT_EXEC;
	} else {
		offset = rnd64(t) & ~(__u64)(g_page - 1);
	}
	note(t, "mmap viommu=%u offset=%#llx len=%#llx flags=%#x prot=%#x",
	     id, (unsigned long long)offset, (unsigned long long)len, flags,
	     prot);
	va = mmap(NULL, len, prot, flags, c->fd, offset);
	err = va == MAP_FAILED ? errno : 0;
	note(t, "-> %s", errname(err));
	stat_note(t, S_VIOMMU_MMAP, va == MAP_FAILED ? -1 : 0, err);
	expect = flags == MAP_PRIVATE ? EINVAL :
		 (prot & PROT_EXEC) ? EPERM : ENXIO;
	if (!exact) {
		/*
		 * Another range may sit there (a vIOMMU made with data too
		 * short to learn its offset): only the sharing and execution
		 * rules are certain, and they are checked first
		 */
		if (va != MAP_FAILED)
			munmap(va, len);
		if (expect != ENXIO && err != expect)
			fail(t, "vIOMMU mmap (flags %#x prot %#x): %s, not %s",
			     flags, prot, errname(err), errname(expect));
		else if (expect == ENXIO && err && err != ENXIO)
			fail(t, "vIOMMU mmap: %s, not ENXIO", errname(err));
		return;
	}
	/* Racing a destroy of the vIOMMU, ENXIO is right too */
	if (va == MAP_FAILED) {
		if (err != ENXIO)
			fail(t, "vIOMMU mmap of its own range: %s",
			     errname(err));
		return;
	}
	/*
	 * With one thread, the range is the picked vIOMMU's: with more, it
	 * may have gone and its offset gone to another one meanwhile
	 */
	if (g_nthreads == 1 && *(volatile __u32 *)va != in_data)
		fail(t, "vIOMMU mmap: first word %#x, in_data %#x",
		     *(volatile __u32 *)va, in_data);
	if (g_nthreads == 1 && chance(t, 30)) {
		struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

		if (!ioctl(c->fd, IOMMU_DESTROY, &cmd))
			fail(t, "vIOMMU %u destroyed while mapped", id);
		else if (errno != EBUSY)
			fail(t, "DESTROY of a mapped vIOMMU: %s, not EBUSY",
			     errname(errno));
	}
	if (munmap(va, want_len))
		fail(t, "munmap of a vIOMMU range: %s", errname(errno));
}

static void op_hw_queue_alloc(struct thr *t, struct ctx *c)
{
	struct iommu_hw_queue_alloc cmd = { .size = sizeof(cmd) };
	unsigned int p = rn(t, 100);
	struct ent *m;
	struct res r;

	if (reap_if_full(t, c, K_HWQUEUE, CAP_SMALL))
		return;
	L();
	cmd.viommu_id = pick_id(t, c, K_VIOMMU, false);
	m = pick(t, c, K_MAP);
	if (m && p < 70) {
		cmd.nesting_parent_iova = m->iova + g_page * rn(t, m->len /
								 g_page);
		cmd.length = chance(t, 80) ? g_page : g_page / 2;
	} else {
		cmd.nesting_parent_iova = gen_iova(t, c, 0);
		cmd.length = gen_len(t);
	}
	U();
	p = rn(t, 100);
	cmd.type = p < 85 ? IOMMU_HW_QUEUE_TYPE_SELFTEST :
		   p < 90 ? IOMMU_HW_QUEUE_TYPE_DEFAULT :
		   p < 95 ? IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV : rnd32(t);
	cmd.index = chance(t, 90) ? rn(t, IOMMU_TEST_HW_QUEUE_MAX + 1) :
				    rnd32(t);
	cmd.flags = gen_rsvd(t);
	note(t, "hw_queue_alloc viommu=%u type=%#x index=%u iova=%#llx len=%#llx",
	     cmd.viommu_id, cmd.type, cmd.index,
	     (unsigned long long)cmd.nesting_parent_iova,
	     (unsigned long long)cmd.length);
	fz_ioctl(t, c->fd, S_HW_QUEUE_ALLOC, IOMMU_HW_QUEUE_ALLOC, &cmd,
		 sizeof(cmd), offsetofend(struct iommu_hw_queue_alloc, length),
		 &r);
	MUST_FAIL_IF(t, &r, cmd.flags, "HW_QUEUE_ALLOC flags");
	MUST_FAIL_IF(t, &r, cmd.type != IOMMU_HW_QUEUE_TYPE_SELFTEST,
		     "HW_QUEUE_ALLOC of a type the mock lacks");
	MUST_FAIL_IF(t, &r, !cmd.length, "HW_QUEUE_ALLOC of length 0");
	MUST_FAIL_IF(t, &r, cmd.index >= IOMMU_TEST_HW_QUEUE_MAX,
		     "HW_QUEUE_ALLOC of an index past the mock's");
	if (r.ret)
		return;
	pool_add_obj(t, c, K_HWQUEUE, "HW_QUEUE_ALLOC", cmd.out_hw_queue_id,
		     cmd.viommu_id, cmd.index, cmd.nesting_parent_iova,
		     cmd.length);
}

static void op_vdevice_alloc(struct thr *t, struct ctx *c)
{
	struct iommu_vdevice_alloc cmd = { .size = sizeof(cmd) };
	unsigned int p = rn(t, 100);
	struct res r;

	if (reap_if_full(t, c, K_VDEV, CAP))
		return;
	L();
	cmd.viommu_id = pick_id(t, c, K_VIOMMU, false);
	cmd.dev_id = pick_idev(t, c);
	U();
	cmd.virt_id = p < 80 ? rn(t, 8) : p < 90 ? rn(t, 1 << 16) : rnd64(t);
	note(t, "vdevice_alloc viommu=%u dev=%u virt=%#llx", cmd.viommu_id,
	     cmd.dev_id, (unsigned long long)cmd.virt_id);
	fz_ioctl(t, c->fd, S_VDEVICE_ALLOC, IOMMU_VDEVICE_ALLOC, &cmd,
		 sizeof(cmd), offsetofend(struct iommu_vdevice_alloc, virt_id),
		 &r);
	if (r.ret)
		return;
	pool_add_obj(t, c, K_VDEV, "VDEVICE_ALLOC", cmd.out_vdevice_id,
		     cmd.viommu_id, cmd.dev_id, cmd.virt_id, 0);
}

#define VEVENTQ_MAX_DEPTH (1U << 19)
/* IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, which not every installed header has */
#define VEVENTQ_TYPE_SMMUV3 1

static void op_veventq_alloc(struct thr *t, struct ctx *c)
{
	struct iommu_veventq_alloc cmd = { .size = sizeof(cmd) };
	unsigned int p = rn(t, 100);
	struct ent *e;
	struct res r;

	if (reap_if_full(t, c, K_VEVENTQ, CAP_SMALL))
		return;
	L();
	cmd.viommu_id = pick_id(t, c, K_VIOMMU, false);
	U();
	cmd.type = p < 85 ? IOMMU_VEVENTQ_TYPE_SELFTEST :
		   p < 89 ? IOMMU_VEVENTQ_TYPE_DEFAULT :
		   p < 93 ? VEVENTQ_TYPE_SMMUV3 : rnd32(t);
	p = rn(t, 100);
	cmd.veventq_depth = p < 70 ? 1 + rn(t, 16) : p < 85 ? 1 + rn(t, 1024) :
			    p < 90 ? 0 : p < 94 ? VEVENTQ_MAX_DEPTH :
			    p < 97 ? VEVENTQ_MAX_DEPTH + 1 : rnd32(t);
	cmd.flags = gen_rsvd(t);
	cmd.__reserved = gen_rsvd(t);
	note(t, "veventq_alloc viommu=%u type=%#x depth=%u", cmd.viommu_id,
	     cmd.type, cmd.veventq_depth);
	fz_ioctl(t, c->fd, S_VEVENTQ_ALLOC, IOMMU_VEVENTQ_ALLOC, &cmd,
		 sizeof(cmd),
		 offsetofend(struct iommu_veventq_alloc, __reserved), &r);
	MUST_FAIL_IF(t, &r, cmd.flags || cmd.__reserved,
		     "VEVENTQ_ALLOC flags or __reserved");
	MUST_FAIL_IF(t, &r, cmd.type == IOMMU_VEVENTQ_TYPE_DEFAULT,
		     "VEVENTQ_ALLOC of IOMMU_VEVENTQ_TYPE_DEFAULT");
	MUST_FAIL_IF(t, &r,
		     !cmd.veventq_depth || cmd.veventq_depth > VEVENTQ_MAX_DEPTH,
		     "VEVENTQ_ALLOC of a depth out of range");
	if (r.ret)
		return;
	check_id(t, "VEVENTQ_ALLOC", cmd.out_veventq_id);
	check_fd(t, "VEVENTQ_ALLOC", cmd.out_veventq_fd);
	if ((int)cmd.out_veventq_fd < 0)
		return;
	fcntl(cmd.out_veventq_fd, F_SETFL, O_NONBLOCK);
	note(t, "=%u fd=%u", cmd.out_veventq_id, cmd.out_veventq_fd);
	e = ent_new(K_VEVENTQ);
	e->id = cmd.out_veventq_id;
	e->a = cmd.viommu_id;
	e->fd = cmd.out_veventq_fd;
	L();
	pool_add(c, e);
	U();
}

static void veventq_read(struct thr *t, struct ent *e)
{
	const size_t hsz = sizeof(struct iommufd_vevent_header);
	const size_t esz = sizeof(struct iommu_viommu_event_selftest);
	unsigned int p = rn(t, 100);
	size_t count, off;
	uint8_t *buf;
	ssize_t ret;
	int err;

	count = p < 50 ? (hsz + esz) * (1 + rn(t, 8)) : p < 60 ? hsz :
		p < 65 ? hsz + esz - 1 : p < 70 ? 0 : p < 85 ? rn(t, 256) :
		rn(t, ARENA_SZ);
	buf = out_ptr(t, count, 5);
	note(t, "veventq read fd=%d count=%zu", e->fd, count);
	ret = read(e->fd, buf, count);
	err = ret < 0 ? errno : 0;
	note(t, "-> %zd %s", ret, errname(err));
	stat_note(t, S_VEVENTQ_READ, ret, err);
	/*
	 * Less than a header is EINVAL, records or not (mainline's rule);
	 * the VFS may refuse a bad buffer first (EFAULT)
	 */
	if (count < hsz && (ret >= 0 || (err != EINVAL && err != EFAULT)))
		fail(t, "veventq read of %zu bytes (less than a header): %zd %s, not EINVAL",
		     count, ret, errname(err));
	if (ret < 0)
		return;
	if ((size_t)ret > count) {
		fail(t, "veventq read of %zu bytes returned %zd", count, ret);
		return;
	}
	if (!in_arena(t, buf, ret))
		return;
	/* Whole records: a header, and the mock's payload unless lost */
	for (off = 0; off < (size_t)ret;) {
		struct iommufd_vevent_header h;

		if (ret - off < (ssize_t)hsz)
			break;
		memcpy(&h, buf + off, hsz);
		if ((h.flags & ~IOMMU_VEVENTQ_FLAG_LOST_EVENTS) ||
		    h.sequence > INT_MAX) {
			fail(t, "veventq record at %zu: flags %#x sequence %u",
			     off, h.flags, h.sequence);
			return;
		}
		off += hsz;
		if (!(h.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS)) {
			off += esz;
			__atomic_fetch_add(&g_vevents_read, 1,
					   __ATOMIC_RELAXED);
		} else {
			__atomic_fetch_add(&g_lost_read, 1, __ATOMIC_RELAXED);
		}
	}
	if (off != (size_t)ret)
		fail(t, "veventq read returned %zd bytes, records end at %zu",
		     ret, off);
}

static void op_veventq_fd(struct thr *t, struct ctx *c)
{
	struct ent *e = take_fd_ent(t, c, K_VEVENTQ);

	if (!e)
		return;
	if (chance(t, 70))
		veventq_read(t, e);
	else
		fd_poll(t, e, S_VEVENTQ_POLL, 0);
	ent_put(e);
}

#define DEV_FLAGS_ALL (MOCK_FLAGS_DEVICE_NO_DIRTY | \
		       MOCK_FLAGS_DEVICE_HUGE_IOVA | MOCK_FLAGS_DEVICE_PASID)

static void op_mock_domain(struct thr *t, struct ctx *c)
{
	struct iommu_test_cmd cmd = {};
	unsigned int p = rn(t, 100);
	bool on_ioas;
	struct ent *e;
	struct res r;
	int sid;

	if (reap_if_full(t, c, K_DEV, CAP_SMALL))
		return;
	L();
	on_ioas = p < 75;
	cmd.id = on_ioas ? pick_id(t, c, K_IOAS, false) :
		 p < 85 ? pick_id(t, c, K_HWPT, false) :
		 p < 92 ? pick_id(t, c, K_NESTED, false) :
			  pick_id(t, c, rn(t, K_NOBJ), false);
	U();
	if (chance(t, 40)) {
		sid = S_MOCK_DOMAIN_FLAGS;
		cmd.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS;
		p = rn(t, 100);
		cmd.mock_domain_flags.dev_flags =
			p < 20 ? 0 :
			p < 35 ? MOCK_FLAGS_DEVICE_NO_DIRTY :
			p < 48 ? MOCK_FLAGS_DEVICE_HUGE_IOVA :
			p < 75 ? MOCK_FLAGS_DEVICE_PASID :
			p < 85 ? MOCK_FLAGS_DEVICE_PASID |
					 MOCK_FLAGS_DEVICE_HUGE_IOVA :
			p < 92 ? MOCK_FLAGS_DEVICE_PASID |
					 MOCK_FLAGS_DEVICE_NO_DIRTY :
				 gen_flags(t, DEV_FLAGS_ALL);
	} else {
		sid = S_MOCK_DOMAIN;
		cmd.op = IOMMU_TEST_OP_MOCK_DOMAIN;
	}
	cmd.__reserved = gen_rsvd(t);
	note(t, "mock_domain pt=%u flags=%#x", cmd.id,
	     cmd.mock_domain_flags.dev_flags);
	test_cmd(t, c, sid, &cmd, &r);
	if (r.ret)
		return;
	check_id(t, "MOCK_DOMAIN stdev", cmd.mock_domain.out_stdev_id);
	check_id(t, "MOCK_DOMAIN hwpt", cmd.mock_domain.out_hwpt_id);
	check_id(t, "MOCK_DOMAIN idev", cmd.mock_domain.out_idev_id);
	note(t, "=stdev %u idev %u hwpt %u", cmd.mock_domain.out_stdev_id,
	     cmd.mock_domain.out_idev_id, cmd.mock_domain.out_hwpt_id);
	e = ent_new(K_DEV);
	e->id = cmd.mock_domain.out_stdev_id;
	e->a = cmd.mock_domain.out_idev_id;
	e->b = cmd.mock_domain.out_hwpt_id;
	e->c = sid == S_MOCK_DOMAIN_FLAGS ?
		       cmd.mock_domain_flags.dev_flags : 0;
	L();
	pool_add(c, e);
	if (on_ioas && cmd.mock_domain.out_hwpt_id != cmd.id &&
	    !pick_if(t, c, K_HWPT, f_id, cmd.mock_domain.out_hwpt_id)) {
		/* The automatic domain, while the device is attached */
		e = ent_new(K_HWPT);
		e->id = cmd.mock_domain.out_hwpt_id;
		e->a = cmd.id;
		e->c = 1;
		pool_add(c, e);
	}
	U();
}

static void op_mock_replace(struct thr *t, struct ctx *c)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE };
	unsigned int p = rn(t, 100);
	struct ent *e;
	struct res r;
	__u32 pt;

	L();
	e = chance(t, 85) ? pick(t, c, K_DEV) : NULL;
	cmd.id = e ? e->id : pick_id(t, c, rn(t, K_NOBJ), false);
	pt = p < 35 ? pick_id(t, c, K_IOAS, false) :
	     p < 60 ? pick_id(t, c, K_HWPT, false) :
	     p < 90 ? pick_id(t, c, K_NESTED, false) :
		      pick_id(t, c, rn(t, K_NOBJ), false);
	/*
	 * A PASID only takes a HWPT while the RID's allows PASIDs too, and a
	 * RID with PASIDs attached only such a HWPT
	 */
	if (p >= 35 && p < 90 && e &&
	    (e->npasid || (e->c & MOCK_FLAGS_DEVICE_PASID)) && chance(t, 60)) {
		e = pick_if(t, c, p < 60 ? K_HWPT : K_NESTED, has_pasid_flag,
			    0);
		if (e)
			pt = e->id;
	}
	U();
	cmd.mock_domain_replace.pt_id = pt;
	note(t, "mock_replace stdev=%u pt=%u", cmd.id, pt);
	test_cmd(t, c, S_MOCK_DOMAIN_REPLACE, &cmd, &r);
	if (r.ret)
		return;
	check_id(t, "MOCK_DOMAIN_REPLACE", cmd.mock_domain_replace.pt_id);
	note(t, "=%u", cmd.mock_domain_replace.pt_id);
	L();
	e = pick_if(t, c, K_DEV, f_id, cmd.id);
	if (e)
		e->b = cmd.mock_domain_replace.pt_id;
	U();
}

static void op_create_access(struct thr *t, struct ctx *c)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_CREATE_ACCESS };
	unsigned int p = rn(t, 100);
	struct ent *e;
	struct res r;

	if (reap_if_full(t, c, K_ACCESS, CAP_SMALL))
		return;
	L();
	cmd.id = pick_id(t, c, K_IOAS, false);
	U();
	cmd.create_access.flags =
		p < 45 ? 0 : p < 95 ? MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES :
			 gen_flags(t, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
	note(t, "create_access ioas=%u flags=%#x", cmd.id,
	     cmd.create_access.flags);
	test_cmd(t, c, S_CREATE_ACCESS, &cmd, &r);
	if (r.ret)
		return;
	check_fd(t, "CREATE_ACCESS", cmd.create_access.out_access_fd);
	if ((int)cmd.create_access.out_access_fd < 0)
		return;
	note(t, "=fd %u", cmd.create_access.out_access_fd);
	e = ent_new(K_ACCESS);
	e->id = cmd.create_access.out_access_fd;
	e->fd = cmd.create_access.out_access_fd;
	e->a = cmd.id;
	e->b = cmd.create_access.flags;
	L();
	pool_add(c, e);
	U();
}

/*
 * An access fd (its entry is returned held, or NULL and *fd is a random
 * number), and a mapping of its IOAS in *m (copied).
 */
static struct ent *take_access(struct thr *t, struct ctx *c, __u32 *fd,
			       struct ent *m)
{
	struct ent *e = NULL, *mp;

	if (chance(t, 95))
		e = take_fd_ent(t, c, K_ACCESS);
	L();
	*fd = e ? (__u32)e->fd : chance(t, 50) ? rn(t, 64) : rnd32(t);
	mp = pick_map(t, c, e ? e->a : 0);
	if (mp)
		*m = *mp;
	else
		memset(m, 0, sizeof(*m));
	U();
	return e;
}

static void op_access_pages(struct thr *t, struct ctx *c)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_ACCESS_PAGES };
	unsigned int p = rn(t, 100);
	struct ent *e, m, *n;
	__u64 npg;
	struct res r;

	if (reap_if_full(t, c, K_APAGES, CAP))
		return;
	e = take_access(t, c, &cmd.id, &m);
	if (m.len) {
		npg = m.len / g_page;
		cmd.access_pages.iova = m.iova + (__u64)g_page * rn(t, npg);
		cmd.access_pages.length = (__u64)g_page * (1 + rn(t, 4));
		if (chance(t, 10))
			cmd.access_pages.iova += rn(t, g_page);
		if (chance(t, 10))
			cmd.access_pages.length = 1 + rn(t, 3 * g_page);
	} else {
		L();
		cmd.access_pages.iova = gen_iova(t, c, 0);
		U();
		cmd.access_pages.length = gen_len(t);
	}
	if (chance(t, 3))
		cmd.access_pages.length = chance(t, 50) ? 0 :
					  (16ULL << 20) + g_page;
	if (p < 70 && m.uva)
		cmd.access_pages.uptr = m.uva +
					(cmd.access_pages.iova - m.iova);
	else if (p < 90)
		cmd.access_pages.uptr = 0;
	else
		cmd.access_pages.uptr = gen_uva(t, cmd.access_pages.length);
	p = rn(t, 100);
	cmd.access_pages.flags = p < 50 ? 0 : p < 95 ? MOCK_FLAGS_ACCESS_WRITE :
				 p < 97 ? MOCK_FLAGS_ACCESS_SYZ :
					  gen_flags(t, MOCK_FLAGS_ACCESS_WRITE);
	note(t, "access_pages fd=%u iova=%#llx len=%#llx uptr=%#llx flags=%#x",
	     cmd.id, (unsigned long long)cmd.access_pages.iova,
	     (unsigned long long)cmd.access_pages.length,
	     (unsigned long long)cmd.access_pages.uptr,
	     cmd.access_pages.flags);
	test_cmd(t, c, S_ACCESS_PAGES, &cmd, &r);
	if (!r.ret) {
		note(t, "=item %u", cmd.access_pages.out_access_pages_id);
		n = ent_new(K_APAGES);
		n->id = cmd.access_pages.out_access_pages_id;
		n->a = cmd.id;
		n->iova = cmd.access_pages.iova;
		n->len = cmd.access_pages.length;
		L();
		pool_add(c, n);
		U();
	}
	ent_put(e);
}

static void op_destroy_access_pages(struct thr *t, struct ctx *c)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DESTROY_ACCESS_PAGES
	};
	struct ent *e;
	struct res r;
	__u32 item;

	L();
	e = chance(t, 90) ? pick(t, c, K_APAGES) : NULL;
	if (e) {
		cmd.id = e->a;
		item = e->id;
	} else {
		struct ent *a = pick(t, c, K_ACCESS);

		cmd.id = a ? a->id : rn(t, 64);
		item = chance(t, 50) ? rn(t, 16) : rnd32(t);
	}
	U();
	cmd.destroy_access_pages.access_pages_id = item;
	note(t, "destroy_access_pages fd=%u item=%u", cmd.id, item);
	test_cmd(t, c, S_DESTROY_ACCESS_PAGES, &cmd, &r);
	if (!e || (r.ret && r.err != ENOENT))
		return;
	L();
	for (int i = 0; i < c->n[K_APAGES]; i++)
		if (c->e[K_APAGES][i]->id == item &&
		    c->e[K_APAGES][i]->a == cmd.id)
			pool_del_at(c, K_APAGES, i--);
	U();
}

static void op_access_rw(struct thr *t, struct ctx *c)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_ACCESS_RW };
	unsigned int p = rn(t, 100);
	struct ent *e, m;
	struct res r;
	__u64 room;

	e = take_access(t, c, &cmd.id, &m);
	if (m.len) {
		cmd.access_rw.iova = m.iova + rn(t, m.len);
		room = m.iova + m.len - cmd.access_rw.iova;
		cmd.access_rw.length = 1 + rn(t, room < 8192 ? room : 8192);
		if (chance(t, 10))
			cmd.access_rw.length = room + 1 + rn(t, g_page);
	} else {
		L();
		cmd.access_rw.iova = gen_iova(t, c, 0);
		U();
		cmd.access_rw.length = 1 + rn(t, 8192);
	}
	if (chance(t, 3))
		cmd.access_rw.length = chance(t, 50) ? 0 :
				       chance(t, 50) ? ARENA_SZ + 1 :
						       (16ULL << 20) + 1;
	cmd.access_rw.uptr = (uintptr_t)out_ptr(t, cmd.access_rw.length, 3);
	cmd.access_rw.flags =
		p < 35 ? 0 : p < 70 ? MOCK_ACCESS_RW_WRITE :
		p < 82 ? MOCK_ACCESS_RW_SLOW_PATH :
		p < 94 ? MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH :
		p < 96 ? MOCK_FLAGS_ACCESS_SYZ :
			 gen_flags(t, MOCK_ACCESS_RW_WRITE |
					      MOCK_ACCESS_RW_SLOW_PATH);
	note(t, "access_rw fd=%u iova=%#llx len=%#llx flags=%#x", cmd.id,
	     (unsigned long long)cmd.access_rw.iova,
	     (unsigned long long)cmd.access_rw.length, cmd.access_rw.flags);
	test_cmd(t, c, S_ACCESS_RW, &cmd, &r);
	ent_put(e);
}

static void op_access_replace(struct thr *t, struct ctx *c)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_ACCESS_REPLACE_IOAS };
	struct ent *e, m;
	struct res r;

	e = take_access(t, c, &cmd.id, &m);
	L();
	cmd.access_replace_ioas.ioas_id = pick_id(t, c, K_IOAS, false);
	U();
	note(t, "access_replace fd=%u ioas=%u", cmd.id,
	     cmd.access_replace_ioas.ioas_id);
	test_cmd(t, c, S_ACCESS_REPLACE_IOAS, &cmd, &r);
	if (!r.ret && e) {
		L();
		e->a = cmd.access_replace_ioas.ioas_id;
		U();
	}
	ent_put(e);
}

static void op_add_reserved(struct thr *t, struct ctx *c)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_ADD_RESERVED };
	struct res r;

	L();
	cmd.id = pick_id(t, c, K_IOAS, false);
	cmd.add_reserved.start = gen_iova(t, c, cmd.id);
	U();
	cmd.add_reserved.length = chance(t, 80) ? (__u64)g_page *
							  (1 + rn(t, 16)) :
						  gen_len(t);
	note(t, "add_reserved ioas=%u start=%#llx len=%#llx", cmd.id,
	     (unsigned long long)cmd.add_reserved.start,
	     (unsigned long long)cmd.add_reserved.length);
	test_cmd(t, c, S_ADD_RESERVED, &cmd, &r);
}

static void op_md_check(struct thr *t, struct ctx *c)
{
	struct iommu_test_cmd cmd = {};
	unsigned int p = rn(t, 100);
	struct ent *m;
	struct res r;
	__u32 ioas;
	int sid;

	if (p < 45) {
		sid = S_MD_CHECK_MAP;
		cmd.op = IOMMU_TEST_OP_MD_CHECK_MAP;
		L();
		cmd.id = pick_paging(t, c, &ioas);
		m = pick_map(t, c, ioas);
		if (m && chance(t, 90)) {
			cmd.check_map.iova = m->iova;
			cmd.check_map.length = m->len;
			cmd.check_map.uptr = m->uva;
		} else {
			cmd.check_map.iova = gen_iova(t, c, ioas);
			cmd.check_map.length = gen_len(t);
		}
		U();
		if (!cmd.check_map.uptr)
			cmd.check_map.uptr = gen_uva(t, cmd.check_map.length);
		note(t, "md_check_map hwpt=%u iova=%#llx len=%#llx", cmd.id,
		     (unsigned long long)cmd.check_map.iova,
		     (unsigned long long)cmd.check_map.length);
	} else if (p < 65) {
		sid = S_MD_CHECK_REFS;
		cmd.op = IOMMU_TEST_OP_MD_CHECK_REFS;
		cmd.check_refs.length = chance(t, 90) ?
			(__u64)g_page * rn(t, 16) : gen_len(t);
		cmd.check_refs.uptr = gen_uva(t, cmd.check_refs.length);
		cmd.check_refs.refs = chance(t, 90) ? rn(t, 3) : rnd32(t);
		note(t, "md_check_refs uptr=%#llx len=%#llx refs=%u",
		     (unsigned long long)cmd.check_refs.uptr,
		     (unsigned long long)cmd.check_refs.length,
		     cmd.check_refs.refs);
	} else {
		sid = S_MD_CHECK_IOTLB;
		cmd.op = IOMMU_TEST_OP_MD_CHECK_IOTLB;
		L();
		cmd.id = pick_id(t, c, K_NESTED, false);
		U();
		cmd.check_iotlb.id = chance(t, 90) ?
			rn(t, MOCK_NESTED_DOMAIN_IOTLB_NUM) : rnd32(t);
		cmd.check_iotlb.iotlb = chance(t, 50) ?
			IOMMU_TEST_IOTLB_DEFAULT : chance(t, 80) ? 0 : rnd32(t);
		note(t, "md_check_iotlb hwpt=%u id=%u val=%#x", cmd.id,
		     cmd.check_iotlb.id, cmd.check_iotlb.iotlb);
	}
	test_cmd(t, c, sid, &cmd, &r);
}

static void op_dirty(struct thr *t, struct ctx *c)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_DIRTY };
	__u64 bits = 0, bytes, i;
	uint8_t *bm;
	struct res r;
	__u32 ioas;

	L();
	cmd.id = pick_paging(t, c, &ioas);
	gen_dirty_range(t, c, ioas, &cmd.dirty.iova, &cmd.dirty.length);
	U();
	cmd.dirty.page_size = chance(t, 60) ? (__u64)g_page / 2 : gen_pgsize(t);
	if (cmd.dirty.page_size)
		bits = cmd.dirty.length / cmd.dirty.page_size;
	bytes = (bits + 7) / 8;
	bm = out_ptr(t, bytes < ARENA_SZ ? bytes : ARENA_SZ, 3);
	if (in_arena(t, bm, 1)) {
		size_t room = t->data + ARENA_SZ - bm;

		for (i = 0; i < bytes && i < room; i++)
			bm[i] = chance(t, 30) ? rnd32(t) : 0;
	}
	cmd.dirty.uptr = (uintptr_t)bm;
	cmd.dirty.flags = chance(t, 95) ? 0 : rnd32(t);
	note(t, "dirty hwpt=%u iova=%#llx len=%#llx pgsz=%#llx", cmd.id,
	     (unsigned long long)cmd.dirty.iova,
	     (unsigned long long)cmd.dirty.length,
	     (unsigned long long)cmd.dirty.page_size);
	test_cmd(t, c, S_DIRTY, &cmd, &r);
	if (!r.ret && cmd.dirty.out_nr_dirty > bits)
		fail(t, "TEST_DIRTY: %llu pages marked of %llu",
		     (unsigned long long)cmd.dirty.out_nr_dirty,
		     (unsigned long long)bits);
}

static void op_trigger(struct thr *t, struct ctx *c)
{
	struct iommu_test_cmd cmd = {};
	struct ent *e;
	struct res r;

	L();
	if (chance(t, 50)) {
		/* A vEVENT for a device that (probably) has a vDEVICE */
		cmd.op = IOMMU_TEST_OP_TRIGGER_VEVENT;
		e = chance(t, 80) ? pick(t, c, K_VDEV) : NULL;
		cmd.trigger_vevent.dev_id = e ? e->b : pick_idev(t, c);
		U();
		note(t, "trigger_vevent dev=%u", cmd.trigger_vevent.dev_id);
		test_cmd(t, c, S_TRIGGER_VEVENT, &cmd, &r);
		return;
	}
	cmd.op = IOMMU_TEST_OP_TRIGGER_IOPF;
	cmd.trigger_iopf.dev_id = pick_idev(t, c);
	U();
	cmd.trigger_iopf.pasid = chance(t, 60) ? 0 : chance(t, 50) ?
				 1 + rn(t, 8) : rnd32(t);
	cmd.trigger_iopf.grpid = chance(t, 80) ? rn(t, 4) : rnd32(t);
	cmd.trigger_iopf.perm = rn(t, 16);
	cmd.trigger_iopf.addr = chance(t, 80) ?
		MOCK_APERTURE_START + (__u64)g_page * rn(t, 4096) : rnd64(t);
	note(t, "trigger_iopf dev=%u pasid=%u grp=%u", cmd.trigger_iopf.dev_id,
	     cmd.trigger_iopf.pasid, cmd.trigger_iopf.grpid);
	test_cmd(t, c, S_TRIGGER_IOPF, &cmd, &r);
}

static void op_dev_check_cache(struct thr *t, struct ctx *c)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_DEV_CHECK_CACHE };
	struct res r;

	L();
	cmd.id = pick_idev(t, c);
	U();
	cmd.check_dev_cache.id = chance(t, 90) ? rn(t, MOCK_DEV_CACHE_NUM) :
						 rnd32(t);
	cmd.check_dev_cache.cache = chance(t, 50) ?
		IOMMU_TEST_DEV_CACHE_DEFAULT : chance(t, 80) ? 0 : rnd32(t);
	note(t, "dev_check_cache dev=%u id=%u val=%#x", cmd.id,
	     cmd.check_dev_cache.id, cmd.check_dev_cache.cache);
	test_cmd(t, c, S_DEV_CHECK_CACHE, &cmd, &r);
}

/* ------------------------------------------------------------------ */
/* PASIDs of mock devices (MOCK_FLAGS_DEVICE_PASID: PASID_MAX of them) */

/*
 * With one thread the pools know exactly the mock devices and the HWPTs the
 * fuzzer allocated, and every PASID attachment (the attachment holds its
 * HWPT, destroying the device detaches them): answers that contradict them
 * are the kernel's. With more threads another one may get in between.
 */
static bool exact(void)
{
	return g_nthreads == 1;
}

/* The test command went in as built: the answer is about it */
static bool plain(const struct res *r)
{
	return !r->bad_arg &&
	       r->size >= offsetofend(struct iommu_test_cmd, last) &&
	       r->size <= sizeof(struct iommu_test_cmd);
}

/* The entry of @kind with ID @id; g_lock held */
static struct ent *find_id(struct ctx *c, int kind, __u32 id)
{
	int i;

	for (i = 0; i < c->n[kind]; i++)
		if (c->e[kind][i]->id == id)
			return c->e[kind][i];
	return NULL;
}

/*
 * A HWPT that HWPT_ALLOC made, by ID; g_lock held. Not an automatic one:
 * those go away with their last attachment, and their IDs are reused.
 */
static struct ent *find_alloc_hwpt(struct ctx *c, __u32 id)
{
	int i;

	for (i = 0; i < c->n[K_HWPT]; i++)
		if (c->e[K_HWPT][i]->id == id && !c->e[K_HWPT][i]->c)
			return c->e[K_HWPT][i];
	return find_id(c, K_NESTED, id);
}

static int pasid_slot(const struct ent *d, __u32 pasid)
{
	unsigned int i;

	for (i = 0; i < d->npasid; i++)
		if (d->pasid[i] == pasid)
			return i;
	return -1;
}

static void pasid_track(struct ent *d, __u32 pasid, __u32 hwpt)
{
	int i = pasid_slot(d, pasid);

	if (i >= 0) {
		d->pasid_hwpt[i] = hwpt;
	} else if (d->npasid == NPASID) {
		d->pasid_lost = true;
	} else {
		d->pasid[d->npasid] = pasid;
		d->pasid_hwpt[d->npasid++] = hwpt;
	}
}

static void pasid_untrack(struct ent *d, __u32 pasid)
{
	int i = pasid_slot(d, pasid);

	if (i < 0)
		return;
	d->npasid--;
	d->pasid[i] = d->pasid[d->npasid];
	d->pasid_hwpt[i] = d->pasid_hwpt[d->npasid];
}

static bool f_pasid_dev(const struct ent *e, uint64_t unused)
{
	return e->c & MOCK_FLAGS_DEVICE_PASID;
}

/* A device with PASIDs whose RID is on a HWPT that allows PASIDs */
static bool f_pasid_ready(const struct ent *e, uint64_t ctx)
{
	struct ctx *c = (struct ctx *)(uintptr_t)ctx;
	struct ent *h;

	if (!(e->c & MOCK_FLAGS_DEVICE_PASID))
		return false;
	h = find_alloc_hwpt(c, e->b);
	if (!h)
		h = find_id(c, K_HWPT, e->b);
	return h && has_pasid_flag(h, 0);
}

/*
 * A mock device for a PASID op, by its stdev ID (in *id): mostly one with
 * PASIDs, preferably one that can attach them now; its entry, or NULL for
 * another ID; g_lock held
 */
static struct ent *pick_pasid_dev(struct thr *t, struct ctx *c, __u32 *id)
{
	unsigned int p = rn(t, 100);
	struct ent *e = NULL;

	if (p < 50)
		e = pick_if(t, c, K_DEV, f_pasid_ready, (uintptr_t)c);
	if (!e && p < 80)
		e = pick_if(t, c, K_DEV, f_pasid_dev, 0);
	if (!e && p < 95)
		e = pick(t, c, K_DEV);
	*id = e ? e->id : pick_id(t, c, rn(t, K_NOBJ), false);
	return e;
}

/*
 * A PASID: with @attached percent chance one that @d has attached, else
 * mostly a valid one (IOMMU_TEST_PASID_RESERVED: the mock refuses to move
 * it), sometimes 0 (the RID), the first beyond the width, any
 */
static __u32 gen_pasid(struct thr *t, const struct ent *d,
		       unsigned int attached)
{
	static const __u32 valid[] = {
		1, 2, 7, IOMMU_TEST_PASID_RESERVED, PASID_MAX - 1,
	};
	unsigned int p;

	if (d && d->npasid && chance(t, attached))
		return d->pasid[rn(t, d->npasid)];
	p = rn(t, 100);
	return p < 80 ? valid[rn(t, ARRAY_SIZE(valid))] :
	       p < 86 ? PASID_MAX : p < 91 ? 0 :
	       p < 96 ? 1 + rn(t, PASID_MAX - 1) : rnd32(t);
}

/*
 * What to attach a PASID to: an IOAS (an automatic HWPT), a paging or a
 * nested HWPT, mostly one that allows PASIDs, anything; g_lock held
 */
static __u32 pick_pasid_pt(struct thr *t, struct ctx *c)
{
	unsigned int p = rn(t, 100);
	struct ent *e = NULL;
	int kind;

	if (p < 25)
		return pick_id(t, c, K_IOAS, false);
	if (p < 90) {
		kind = p < 55 ? K_HWPT : K_NESTED;
		if (chance(t, 75))
			e = pick_if(t, c, kind, has_pasid_flag, 0);
		return e ? e->id : pick_id(t, c, kind, false);
	}
	if (p < 97)
		return pick_id(t, c, rn(t, K_NOBJ), false);
	return rand_id(t);
}

/*
 * PASID_CHECK_HWPT right after a change: @pasid of device @stdev has @hwpt
 * attached (nothing if 0). With one thread nothing comes in between.
 */
static void pasid_verify(struct thr *t, struct ctx *c, __u32 stdev,
			 __u32 pasid, __u32 hwpt)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_PASID_CHECK_HWPT,
		.id = stdev,
		.pasid_check = { .pasid = pasid, .hwpt_id = hwpt },
	};
	struct res r;

	note(t, "; check pasid=%u hwpt=%u", pasid, hwpt);
	test_cmd(t, c, S_PASID_VERIFY, &cmd, &r);
	if (exact() && plain(&r) && r.ret)
		fail(t, "PASID_CHECK_HWPT right after the change: PASID %u of mock device %u: %s, not HWPT %u",
		     pasid, stdev, errname(r.err), hwpt);
}

/*
 * Before a PASID attach, sometimes move the RID of a device with PASIDs
 * onto a HWPT that allows PASIDs, as a VMM must: a MOCK_DOMAIN_REPLACE
 */
static void pasid_prepare_rid(struct thr *t, struct ctx *c)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE };
	struct ent *d, *h;
	struct res r;

	L();
	d = pick_if(t, c, K_DEV, f_pasid_dev, 0);
	h = d && !f_pasid_ready(d, (uintptr_t)c) ?
		    pick_if(t, c, chance(t, 60) ? K_HWPT : K_NESTED,
			    has_pasid_flag, 0) : NULL;
	if (!h) {
		U();
		return;
	}
	cmd.id = d->id;
	cmd.mock_domain_replace.pt_id = h->id;
	U();
	note(t, "mock_replace stdev=%u pt=%u", cmd.id,
	     cmd.mock_domain_replace.pt_id);
	test_cmd(t, c, S_MOCK_DOMAIN_REPLACE, &cmd, &r);
	if (r.ret)
		return;
	note(t, "=%u;", cmd.mock_domain_replace.pt_id);
	L();
	d = find_id(c, K_DEV, cmd.id);
	if (d)
		d->b = cmd.mock_domain_replace.pt_id;
	U();
}

static void pasid_change(struct thr *t, struct ctx *c, bool replace)
{
	const char *name = replace ? "PASID_REPLACE" : "PASID_ATTACH";
	struct iommu_test_cmd cmd = {
		.op = replace ? IOMMU_TEST_OP_PASID_REPLACE :
				IOMMU_TEST_OP_PASID_ATTACH,
	};
	struct ent *d, *h;
	__u32 pasid, pt, out;
	struct res r;
	int i;

	if (!replace && chance(t, 30))
		pasid_prepare_rid(t, c);
	L();
	d = pick_pasid_dev(t, c, &cmd.id);
	pasid = gen_pasid(t, d, replace ? 70 : 10);
	pt = pick_pasid_pt(t, c);
	U();
	/* pasid_replace has the layout of pasid_attach */
	cmd.pasid_attach.pasid = pasid;
	cmd.pasid_attach.pt_id = pt;
	note(t, "%s stdev=%u pasid=%u pt=%u",
	     replace ? "pasid_replace" : "pasid_attach", cmd.id, pasid, pt);
	test_cmd(t, c, replace ? S_PASID_REPLACE : S_PASID_ATTACH, &cmd, &r);
	if (r.ret == 0 && (!pasid || pasid >= PASID_MAX))
		fail(t, "%s of PASID %u succeeded: 0 or beyond the width %u",
		     name, pasid, MOCK_PASID_WIDTH);
	if (r.ret)
		return;
	out = cmd.pasid_attach.pt_id;
	check_id(t, name, out);
	note(t, "=%u", out);
	L();
	d = find_id(c, K_DEV, cmd.id);
	i = d ? pasid_slot(d, pasid) : -1;
	if (exact() && d) {
		if (!(d->c & MOCK_FLAGS_DEVICE_PASID))
			fail(t, "%s succeeded on mock device %u without MOCK_FLAGS_DEVICE_PASID (flags %#x)",
			     name, cmd.id, d->c);
		if (!replace && i >= 0)
			fail(t, "PASID_ATTACH of PASID %u, which has HWPT %u attached: success, not EBUSY",
			     pasid, d->pasid_hwpt[i]);
		if (replace && i < 0 && !d->pasid_lost)
			fail(t, "PASID_REPLACE of PASID %u, which has nothing attached: success, not EINVAL",
			     pasid);
		if (replace && i >= 0 && pasid == IOMMU_TEST_PASID_RESERVED &&
		    out != d->pasid_hwpt[i])
			fail(t, "PASID_REPLACE moved PASID %u from HWPT %u to %u, which the mock refuses (ENOMEM)",
			     pasid, d->pasid_hwpt[i], out);
	}
	h = find_alloc_hwpt(c, out);
	if (exact() && h && !has_pasid_flag(h, 0))
		fail(t, "%s to HWPT %u, allocated without IOMMU_HWPT_ALLOC_PASID (flags %#x)",
		     name, out, hwpt_flags(h));
	if (d)
		pasid_track(d, pasid, out);
	if (out != pt && !find_id(c, K_HWPT, out)) {
		/* The automatic HWPT of an IOAS, while something is attached */
		h = ent_new(K_HWPT);
		h->id = out;
		h->a = pt;
		h->b = IOMMU_HWPT_ALLOC_PASID;
		h->c = 1;
		pool_add(c, h);
	}
	U();
	pasid_verify(t, c, cmd.id, pasid, out);
}

static void op_pasid_attach(struct thr *t, struct ctx *c)
{
	pasid_change(t, c, false);
}

static void op_pasid_replace(struct thr *t, struct ctx *c)
{
	pasid_change(t, c, true);
}

static void op_pasid_detach(struct thr *t, struct ctx *c)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_PASID_DETACH };
	struct ent *d;
	struct res r;
	__u32 pasid;

	L();
	d = pick_pasid_dev(t, c, &cmd.id);
	pasid = gen_pasid(t, d, 75);
	U();
	cmd.pasid_detach.pasid = pasid;
	note(t, "pasid_detach stdev=%u pasid=%u", cmd.id, pasid);
	test_cmd(t, c, S_PASID_DETACH, &cmd, &r);
	if (r.ret)
		return;
	L();
	d = find_id(c, K_DEV, cmd.id);
	if (d)
		pasid_untrack(d, pasid);
	U();
	/* PASID 0 is the RID: a fault-capable HWPT there has a handle */
	if (pasid)
		pasid_verify(t, c, cmd.id, pasid, 0);
}

static void op_pasid_check(struct thr *t, struct ctx *c)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_PASID_CHECK_HWPT };
	__u32 pasid, hwpt;
	unsigned int p;
	struct ent *d;
	struct res r;
	int i;

	L();
	d = pick_pasid_dev(t, c, &cmd.id);
	pasid = gen_pasid(t, d, 60);
	i = d ? pasid_slot(d, pasid) : -1;
	p = rn(t, 100);
	hwpt = p < 50 && i >= 0 ? d->pasid_hwpt[i] : p < 75 ? 0 :
	       pick_pasid_pt(t, c);
	U();
	cmd.pasid_check.pasid = pasid;
	cmd.pasid_check.hwpt_id = hwpt;
	note(t, "pasid_check stdev=%u pasid=%u hwpt=%u", cmd.id, pasid, hwpt);
	test_cmd(t, c, S_PASID_CHECK_HWPT, &cmd, &r);
	if (!exact() || !plain(&r) || !r.ret)
		return;
	L();
	d = find_id(c, K_DEV, cmd.id);
	i = d ? pasid_slot(d, pasid) : -1;
	if (i >= 0 && hwpt == d->pasid_hwpt[i])
		fail(t, "PASID_CHECK_HWPT: PASID %u of mock device %u has HWPT %u attached: %s",
		     pasid, cmd.id, hwpt, errname(r.err));
	if (d && i < 0 && !d->pasid_lost && pasid && !hwpt)
		fail(t, "PASID_CHECK_HWPT: PASID %u of mock device %u has nothing attached: %s",
		     pasid, cmd.id, errname(r.err));
	U();
}

static void op_test_unknown(struct thr *t, struct ctx *c)
{
	struct iommu_test_cmd cmd = {};
	struct res r;

	cmd.op = chance(t, 50) ? 0 : chance(t, 50) ?
		 IOMMU_TEST_OP_DMABUF_REVOKE + 1 + rn(t, 8) : rnd32(t);
	if (cmd.op >= IOMMU_TEST_OP_ADD_RESERVED &&
	    cmd.op <= IOMMU_TEST_OP_DMABUF_REVOKE)
		cmd.op = 0;
	note(t, "test op %u", cmd.op);
	test_cmd(t, c, S_TEST_OP_UNKNOWN, &cmd, &r);
	if (!r.bad_arg && r.size >= offsetofend(struct iommu_test_cmd, last) &&
	    r.size <= sizeof(cmd) && r.err != EOPNOTSUPP)
		fail(t, "TEST_CMD of unknown op %u: %s, not EOPNOTSUPP", cmd.op,
		     errname(r.err));
}

static void set_mem_limit(int fd, __u32 limit)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
		.memory_limit = { .limit = limit },
	};

	ioctl(fd, IOMMU_TEST_CMD, &cmd);
}

static void op_maybe(struct thr *t, struct ctx *c, const char *name);

static void op_mem_limit(struct thr *t, struct ctx *c)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT
	};
	unsigned int p = rn(t, 100);
	struct res r;

	cmd.memory_limit.limit = p < 15 ? rn(t, 12) : p < 60 ? 12 + rn(t, 52) :
				 p < 85 ? 12 + rn(t, 4096) : rnd32(t);
	note(t, "mem_limit %u;", cmd.memory_limit.limit);
	test_cmd(t, c, S_SET_TEMP_MEMORY_LIMIT, &cmd, &r);
	if (!r.bad_arg && r.size >= offsetofend(struct iommu_test_cmd, last) &&
	    r.size <= sizeof(cmd) && (cmd.memory_limit.limit < 12) != !!r.ret)
		fail(t, "SET_TEMP_MEMORY_LIMIT %u: %s", cmd.memory_limit.limit,
		     errname(r.err));
	/* Then an operation that pins pages, on a tiny budget */
	switch (rn(t, 5)) {
	case 0:
		op_maybe(t, c, "ioas_map");
		break;
	case 1:
		op_maybe(t, c, "ioas_copy");
		break;
	case 2:
		op_maybe(t, c, "access_rw");
		break;
	case 3:
		op_maybe(t, c, "access_pages");
		break;
	default:
		op_maybe(t, c, "mock_domain");
		break;
	}
	set_mem_limit(c->fd, DEFAULT_MEM_LIMIT);
}

static void op_close_queue(struct thr *t, struct ctx *c)
{
	int kind = chance(t, 50) ? K_VEVENTQ : K_FAULT;
	struct ent *e;
	int ret, err;
	__u32 id;

	L();
	e = pick_if(t, c, kind, f_idle_fd, 0);
	if (!e) {
		U();
		return;
	}
	id = e->id;
	note(t, "close %s %u fd=%d", kind_name[kind], id, e->fd);
	ret = close(e->fd);
	err = ret ? errno : 0;
	e->fd = -1;
	U();
	stat_note(t, S_CLOSE_QUEUE_FD, ret, err);
	if (ret)
		fail(t, "close of a queue fd: %s", errname(err));
	/* Destroy it now, or leave it to a later destroy */
	if (chance(t, 60))
		do_destroy(t, c, id, kind, false);
}

static void op_close_access(struct thr *t, struct ctx *c)
{
	struct ent *e;
	int ret, fd;

	L();
	e = pick_if(t, c, K_ACCESS, f_idle_fd, 0);
	if (!e) {
		U();
		return;
	}
	fd = e->fd;
	note(t, "close access fd=%d", fd);
	e->fd = -1;
	pool_del(c, e);
	for (int i = 0; i < c->n[K_APAGES]; i++)
		if (c->e[K_APAGES][i]->a == (__u32)fd)
			pool_del_at(c, K_APAGES, i--);
	ret = close(fd);
	U();
	stat_note(t, S_CLOSE_ACCESS_FD, ret, ret ? errno : 0);
	if (ret)
		fail(t, "close of an access fd: %s", errname(errno));
}

static void op_reopen(struct thr *t, struct ctx *c)
{
	int s = rn(t, g_nctx);

	note(t, "reopen slot %d", s);
	L();
	ctx_retire(t, s, true);
	U();
	stat_note(t, S_REOPEN, 0, 0);
}

static void op_orphan(struct thr *t, struct ctx *c)
{
	struct ent *e;
	int i;

	L();
	if (!g_norphan) {
		U();
		return;
	}
	i = rn(t, g_norphan);
	e = g_orphan[i];
	if (chance(t, 60) || e->fd < 0) {
		note(t, "close orphan %s fd=%d", kind_name[e->kind], e->fd);
		g_orphan[i] = g_orphan[--g_norphan];
		ent_kill(e);
		U();
		stat_note(t, S_CLOSE_ORPHAN, 0, 0);
		return;
	}
	e->busy++;
	U();
	fd_poll(t, e, S_POLL_ORPHAN, e->kind == K_FAULT ? POLLOUT : 0);
	ent_put(e);
}

static void op_unknown_ioctl(struct thr *t, struct ctx *c)
{
	unsigned long req;
	unsigned int nr;
	int ret, err;

	switch (rn(t, 3) + 1) {
	case 1:
		nr = 0x95 + rn(t, 0xa0 - 0x95);
		req = _IO(IOMMUFD_TYPE, nr);
		break;
	case 2:
		nr = 0xa1 + rn(t, 0x5f);
		req = _IO(IOMMUFD_TYPE, nr);
		break;
	default:
		/* A known number with direction and size bits */
		nr = IOMMUFD_CMD_BASE + rn(t, 0x15);
		req = _IOWR(IOMMUFD_TYPE, nr, struct iommu_destroy);
		break;
	}
	memset(t->cmdbuf, 0, 64);
	t->cmdbuf[0] = 64;
	note(t, "ioctl %#lx", req);
	ret = ioctl(c->fd, req, t->cmdbuf);
	err = ret < 0 ? errno : 0;
	note(t, "-> %s", errname(err));
	stat_note(t, S_UNKNOWN_IOCTL, ret, err);
	if (err != ENOTTY)
		fail(t, "ioctl %#lx (not an iommufd ioctl): %d %s, not ENOTTY",
		     req, ret, errname(err));
}

/*
 * The mock's dma-bufs: made, revoked and given back, and mapped with
 * IOAS_MAP_FILE, which must refuse a range outside the dma-buf and a
 * revoked one (ENODEV). Each thread knows its own dma-bufs exactly.
 */
static void op_dmabuf(struct thr *t, struct ctx *c)
{
	unsigned int p = rn(t, 100), i = rn(t, NDMABUF);
	struct iommu_test_cmd tc = {};
	struct res r;

	if (p < 25 || t->dmabuf_fd[i] < 0) {
		struct iommu_test_cmd get = {
			.size = sizeof(get),
			.op = IOMMU_TEST_OP_DMABUF_GET,
		};
		int fd, err;

		p = rn(t, 100);
		get.dmabuf_get.length = p < 80 ? g_page * (1 + rn(t, 8)) :
					p < 90 ? rn(t, 4 * g_page) : rnd32(t);
		get.dmabuf_get.open_flags = chance(t, 95) ? O_CLOEXEC :
							     rnd32(t);
		note(t, "dmabuf_get len=%#x flags=%#x", get.dmabuf_get.length,
		     get.dmabuf_get.open_flags);
		fd = ioctl(c->fd, IOMMU_TEST_CMD, &get);
		err = fd < 0 ? errno : 0;
		note(t, "-> %d %s", fd, errname(err));
		stat_note(t, S_DMABUF_GET, fd < 0 ? -1 : 0, err);
		if (fd >= 0 && (!get.dmabuf_get.length ||
				(get.dmabuf_get.open_flags & ~O_CLOEXEC)))
			fail(t, "DMABUF_GET of length %#x flags %#x: fd %d",
			     get.dmabuf_get.length,
			     get.dmabuf_get.open_flags, fd);
		if (fd < 0)
			return;
		check_fd(t, "DMABUF_GET", fd);
		if (t->dmabuf_fd[i] >= 0)
			close(t->dmabuf_fd[i]);
		t->dmabuf_fd[i] = fd;
		t->dmabuf_len[i] = get.dmabuf_get.length;
		t->dmabuf_revoked[i] = false;
		return;
	}

	if (p < 50) {
		__u32 revoked = chance(t, 95) ? rn(t, 2) : 2 + rn(t, 9);

		tc.op = IOMMU_TEST_OP_DMABUF_REVOKE;
		tc.dmabuf_revoke.dmabuf_fd = t->dmabuf_fd[i];
		tc.dmabuf_revoke.revoked = revoked;
		note(t, "dmabuf_revoke fd=%d revoked=%u", t->dmabuf_fd[i],
		     revoked);
		test_cmd(t, c, S_DMABUF_REVOKE, &tc, &r);
		MUST_FAIL_IF(t, &r, revoked > 1, "DMABUF_REVOKE of revoked > 1");
		if (!r.ret)
			t->dmabuf_revoked[i] = revoked;
		return;
	}

	{
		struct iommu_ioas_map_file cmd = { .size = sizeof(cmd) };
		__u64 size = t->dmabuf_len[i], in_iova, in_len, in_start;
		bool inside;

		if (reap_if_full(t, c, K_MAP, CAP_MAPS))
			return;
		gen_map_dst(t, c, &cmd.flags, &cmd.ioas_id, &cmd.iova);
		cmd.fd = t->dmabuf_fd[i];
		p = rn(t, 100);
		cmd.start = p < 80 ? (__u64)g_page * rn(t, size / g_page + 1) :
					rnd64(t);
		cmd.length = chance(t, 80) ? size - (cmd.start < size ?
						     cmd.start : 0) :
					     gen_len(t);
		in_iova = cmd.iova;
		in_len = cmd.length;
		in_start = cmd.start;
		inside = in_len && in_start < size && in_len <= size - in_start;
		note(t, "map_file dmabuf ioas=%u fd=%d start=%#llx len=%#llx",
		     cmd.ioas_id, cmd.fd, (unsigned long long)cmd.start,
		     (unsigned long long)cmd.length);
		fz_ioctl(t, c->fd, S_DMABUF_MAP, IOMMU_IOAS_MAP_FILE, &cmd,
			 sizeof(cmd),
			 offsetofend(struct iommu_ioas_map_file, iova), &r);
		MUST_FAIL_IF(t, &r, !inside,
			     "IOAS_MAP_FILE of a range outside the dma-buf");
		MUST_FAIL_IF(t, &r, t->dmabuf_revoked[i],
			     "IOAS_MAP_FILE of a revoked dma-buf");
		if (r.ret)
			return;
		check_fixed_iova(t, "IOAS_MAP_FILE(dma-buf)", cmd.flags,
				 in_iova, cmd.iova);
		L();
		add_map(c, cmd.ioas_id, cmd.iova, in_len, 0);
		U();
	}
}

static void op_madvise(struct thr *t, struct ctx *c)
{
	size_t np = g_pool_len / g_page;
	size_t first = rn(t, np), n = 1 + rn(t, 16);
	int ret;

	if (first + n > np)
		n = np - first;
	note(t, "madvise DONTNEED pool pages %zu+%zu", first, n);
	ret = madvise(g_pool + first * g_page, n * g_page, MADV_DONTNEED);
	stat_note(t, S_MADVISE, ret, ret ? errno : 0);
}

struct op {
	const char *name;
	unsigned int weight;
	void (*fn)(struct thr *t, struct ctx *c);
};

static struct op g_ops_tab[] = {
	{ "destroy", 50, op_destroy },
	{ "ioas_alloc", 30, op_ioas_alloc },
	{ "iova_ranges", 15, op_iova_ranges },
	{ "allow_iovas", 6, op_allow_iovas },
	{ "ioas_map", 60, op_ioas_map },
	{ "ioas_map_file", 25, op_ioas_map_file },
	{ "change_process", 4, op_change_process },
	{ "ioas_copy", 20, op_ioas_copy },
	{ "ioas_unmap", 35, op_ioas_unmap },
	{ "option", 8, op_option },
	{ "vfio_ioas", 6, op_vfio_ioas },
	{ "hwpt_alloc", 60, op_hwpt_alloc },
	{ "hw_info", 15, op_hw_info },
	{ "set_dirty", 12, op_set_dirty },
	{ "get_dirty", 15, op_get_dirty },
	{ "invalidate", 45, op_invalidate },
	{ "fault_alloc", 12, op_fault_alloc },
	{ "fault_fd", 25, op_fault_fd },
	{ "viommu_alloc", 35, op_viommu_alloc },
	{ "vdevice_alloc", 35, op_vdevice_alloc },
	{ "veventq_alloc", 25, op_veventq_alloc },
	{ "hw_queue_alloc", 20, op_hw_queue_alloc },
	{ "viommu_mmap", 15, op_viommu_mmap },
	{ "veventq_fd", 35, op_veventq_fd },
	{ "mock_domain", 40, op_mock_domain },
	{ "mock_replace", 30, op_mock_replace },
	{ "create_access", 12, op_create_access },
	{ "access_pages", 20, op_access_pages },
	{ "destroy_access_pages", 12, op_destroy_access_pages },
	{ "access_rw", 20, op_access_rw },
	{ "access_replace", 8, op_access_replace },
	{ "add_reserved", 4, op_add_reserved },
	{ "md_check", 15, op_md_check },
	{ "dirty", 12, op_dirty },
	{ "trigger", 60, op_trigger },
	{ "dev_check_cache", 8, op_dev_check_cache },
	{ "pasid_attach", 30, op_pasid_attach },
	{ "pasid_replace", 20, op_pasid_replace },
	{ "pasid_detach", 15, op_pasid_detach },
	{ "pasid_check", 10, op_pasid_check },
	{ "test_unknown", 2, op_test_unknown },
	{ "mem_limit", 4, op_mem_limit },
	{ "close_queue", 8, op_close_queue },
	{ "close_access", 6, op_close_access },
	{ "reopen", 2, op_reopen },
	{ "orphan", 4, op_orphan },
	{ "unknown_ioctl", 3, op_unknown_ioctl },
	{ "madvise", 1, op_madvise },
	{ "dmabuf", 15, op_dmabuf },
};

static unsigned int g_wsum;

/* Run operation @name unless -o or -x left it out */
static void op_maybe(struct thr *t, struct ctx *c, const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(g_ops_tab); i++)
		if (!strcmp(g_ops_tab[i].name, name) && g_ops_tab[i].weight)
			g_ops_tab[i].fn(t, c);
}

static struct op *choose_op(struct thr *t)
{
	unsigned int w = rn(t, g_wsum), i;

	for (i = 0; i < ARRAY_SIZE(g_ops_tab); i++) {
		if (w < g_ops_tab[i].weight)
			return &g_ops_tab[i];
		w -= g_ops_tab[i].weight;
	}
	return &g_ops_tab[0];
}

/* ------------------------------------------------------------------ */
/* Threads */

static void progress(struct thr *t)
{
	int64_t now = now_ns(), next = g_next_progress_ns;

	if (now < next || !__atomic_compare_exchange_n(&g_next_progress_ns,
						       &next, now + 10000000000LL,
						       false, __ATOMIC_SEQ_CST,
						       __ATOMIC_SEQ_CST))
		return;
	out("# ops=%lu secs=%lld\n",
	    __atomic_load_n(&g_opcount, __ATOMIC_RELAXED),
	    (long long)((now - g_start_ns) / 1000000000LL));
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;

	cur_thr = t;
	while (!g_stop) {
		unsigned long n = __atomic_fetch_add(&g_opcount, 1,
						     __ATOMIC_SEQ_CST);
		struct ctx *c;
		struct op *op;

		if (g_max_ops && n >= g_max_ops) {
			__atomic_fetch_sub(&g_opcount, 1, __ATOMIC_SEQ_CST);
			break;
		}
		if (g_deadline_ns && now_ns() >= g_deadline_ns) {
			__atomic_fetch_sub(&g_opcount, 1, __ATOMIC_SEQ_CST);
			break;
		}
		t->opno = n;
		t->desc[0] = 0;
		op = choose_op(t);
		c = ctx_get(t);
		if (!c) {
			out("# open %s: %s\n", DEV_IOMMU, strerror(errno));
			g_failed = 1;
			break;
		}
		t->op_start = now_ns();
		note(t, "[%d] %s:", c->slot, op->name);
		op->fn(t, c);
		t->op_start = 0;
		ctx_put(c);
		t->ops++;
		snprintf(t->hist[t->hpos++ % HIST], HIST_SZ, "%lu %s", n,
			 t->desc);
		if (g_verbose)
			out("# %d %lu %s\n", t->idx, n, t->desc);
		kmsg_check(t);
		progress(t);
	}
	/* The mappings hold their dma-bufs; the thread lets go of its own */
	for (int i = 0; i < NDMABUF; i++)
		if (t->dmabuf_fd[i] >= 0)
			close(t->dmabuf_fd[i]);
	return NULL;
}

/* A crash of the fuzzer itself: say where, for its bug report */
static void on_fatal_signal(int sig)
{
	struct thr *t = cur_thr;

	if (t) {
		printf("# signal %d in op %lu of thread %d: %s\n", sig, t->opno,
		       t->idx, t->desc);
		dump_history(t, 16);
	}
	printf("not ok 1 fuzz seed=%llu # fuzzer crashed (signal %d)\n",
	       (unsigned long long)g_seed, sig);
	fflush(stdout);
	_exit(1);
}

/*
 * Reports an operation that takes far too long: at 30s as a warning (the
 * kernel may be waiting out a timeout), at 150s as a hang, which ends the
 * run (before the harness's timeout would, without a word).
 */
static void *watchdog_main(void *arg)
{
	int i;

	while (!__atomic_load_n((int *)arg, __ATOMIC_SEQ_CST)) {
		int64_t now, st;

		sleep(1);
		now = now_ns();
		for (i = 0; i < g_nthreads; i++) {
			struct thr *t = g_thr[i];

			st = t->op_start;
			if (!st || st != t->op_start)
				continue;
			if (now - st >= 150000000000LL) {
				out("# thread %d hung for %llds in op %lu: %s\n",
				    i, (long long)((now - st) / 1000000000LL),
				    t->opno, t->desc);
				dump_history(t, 16);
				out("not ok 1 fuzz seed=%llu # hang in op %lu\n",
				    (unsigned long long)g_seed, t->opno);
				_exit(1);
			}
			if (now - st < 30000000000LL || t->stuck_reported == st)
				continue;
			t->stuck_reported = st;
			out("# warning: thread %d in op %lu for %llds: %s\n", i,
			    t->opno, (long long)((now - st) / 1000000000LL),
			    t->desc);
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Setup, checks at the end, summary */

/*
 * @len bytes of PROT_NONE, aligned to POOL_ALIGN, with the page before and
 * the page after left PROT_NONE too. IOAS_MAP without FIXED_IOVA picks an
 * IOVA with the alignment of the user address (up to the PMD size, at most
 * 512 MiB), so the pool and the memfd must not move with ASLR: with -j 1 the
 * IOVAs, and so the later choices, would differ from run to run.
 */
#define POOL_ALIGN (1UL << 30)

static uint8_t *reserve_aligned(size_t len)
{
	size_t span = len + 2 * g_page + POOL_ALIGN;
	uint8_t *r, *p, *end;

	r = mmap(NULL, span, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED) {
		/* No room: unaligned, and a run is not repeatable */
		r = mmap(NULL, len + 2 * g_page, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return r == MAP_FAILED ? NULL : r + g_page;
	}
	end = r + span;
	p = (uint8_t *)(((uintptr_t)r + g_page + POOL_ALIGN - 1) &
			~(uintptr_t)(POOL_ALIGN - 1));
	if (p - g_page > r)
		munmap(r, p - g_page - r);
	if (p + len + g_page < end)
		munmap(p + len + g_page, end - (p + len + g_page));
	return p;
}

static void *map_guarded(size_t len)
{
	uint8_t *p = mmap(NULL, len + 2 * g_page, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + g_page, len, PROT_READ | PROT_WRITE))
		return NULL;
	return p + g_page;
}

static bool setup_memory(void)
{
	size_t np;
	uint8_t *r;
	int fd;

	g_page = sysconf(_SC_PAGESIZE);
	g_pool_len = 4 << 20;
	if (g_pool_len < 64 * (size_t)g_page)
		g_pool_len = 64 * (size_t)g_page;
	np = g_pool_len / g_page;
	g_pool = reserve_aligned(g_pool_len);
	if (!g_pool || mprotect(g_pool, g_pool_len, PROT_READ | PROT_WRITE))
		return false;
	madvise(g_pool, g_pool_len / 2, MADV_NOHUGEPAGE);
	madvise(g_pool + g_pool_len / 2, g_pool_len / 2, MADV_HUGEPAGE);
	memset(g_pool, 0x5a, g_pool_len);
	g_hole[0] = np / 2 + 3;
	g_hole[1] = np - 2;
	mprotect(g_pool + g_hole[0] * g_page, g_page, PROT_NONE);
	mprotect(g_pool + g_hole[1] * g_page, g_page, PROT_NONE);

	/* Shared memory too, pinned through the page cache */
	g_shm_len = 1 << 20;
	fd = memfd_create("iommufd_fuzz", MFD_CLOEXEC);
	if (fd >= 0 && !ftruncate(fd, g_shm_len)) {
		r = reserve_aligned(g_shm_len);
		if (r && mmap(r, g_shm_len, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_FIXED, fd, 0) != MAP_FAILED) {
			g_shm = r;
			memset(g_shm, 0x3c, g_shm_len);
		}
	}
	if (g_shm)
		g_shm_fd = fd;
	else if (fd >= 0)
		close(fd);
	return true;
}

static bool setup_thread(struct thr *t, int idx)
{
	memset(t, 0, sizeof(*t));
	t->idx = idx;
	for (int i = 0; i < NDMABUF; i++)
		t->dmabuf_fd[i] = -1;
	seed_thread(t, g_seed, idx);
	t->cmd_sz = 2 * g_page;
	t->cmdbuf = map_guarded(t->cmd_sz);
	t->data = map_guarded(ARENA_SZ);
	if (!t->cmdbuf || !t->data)
		return false;
	/* The guard before cmdbuf is not needed; the one after is */
	return true;
}

/* Pages must not stay pinned once every fd is closed */
static bool check_no_pins(int fd, uint8_t *p, size_t len, const char *what)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = { .length = len, .uptr = (uintptr_t)p, .refs = 0 },
	};
	size_t i;

	if (!len)
		return true;
	/* Make every page a present private (or shmem) page */
	for (i = 0; i < len; i += g_page)
		((volatile uint8_t *)p)[i] = ((volatile uint8_t *)p)[i];
	if (ioctl(fd, IOMMU_TEST_CMD, &cmd)) {
		out("# FAIL: pages of %s still pinned after all fds closed (MD_CHECK_REFS: %s)\n",
		    what, errname(errno));
		return false;
	}
	return true;
}

/* A fresh fd still works after all the abuse */
static bool health_check(void)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_test_cmd md = {
		.size = sizeof(md), .op = IOMMU_TEST_OP_MOCK_DOMAIN,
	};
	struct iommu_ioas_map map = { .size = sizeof(map) };
	struct iommu_ioas_unmap unmap = { .size = sizeof(unmap) };
	struct iommu_test_cmd check = {
		.size = sizeof(check), .op = IOMMU_TEST_OP_MD_CHECK_MAP,
	};
	struct iommu_destroy d = { .size = sizeof(d) };
	size_t len = 4 * g_page;
	bool ok, seq = false;
	int fd;

	fd = open(DEV_IOMMU, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		out("# FAIL: health: open %s: %s\n", DEV_IOMMU,
		    strerror(errno));
		return false;
	}
	set_mem_limit(fd, DEFAULT_MEM_LIMIT);
	ok = check_no_pins(fd, g_pool, g_hole[0] * g_page, "the pool");
	ok &= check_no_pins(fd, g_pool + (g_hole[0] + 1) * g_page,
			    (g_hole[1] - g_hole[0] - 1) * g_page, "the pool");
	ok &= check_no_pins(fd, g_pool + (g_hole[1] + 1) * g_page,
			    g_pool_len - (g_hole[1] + 1) * g_page, "the pool");
	if (g_shm)
		ok &= check_no_pins(fd, g_shm, g_shm_len, "the memfd");
	for (int i = 0; i < g_nthreads; i++)
		ok &= check_no_pins(fd, g_thr[i]->data, ARENA_SZ,
				    "a thread's buffers");

	if (ioctl(fd, IOMMU_IOAS_ALLOC, &alloc)) {
		out("# FAIL: health: IOAS_ALLOC: %s\n", errname(errno));
		goto out_close;
	}
	md.id = alloc.out_ioas_id;
	if (ioctl(fd, IOMMU_TEST_CMD, &md)) {
		out("# FAIL: health: MOCK_DOMAIN: %s\n", errname(errno));
		goto out_close;
	}
	map.ioas_id = alloc.out_ioas_id;
	map.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |
		    IOMMU_IOAS_MAP_READABLE;
	map.user_va = (uintptr_t)g_pool;
	map.length = len;
	map.iova = MOCK_APERTURE_START;
	if (ioctl(fd, IOMMU_IOAS_MAP, &map)) {
		out("# FAIL: health: IOAS_MAP: %s\n", errname(errno));
		goto out_close;
	}
	check.id = md.mock_domain.out_hwpt_id;
	check.check_map.iova = MOCK_APERTURE_START;
	check.check_map.length = len;
	check.check_map.uptr = (uintptr_t)g_pool;
	if (ioctl(fd, IOMMU_TEST_CMD, &check)) {
		out("# FAIL: health: MD_CHECK_MAP: %s\n", errname(errno));
		goto out_close;
	}
	unmap.ioas_id = alloc.out_ioas_id;
	unmap.iova = MOCK_APERTURE_START;
	unmap.length = len;
	if (ioctl(fd, IOMMU_IOAS_UNMAP, &unmap) || unmap.length != len) {
		out("# FAIL: health: IOAS_UNMAP: %s, length %#llx\n",
		    errname(errno), (unsigned long long)unmap.length);
		goto out_close;
	}
	d.id = md.mock_domain.out_stdev_id;
	if (ioctl(fd, IOMMU_DESTROY, &d)) {
		out("# FAIL: health: DESTROY of the mock device: %s\n",
		    errname(errno));
		goto out_close;
	}
	d.id = alloc.out_ioas_id;
	if (ioctl(fd, IOMMU_DESTROY, &d)) {
		out("# FAIL: health: DESTROY of the IOAS: %s\n",
		    errname(errno));
		goto out_close;
	}
	seq = true;
	ok &= check_no_pins(fd, g_pool, len, "the pool (health check)");
	if (ok)
		out("# health check: fresh fd: IOAS_ALLOC, MOCK_DOMAIN, MAP, MD_CHECK_MAP, UNMAP, DESTROY ok; no page left pinned\n");
out_close:
	close(fd);
	return ok && seq;
}

/* Is the mock driver there? 1 yes, 0 no (skip), -1 broken */
static int probe(char *why, size_t len)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_test_cmd md = {
		.size = sizeof(md), .op = IOMMU_TEST_OP_MOCK_DOMAIN,
	};
	int fd, rc = 1;

	fd = open(DEV_IOMMU, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, len, "open %s: %s", DEV_IOMMU, strerror(errno));
		return 0;
	}
	if (ioctl(fd, IOMMU_IOAS_ALLOC, &alloc)) {
		snprintf(why, len, "IOAS_ALLOC: %s", errname(errno));
		rc = -1;
	} else {
		md.id = alloc.out_ioas_id;
		if (ioctl(fd, IOMMU_TEST_CMD, &md)) {
			snprintf(why, len, "IOMMU_TEST_CMD MOCK_DOMAIN: %s",
				 errname(errno));
			rc = errno == ENOTTY ? 0 : -1;
		}
	}
	close(fd);
	return rc;
}

static void summary(void)
{
	struct opstat tot[NSTAT];
	int i, j, k;

	memset(tot, 0, sizeof(tot));
	for (i = 0; i < g_nthreads; i++) {
		for (j = 0; j < NSTAT; j++) {
			tot[j].calls += g_thr[i]->st[j].calls;
			tot[j].ok += g_thr[i]->st[j].ok;
			for (k = 0; k < NERR; k++)
				tot[j].err[k] += g_thr[i]->st[j].err[k];
		}
	}
	out("# %-30s %8s %8s  %s\n", "op", "calls", "ok", "top errnos");
	for (j = 0; j < NSTAT; j++) {
		char buf[160] = "";
		int top[3] = { -1, -1, -1 };
		size_t n = 0;

		if (!tot[j].calls)
			continue;
		for (k = 1; k < NERR; k++) {
			int m;

			if (!tot[j].err[k])
				continue;
			for (m = 0; m < 3; m++) {
				if (top[m] < 0 ||
				    tot[j].err[k] > tot[j].err[top[m]]) {
					memmove(&top[m + 1], &top[m],
						(2 - m) * sizeof(int));
					top[m] = k;
					break;
				}
			}
		}
		for (k = 0; k < 3 && top[k] >= 0; k++)
			n += snprintf(buf + n, sizeof(buf) - n, "%s=%u ",
				      errname(top[k]), tot[j].err[top[k]]);
		out("# %-30s %8lu %8lu  %s\n", stat_name[j], tot[j].calls,
		    tot[j].ok, buf);
	}
	out("# records read: %lu page faults, %lu vEVENTs, %lu lost-events marks\n",
	    g_faults_read, g_vevents_read, g_lost_read);
}

static int count_fds(void)
{
	int fd, n = 0;

	for (fd = 3; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* -o OPS: only these operations; -x OPS: all but these */
static bool select_ops(const char *list, bool only)
{
	bool named[ARRAY_SIZE(g_ops_tab)] = {};
	char *dup = strdup(list), *tok, *save;
	unsigned int i;
	bool any = false;

	for (tok = strtok_r(dup, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < ARRAY_SIZE(g_ops_tab); i++)
			if (!strcmp(tok, g_ops_tab[i].name))
				break;
		if (i == ARRAY_SIZE(g_ops_tab)) {
			fprintf(stderr, "unknown op %s; ops:", tok);
			for (i = 0; i < ARRAY_SIZE(g_ops_tab); i++)
				fprintf(stderr, " %s", g_ops_tab[i].name);
			fprintf(stderr, "\n");
			free(dup);
			return false;
		}
		named[i] = any = true;
	}
	for (i = 0; i < ARRAY_SIZE(g_ops_tab); i++)
		if (named[i] != only)
			g_ops_tab[i].weight = 0;
	free(dup);
	return any;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-s SEED] [-n MAX_OPS] [-t SECONDS] [-j THREADS] [-f FDS]\n"
		"          [-o OPS | -x OPS] [-v]\n"
		"  -s SEED     seed (default: from the time)\n"
		"  -n MAX_OPS  stop after this many operations (all threads)\n"
		"  -t SECONDS  stop after this long (default 60 unless -n is given)\n"
		"  -j THREADS  threads, 1..%d (default 1); -j 1 is deterministic\n"
		"  -f FDS      /dev/iommu fds to use, 1..%d (default %d)\n"
		"  -o OPS      only these operations (comma separated)\n"
		"  -x OPS      all operations but these\n"
		"  -v          print every operation\n",
		argv0, MAX_THREADS, NCTX, NCTX);
	exit(2);
}

int main(int argc, char **argv)
{
	bool seed_given = false, fds_ok;
	int opt, i, rc, fds_before, wd_stop = 0;
	const char *only = NULL, *except = NULL;
	pthread_t wd;
	double secs;
	char why[256];
	unsigned long ops;
	int64_t end;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "s:n:t:j:f:o:x:vh")) != -1) {
		switch (opt) {
		case 's':
			g_seed = strtoull(optarg, NULL, 0);
			seed_given = true;
			break;
		case 'n':
			g_max_ops = strtoul(optarg, NULL, 0);
			break;
		case 't':
			g_secs = atoi(optarg);
			break;
		case 'j':
			g_nthreads = atoi(optarg);
			break;
		case 'f':
			g_nctx = atoi(optarg);
			break;
		case 'o':
			only = optarg;
			break;
		case 'x':
			except = optarg;
			break;
		case 'v':
			g_verbose = true;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (g_nthreads < 1 || g_nthreads > MAX_THREADS || g_nctx < 1 ||
	    g_nctx > NCTX)
		usage(argv[0]);
	if (g_secs < 0)
		g_secs = g_max_ops ? 0 : 60;
	if (!seed_given) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		g_seed = ((uint64_t)ts.tv_sec * 1000003ULL) ^ ts.tv_nsec ^
			 ((uint64_t)getpid() << 32);
		g_seed %= 1000000000000ULL;
	}
	if ((only && !select_ops(only, true)) ||
	    (except && !select_ops(except, false)))
		usage(argv[0]);
	for (i = 0; i < (int)ARRAY_SIZE(g_ops_tab); i++)
		g_wsum += g_ops_tab[i].weight;
	if (!g_wsum)
		usage(argv[0]);

	printf("TAP version 13\n1..1\n");
	if (g_nctx != NCTX)
		snprintf(g_args, sizeof(g_args), " -f %d", g_nctx);
	if (only)
		snprintf(g_args + strlen(g_args), sizeof(g_args) - strlen(g_args),
			 " -o %s", only);
	if (except)
		snprintf(g_args + strlen(g_args), sizeof(g_args) - strlen(g_args),
			 " -x %s", except);
	printf("# seed=%llu: rerun with ./iommufd_fuzz -s %llu -n %lu -t %d -j %d%s\n",
	       (unsigned long long)g_seed, (unsigned long long)g_seed,
	       g_max_ops, g_secs, g_nthreads, g_args);

	if (!setup_memory()) {
		printf("not ok 1 fuzz seed=%llu # memory setup failed\n",
		       (unsigned long long)g_seed);
		return 1;
	}
	rc = probe(why, sizeof(why));
	if (rc <= 0) {
		printf("%s 1 fuzz seed=%llu # %s%s\n", rc ? "not ok" : "ok",
		       (unsigned long long)g_seed, rc ? "" : "SKIP ", why);
		return rc ? 1 : 0;
	}
	for (i = 0; i < g_nthreads; i++) {
		g_thr[i] = malloc(sizeof(struct thr));
		if (!g_thr[i] || !setup_thread(g_thr[i], i)) {
			printf("not ok 1 fuzz seed=%llu # thread setup failed\n",
			       (unsigned long long)g_seed);
			return 1;
		}
	}
	kmsg_open();
	fds_before = count_fds();
	printf("# page size %ld, pool %zu KiB (holes at pages %zu, %zu), memfd %zu KiB, %d thread(s), %s\n",
	       g_page, g_pool_len >> 10, g_hole[0], g_hole[1],
	       g_shm ? g_shm_len >> 10 : 0, g_nthreads,
	       g_kmsg_fd >= 0 ? "watching /dev/kmsg" : "no /dev/kmsg");

	signal(SIGSEGV, on_fatal_signal);
	signal(SIGBUS, on_fatal_signal);
	g_start_ns = now_ns();
	g_next_progress_ns = g_start_ns + 10000000000LL;
	if (g_secs)
		g_deadline_ns = g_start_ns + (int64_t)g_secs * 1000000000LL;
	pthread_create(&wd, NULL, watchdog_main, &wd_stop);
	for (i = 0; i < g_nthreads; i++)
		pthread_create(&g_thr[i]->tid, NULL, thread_main, g_thr[i]);
	for (i = 0; i < g_nthreads; i++)
		pthread_join(g_thr[i]->tid, NULL);
	end = now_ns();
	__atomic_store_n(&wd_stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(wd, NULL);
	ops = __atomic_load_n(&g_opcount, __ATOMIC_SEQ_CST);
	secs = (end - g_start_ns) / 1e9;

	/* Close everything: orphans, then every /dev/iommu fd */
	L();
	for (i = 0; i < g_norphan; i++)
		ent_kill(g_orphan[i]);
	g_norphan = 0;
	for (i = 0; i < NCTX; i++)
		ctx_retire(g_thr[0], i, false);
	U();
	fds_ok = count_fds() == fds_before;
	if (!fds_ok)
		out("# warning: %d fds open after closing all, %d before\n",
		    count_fds(), fds_before);
	if (g_thr[0])
		kmsg_check(g_thr[0]);

	summary();
	if (!health_check())
		g_failed = 1;
	kmsg_check(g_thr[0]);
	if (g_kernel_report)
		g_failed = 1;
	if (g_nthreads == 1)
		out("# replay: ./iommufd_fuzz -s %llu -n %lu -j 1%s\n",
		    (unsigned long long)g_seed, ops, g_args);
	out("%s 1 fuzz seed=%llu ops=%lu secs=%.1f ops_per_sec=%.1f\n",
	    g_failed ? "not ok" : "ok", (unsigned long long)g_seed, ops, secs,
	    secs > 0 ? ops / secs : 0.0);
	return g_failed ? 1 : 0;
}
