// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd_bench: how fast a kernel does what a VMM with a vIOMMU asks of
 * iommufd, on the mock driver (CONFIG_IOMMUFD_TEST).  Built against
 * mainline's uAPI headers and mainline's mock ABI (iommufd_test.h), so
 * that the same binary runs on the series and on mainline.
 *
 * Each operation is timed over N repetitions (-n, default 1000) with
 * CLOCK_MONOTONIC: under QEMU's -icount guest time counts guest
 * instructions.  Output is TAP, a case per operation, its numbers on a
 * line of their own:
 *   # OP NAME ns_per_call N ns_per_entry M calls K
 * and the kernel memory per object (Slab: of /proc/meminfo, over 1000
 * objects, approximate): "# MEM NAME bytes N".  A failing call fails its
 * case (with its errno) and the exit code is 1.  Where edu sits behind an
 * SMMUv3 (arm64-smmu), the same operations on its vSMMU ("vsmmu_"); they
 * are skipped elsewhere.
 *
 * Each operation runs in -r rounds (default 5) of -n repetitions; the
 * median round is reported.  -o NAME runs that operation alone, once,
 * without the TAP plan, for a profile (vevent runs both vEVENTQ cases).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include "iommufd_test.h"

#define VIRT_ID		0x99
/* Where the mock maps (inside its aperture, 2 MiB aligned) */
#define MOCK_IOVA	(MOCK_APERTURE_START + (1ULL << 22))
#define PASID		1

#define NCASES		21

static int fd;
static unsigned int reps = 1000;
/* -o NAME: that operation alone (for a profile), no TAP plan */
static const char *only;
static int failed, ncase;
static __u32 ioas, stdev, idev, parent, viommu, vdev;
/* A second device (PASIDs) and a third (a vIOMMU and vDEVICE of its own) */
static __u32 stdev2, idev2, stdev3, idev3;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * -o: the console hears at once (the kernel's log, not stdout, which the
 * test runner passes on when the program ends) when the operation starts
 * and ends, so that a profiler samples only in between
 */
static void kmsg(const char *what)
{
	char line[128];
	int f = open("/dev/kmsg", O_WRONLY);

	/* An initramfs without devtmpfs: the node, as edu_dma makes it */
	if (f < 0 && !mknod("/dev/kmsg", S_IFCHR | 0600, makedev(1, 11)))
		f = open("/dev/kmsg", O_WRONLY);
	if (f < 0)
		return;
	/* Level 0, as the VM's init writes: the console shows no other */
	snprintf(line, sizeof(line), "<0>iommufd_bench: %s %s\n", what, only);
	if (write(f, line, strlen(line)) < 0)
		line[0] = 0;
	close(f);
}

/* @call, once per round */
#define ROUNDS(call)                                                    \
	do {                                                            \
		unsigned int r_;                                        \
		for (r_ = 0; r_ < rounds; r_++)                         \
			call;                                           \
	} while (0)

static bool want(const char *name)
{
	return !only || !strcmp(only, name);
}

/*
 * Each operation is timed in -r rounds (default 5) of -n repetitions, and
 * the median round is reported: a rare event of the guest (an interrupt,
 * a kworker) that lands in one round does not move the result.
 */
#define MAX_ROUNDS	15
static unsigned int rounds = 5;

struct op_result {
	char name[40];
	long long per_call[MAX_ROUNDS];
	long long per_entry[MAX_ROUNDS];
	unsigned int calls;
	unsigned int n;
	bool failed;
};

static struct op_result results[40];

static struct op_result *result_of(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(results) / sizeof(results[0]); i++) {
		if (!results[i].name[0])
			snprintf(results[i].name, sizeof(results[i].name), "%s",
				 name);
		if (!strcmp(results[i].name, name))
			return &results[i];
	}
	return &results[i - 1];
}

/* A failure is reported once, and the operation then reports nothing */
static int fail(const char *what)
{
	struct op_result *r = result_of(what);

	if (!r->failed)
		printf("not ok %d %s # errno %d\n", ++ncase, what, errno);
	r->failed = true;
	failed = 1;
	return -1;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *name, long long ns, unsigned int calls,
		   unsigned int entries)
{
	struct op_result *r = result_of(name);

	if (r->failed || r->n == rounds)
		return;
	r->per_call[r->n] = ns / calls;
	r->per_entry[r->n] = ns / ((long long)calls * entries);
	r->calls = calls;
	if (++r->n != rounds)
		return;
	qsort(r->per_call, rounds, sizeof(long long), cmp_ll);
	qsort(r->per_entry, rounds, sizeof(long long), cmp_ll);
	printf("# OP %s ns_per_call %lld ns_per_entry %lld calls %u rounds %u\n",
	       name, r->per_call[rounds / 2], r->per_entry[rounds / 2], calls,
	       rounds);
	printf("ok %d %s\n", ++ncase, name);
}

static int test_cmd(struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioctl(fd, IOMMU_TEST_CMD, cmd);
}

static int destroy(__u32 id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ioctl(fd, IOMMU_DESTROY, &cmd);
}

static int ioas_alloc(__u32 *id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	if (ioctl(fd, IOMMU_IOAS_ALLOC, &cmd))
		return -1;
	*id = cmd.out_ioas_id;
	return 0;
}

static int hwpt_alloc(__u32 pt_id, __u32 flags, __u32 type, void *data,
		      __u32 len, __u32 *id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = idev,
		.pt_id = pt_id,
		.data_type = type,
		.data_len = len,
		.data_uptr = (uintptr_t)data,
	};

	if (ioctl(fd, IOMMU_HWPT_ALLOC, &cmd))
		return -1;
	*id = cmd.out_hwpt_id;
	return 0;
}

static int nested_alloc(__u32 *id)
{
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };

	return hwpt_alloc(viommu, 0, IOMMU_HWPT_DATA_SELFTEST, &data,
			  sizeof(data), id);
}

static int replace_dev(__u32 st, __u32 pt_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = st,
		.mock_domain_replace = { .pt_id = pt_id },
	};

	return test_cmd(&cmd);
}

/* The first device's RID */
static int replace(__u32 pt_id)
{
	return replace_dev(stdev, pt_id);
}

/* A vIOMMU of @type of device @dev_id over the nest parent @hwpt_id */
static int viommu_alloc_of(__u32 type, __u32 dev_id, __u32 hwpt_id, __u32 *id)
{
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = type,
		.dev_id = dev_id,
		.hwpt_id = hwpt_id,
	};

	if (ioctl(fd, IOMMU_VIOMMU_ALLOC, &cmd))
		return -1;
	*id = cmd.out_viommu_id;
	return 0;
}

/* The first mock device's mock vIOMMU over the nest parent */
static int viommu_alloc(__u32 *id)
{
	return viommu_alloc_of(IOMMU_VIOMMU_TYPE_SELFTEST, idev, parent, id);
}

static int vdevice_alloc(__u32 viommu_id, __u32 dev_id, __u64 virt_id,
			 __u32 *id)
{
	struct iommu_vdevice_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.dev_id = dev_id,
		.virt_id = virt_id,
	};

	if (ioctl(fd, IOMMU_VDEVICE_ALLOC, &cmd))
		return -1;
	*id = cmd.out_vdevice_id;
	return 0;
}

static int map(__u32 ioas_id, __u64 iova, void *va, __u64 len)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	return ioctl(fd, IOMMU_IOAS_MAP, &cmd);
}

static int unmap(__u32 ioas_id, __u64 iova, __u64 len)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = len,
	};

	return ioctl(fd, IOMMU_IOAS_UNMAP, &cmd);
}

/* Slab: of /proc/meminfo, in bytes */
static long long slab_bytes(void)
{
	char line[128];
	long long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/* The floor: a call that does nothing (IOMMU_DESTROY of ID 0: ENOENT) */
static void bench_floor(void)
{
	long long t;
	unsigned int i;

	t = now_ns();
	for (i = 0; i < reps; i++)
		if (destroy(0) != -1 || errno != ENOENT) {
			fail("floor");
			return;
		}
	report("floor", now_ns() - t, reps, 1);
}

/* HWPT_INVALIDATE of @cmd's @n entries, reps times */
static void time_invalidate(const char *name, struct iommu_hwpt_invalidate *cmd,
			    unsigned int n)
{
	unsigned int i;
	long long t;

	t = now_ns();
	for (i = 0; i < reps; i++) {
		cmd->entry_num = n;
		if (ioctl(fd, IOMMU_HWPT_INVALIDATE, cmd) || cmd->entry_num != n) {
			fail(name);
			return;
		}
	}
	report(name, now_ns() - t, reps, n);
}

/* HWPT_INVALIDATE of the vIOMMU, @n device-cache entries per call */
static void bench_invalidate(unsigned int n)
{
	struct iommu_viommu_invalidate_selftest *e;
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = viommu,
		.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
		.entry_len = sizeof(*e),
	};
	char name[32];
	unsigned int i;

	e = calloc(n, sizeof(*e));
	if (!e)
		return;
	for (i = 0; i < n; i++) {
		e[i].vdev_id = VIRT_ID;
		e[i].cache_id = i % MOCK_DEV_CACHE_NUM;
	}
	cmd.data_uptr = (uintptr_t)e;
	snprintf(name, sizeof(name), "viommu_invalidate_%u", n);
	time_invalidate(name, &cmd, n);
	free(e);
}

/* A guest STE change as QEMU makes it: new nested HWPT, replace, destroy */
static void bench_ste_change(__u32 *cur)
{
	unsigned int i;
	long long t;
	__u32 id;

	t = now_ns();
	for (i = 0; i < reps; i++) {
		if (nested_alloc(&id) || replace(id) || destroy(*cur)) {
			fail("ste_change");
			return;
		}
		*cur = id;
	}
	report("ste_change", now_ns() - t, reps, 1);
}

/* vEVENTQ: one event from the report to read(), and in bulk */
static void bench_veventq(void)
{
	struct iommu_veventq_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu,
		.type = IOMMU_VEVENTQ_TYPE_SELFTEST,
		.veventq_depth = 1024,
	};
	struct iommu_test_cmd trig = {
		.op = IOMMU_TEST_OP_TRIGGER_VEVENT,
		.trigger_vevent = { .dev_id = idev },
	};
	const size_t rec = sizeof(struct iommufd_vevent_header) +
			   sizeof(struct iommu_viommu_event_selftest);
	char *buf = malloc(rec * 1024);
	unsigned int i, got;
	long long t;
	ssize_t n;

	if (!buf || ioctl(fd, IOMMU_VEVENTQ_ALLOC, &cmd)) {
		fail("veventq_alloc");
		free(buf);
		return;
	}
	t = now_ns();
	for (i = 0; i < reps; i++) {
		if (test_cmd(&trig) || read(cmd.out_veventq_fd, buf, rec) != (ssize_t)rec) {
			fail("vevent_one");
			goto out;
		}
	}
	report("vevent_one", now_ns() - t, reps, 1);
	/* Bulk: 1000 reported, then read whole */
	t = now_ns();
	for (i = 0; i < 1000; i++)
		if (test_cmd(&trig)) {
			fail("vevent_bulk");
			goto out;
		}
	for (got = 0; got < 1000; got += n / rec) {
		n = read(cmd.out_veventq_fd, buf, rec * 1024);
		if (n <= 0 || n % rec) {
			fail("vevent_bulk_read");
			goto out;
		}
	}
	report("vevent_bulk", now_ns() - t, 1, 1000);
out:
	close(cmd.out_veventq_fd);
	destroy(cmd.out_veventq_id);
	free(buf);
}

/*
 * IOAS_MAP + IOAS_UNMAP on the nest parent while a nested HWPT is attached:
 * @len bytes at @iova of @ioas_id, from a 2 MiB aligned user address
 */
static void bench_map(const char *name, __u32 ioas_id, __u64 iova, size_t len)
{
	size_t sz = len + (2UL << 20);
	char *p = mmap(NULL, sz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	char *va;
	unsigned int i;
	long long t;

	if (p == MAP_FAILED)
		return (void)fail(name);
	va = (char *)(((uintptr_t)p + (2UL << 20) - 1) & ~((2UL << 20) - 1));
	t = now_ns();
	for (i = 0; i < reps; i++)
		if (map(ioas_id, iova, va, len) || unmap(ioas_id, iova, len)) {
			fail(name);
			break;
		}
	if (i == reps)
		report(name, now_ns() - t, reps, 1);
	munmap(p, sz);
}

/*
 * PASID replace between two PASID-capable paging HWPTs, on a device whose
 * RID is on one too (a PASID-capable device's domains all must be)
 */
static void bench_pasid(void)
{
	struct iommu_test_cmd cmd = { .id = stdev2 };
	static __u32 a, b;
	__u32 saved = idev;
	unsigned int i;
	long long t;

	/* The HWPTs and the RID's attachment, once for every round */
	if (!a) {
		idev = idev2;
		if (hwpt_alloc(ioas, IOMMU_HWPT_ALLOC_PASID,
			       IOMMU_HWPT_DATA_NONE, NULL, 0, &a) ||
		    hwpt_alloc(ioas, IOMMU_HWPT_ALLOC_PASID,
			       IOMMU_HWPT_DATA_NONE, NULL, 0, &b)) {
			idev = saved;
			return (void)fail("pasid_replace");
		}
		idev = saved;
		if (replace_dev(stdev2, a))
			return (void)fail("pasid_replace");
	}
	cmd.op = IOMMU_TEST_OP_PASID_ATTACH;
	cmd.pasid_attach.pasid = PASID;
	cmd.pasid_attach.pt_id = a;
	if (test_cmd(&cmd))
		return (void)fail("pasid_replace");
	t = now_ns();
	for (i = 0; i < reps; i++) {
		cmd.op = IOMMU_TEST_OP_PASID_REPLACE;
		cmd.pasid_replace.pasid = PASID;
		cmd.pasid_replace.pt_id = i % 2 ? a : b;
		if (test_cmd(&cmd)) {
			fail("pasid_replace");
			break;
		}
	}
	if (i == reps)
		report("pasid_replace", now_ns() - t, reps, 1);
	cmd.op = IOMMU_TEST_OP_PASID_DETACH;
	cmd.pasid_detach.pasid = PASID;
	test_cmd(&cmd);
}

/* A vIOMMU and a vDEVICE (of the third device), allocated and destroyed */
static void bench_viommu_vdevice(void)
{
	unsigned int i;
	__u32 vi, vd;
	long long t;

	t = now_ns();
	for (i = 0; i < reps; i++) {
		if (viommu_alloc_of(IOMMU_VIOMMU_TYPE_SELFTEST, idev3, parent,
				    &vi))
			return (void)fail("viommu_vdevice");
		if (vdevice_alloc(vi, idev3, VIRT_ID + 1, &vd) || destroy(vd) ||
		    destroy(vi))
			return (void)fail("viommu_vdevice");
	}
	report("viommu_vdevice", now_ns() - t, reps, 1);
}

/* A mock device on the IOAS: its selftest ID and its iommufd device ID */
static int mock_dev(__u32 flags, __u32 *st, __u32 *dev)
{
	struct iommu_test_cmd md = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
		.id = ioas,
		.mock_domain_flags = { .dev_flags = flags },
	};

	if (test_cmd(&md))
		return -1;
	*st = md.mock_domain_flags.out_stdev_id;
	*dev = md.mock_domain_flags.out_idev_id;
	return 0;
}

static void mem_result(const char *name, long long before, unsigned int made,
		       unsigned int n)
{
	printf("# MEM %s bytes %lld\n", name, (slab_bytes() - before) / n);
	if (made < n)
		fail(name);
	else
		printf("ok %d %s\n", ++ncase, name);
}

/*
 * Kernel memory per object (Slab: over 1000 objects of a kind): nested
 * HWPTs, vIOMMUs, a vDEVICE for each of 1000 mock devices (one per device
 * and vIOMMU), a vEVENTQ of depth 1024 on each vIOMMU. Every object stays
 * until all are counted, so that no count reuses what an earlier one freed;
 * the devices are made first, uncounted.
 */
static void bench_mem(void)
{
	const unsigned int n = 1000;
	__u32 *st = calloc(n, sizeof(*st)), *dev = calloc(n, sizeof(*dev));
	__u32 *hwpt = calloc(n, sizeof(*hwpt)), *vi = calloc(n, sizeof(*vi));
	__u32 *vd = calloc(n, sizeof(*vd)), *vq = calloc(n, sizeof(*vq));
	int *fds = calloc(n, sizeof(*fds));
	unsigned int nd, nh = 0, nv = 0, nvd = 0, nq = 0;
	long long before;

	if (!st || !dev || !hwpt || !vi || !vd || !vq || !fds)
		goto out;
	for (nd = 0; nd < n; nd++)
		if (mock_dev(0, &st[nd], &dev[nd]))
			break;

	before = slab_bytes();
	for (nh = 0; nh < n; nh++)
		if (nested_alloc(&hwpt[nh]))
			break;
	mem_result("mem_nested_hwpt", before, nh, n);

	before = slab_bytes();
	for (nv = 0; nv < n; nv++)
		if (viommu_alloc(&vi[nv]))
			break;
	mem_result("mem_viommu", before, nv, n);

	before = slab_bytes();
	for (nvd = 0; nvd < nd; nvd++)
		if (vdevice_alloc(viommu, dev[nvd], 0x1000 + nvd, &vd[nvd]))
			break;
	mem_result("mem_vdevice", before, nvd, n);

	before = slab_bytes();
	for (nq = 0; nq < nv; nq++) {
		struct iommu_veventq_alloc cmd = {
			.size = sizeof(cmd),
			.viommu_id = vi[nq],
			.type = IOMMU_VEVENTQ_TYPE_SELFTEST,
			.veventq_depth = 1024,
		};

		if (ioctl(fd, IOMMU_VEVENTQ_ALLOC, &cmd))
			break;
		vq[nq] = cmd.out_veventq_id;
		fds[nq] = cmd.out_veventq_fd;
	}
	mem_result("mem_veventq_1024", before, nq, n);

	while (nq--) {
		close(fds[nq]);
		destroy(vq[nq]);
	}
	while (nvd--)
		destroy(vd[nvd]);
	while (nv--)
		destroy(vi[nv]);
	while (nh--)
		destroy(hwpt[nh]);
	while (nd--)
		destroy(st[nd]);
out:
	if (!st || !dev || !hwpt || !vi || !vd || !vq || !fds) {
		fail("mem_nested_hwpt");
		fail("mem_viommu");
		fail("mem_vdevice");
		fail("mem_veventq_1024");
	}
	free(st);
	free(dev);
	free(hwpt);
	free(vi);
	free(vd);
	free(vq);
	free(fds);
}

/*
 * The vSMMU of an SMMUv3 (arm64-smmu: QEMU's SMMUv3 with stage=nested):
 * edu (PCI 1234:11e8) through its VFIO cdev, on a nest parent of its own
 * IOAS, with a vIOMMU, a vDEVICE and a nested HWPT from a stage-1 vSTE.
 * Where there is no edu behind an SMMUv3 the cases are skipped.
 */
#define EDU_VSID	0x42
#define G_GPA		0x40000000ULL	/* guest RAM: CD table, then tables */
#define G_RAM		(64UL << 10)
#define G_MAP_IOVA	0x80000000ULL	/* where the map cases map */
#define ASID		0x2a
#define VSMMU_CASES	6

static struct {
	int fd;
	__u32 devid, ioas, parent, viommu, vdev, nested;
	__u64 *ram;
} e = { .fd = -1 };

static const char *const vsmmu_cases[VSMMU_CASES] = {
	"vsmmu_invalidate_1", "vsmmu_invalidate_32", "vsmmu_invalidate_256",
	"vsmmu_ste_change", "vsmmu_map_unmap_4k", "vsmmu_map_unmap_2m",
};

static void skip_vsmmu(const char *why)
{
	int i;

	for (i = 0; i < VSMMU_CASES; i++)
		printf("ok %d %s # SKIP %s\n", ++ncase, vsmmu_cases[i], why);
}

static int write_str(const char *path, const char *val)
{
	int f = open(path, O_WRONLY);
	ssize_t n;

	if (f < 0)
		return -1;
	n = write(f, val, strlen(val));
	close(f);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

static int read_str(const char *path, char *buf, size_t len)
{
	int f = open(path, O_RDONLY);
	ssize_t n;

	if (f < 0)
		return -1;
	n = read(f, buf, len - 1);
	close(f);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

/* edu's PCI address, or -1 */
static int edu_find(char *bdf, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *de;
	char path[600], v[16], dv[16];
	int ret = -1;

	if (!d)
		return -1;
	while (ret && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
			 de->d_name);
		if (read_str(path, v, sizeof(v)))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 de->d_name);
		if (read_str(path, dv, sizeof(dv)))
			continue;
		if (!strncmp(v, "0x1234", 6) && !strncmp(dv, "0x11e8", 6)) {
			snprintf(bdf, len, "%s", de->d_name);
			ret = 0;
		}
	}
	closedir(d);
	return ret;
}

/* edu bound to vfio-pci, its cdev opened: the fd, or -1 with *why */
static int edu_open(const char **why)
{
	char bdf[256], path[900], name[256] = "", dev[32];
	unsigned int maj, min;
	struct dirent *de;
	DIR *d;
	int f;

	if (edu_find(bdf, sizeof(bdf)))
		return *why = "no edu device", -1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	write_str(path, "vfio-pci");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	write_str(path, bdf);
	write_str("/sys/bus/pci/drivers_probe", bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	d = opendir(path);
	if (!d)
		return *why = "edu not on vfio-pci (no vfio-dev)", -1;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "vfio", 4))
			snprintf(name, sizeof(name), "%s", de->d_name);
	closedir(d);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev/%s/dev",
		 bdf, name);
	if (!name[0] || read_str(path, dev, sizeof(dev)) ||
	    sscanf(dev, "%u:%u", &maj, &min) != 2)
		return *why = "no VFIO device cdev", -1;
	mkdir("/dev/vfio", 0755);
	mkdir("/dev/vfio/devices", 0755);
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", name);
	unlink(path);
	if (mknod(path, S_IFCHR | 0600, makedev(maj, min)))
		return *why = "mknod of the VFIO cdev", -1;
	f = open(path, O_RDWR);
	if (f < 0)
		return *why = "open of the VFIO cdev", -1;
	return f;
}

static int edu_attach(__u32 pt_id)
{
	struct vfio_device_attach_iommufd_pt cmd = {
		.argsz = sizeof(cmd),
		.pt_id = pt_id,
	};

	return ioctl(e.fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &cmd);
}

/* A stage-1 vSTE: CD table at G_GPA, inner shareable write-back walks */
static int vste_alloc(__u32 *id)
{
	struct iommu_hwpt_arm_smmuv3 vste = {
		.ste = { (1ULL << 0) | (5ULL << 1) | G_GPA,
			 (1ULL << 2) | (1ULL << 4) | (3ULL << 6) },
	};
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.dev_id = e.devid,
		.pt_id = e.viommu,
		.data_type = IOMMU_HWPT_DATA_ARM_SMMUV3,
		.data_len = sizeof(vste),
		.data_uptr = (uintptr_t)&vste,
	};

	if (ioctl(fd, IOMMU_HWPT_ALLOC, &cmd))
		return -1;
	*id = cmd.out_hwpt_id;
	return 0;
}

/* Returns 0, or -1 with *why (skip) or with why NULL (failed) */
static int vsmmu_setup(const char **why)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct iommu_hw_info info = { .size = sizeof(info) };
	struct iommu_hwpt_alloc np = {
		.size = sizeof(np),
		.flags = IOMMU_HWPT_ALLOC_NEST_PARENT,
	};
	__u64 *cd;

	e.fd = edu_open(why);
	if (e.fd < 0)
		return -1;
	*why = NULL;
	bind.iommufd = fd;
	if (ioctl(e.fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return -1;
	e.devid = bind.out_devid;
	info.dev_id = e.devid;
	if (ioctl(fd, IOMMU_GET_HW_INFO, &info))
		return -1;
	if (info.out_data_type != IOMMU_HW_INFO_TYPE_ARM_SMMUV3)
		return *why = "edu is not behind an SMMUv3", -1;
	e.ram = mmap(NULL, G_RAM, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (e.ram == MAP_FAILED || ioas_alloc(&e.ioas) ||
	    map(e.ioas, G_GPA, e.ram, G_RAM))
		return -1;
	/*
	 * CD 0: TTB0 the (empty) next page, ASID, T0SZ 25, 4 KiB granule,
	 * write-back walks, EPD1, valid, 44-bit IPS, AArch64, R, A, ASET
	 */
	cd = e.ram;
	cd[1] = G_GPA + 4096;
	cd[3] = 0xff;
	cd[0] = 25ULL | (1ULL << 8) | (1ULL << 10) | (3ULL << 12) |
		(1ULL << 30) | (1ULL << 31) | (4ULL << 32) | (1ULL << 41) |
		(1ULL << 45) | (1ULL << 46) | (1ULL << 47) | ((__u64)ASID << 48);
	np.dev_id = e.devid;
	np.pt_id = e.ioas;
	if (ioctl(fd, IOMMU_HWPT_ALLOC, &np) || edu_attach(np.out_hwpt_id))
		return -1;
	e.parent = np.out_hwpt_id;
	if (viommu_alloc_of(IOMMU_VIOMMU_TYPE_ARM_SMMUV3, e.devid, e.parent,
			    &e.viommu) ||
	    vdevice_alloc(e.viommu, e.devid, EDU_VSID, &e.vdev))
		return -1;
	if (vste_alloc(&e.nested) || edu_attach(e.nested))
		return -1;
	return 0;
}

/* TLBI_NH_VA of the guest's ASID, @n per call (one per 4 KiB page) */
static void bench_vsmmu_invalidate(unsigned int n)
{
	struct iommu_viommu_arm_smmuv3_invalidate *c = calloc(n, sizeof(*c));
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = e.viommu,
		.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.entry_len = sizeof(*c),
		.data_uptr = (uintptr_t)c,
	};
	char name[40];
	unsigned int i;

	if (!c)
		return (void)fail("vsmmu_invalidate");
	for (i = 0; i < n; i++) {
		c[i].cmd[0] = 0x12 | ((__u64)ASID << 48);
		c[i].cmd[1] = 0x10000000ULL + i * 4096ULL;
	}
	snprintf(name, sizeof(name), "vsmmu_invalidate_%u", n);
	time_invalidate(name, &cmd, n);
	free(c);
}

/* A guest STE change as QEMU makes it, on the SMMU */
static void bench_vsmmu_ste_change(void)
{
	unsigned int i;
	long long t;
	__u32 id;

	t = now_ns();
	for (i = 0; i < reps; i++) {
		if (vste_alloc(&id) || edu_attach(id) || destroy(e.nested)) {
			fail("vsmmu_ste_change");
			return;
		}
		e.nested = id;
	}
	report("vsmmu_ste_change", now_ns() - t, reps, 1);
}

static void bench_vsmmu(void)
{
	const char *why = NULL;

	if (vsmmu_setup(&why)) {
		if (why) {
			skip_vsmmu(why);
		} else {
			int i;

			for (i = 0; i < VSMMU_CASES; i++)
				fail(vsmmu_cases[i]);
		}
		return;
	}
	if (want("vsmmu_invalidate_1"))
		ROUNDS(bench_vsmmu_invalidate(1));
	if (want("vsmmu_invalidate_32"))
		ROUNDS(bench_vsmmu_invalidate(32));
	if (want("vsmmu_invalidate_256"))
		ROUNDS(bench_vsmmu_invalidate(256));
	if (want("vsmmu_ste_change"))
		ROUNDS(bench_vsmmu_ste_change());
	if (want("vsmmu_map_unmap_4k"))
		ROUNDS(bench_map("vsmmu_map_unmap_4k", e.ioas, G_MAP_IOVA, 4096));
	if (want("vsmmu_map_unmap_2m"))
		ROUNDS(bench_map("vsmmu_map_unmap_2m", e.ioas, G_MAP_IOVA, 2UL << 20));
	/* Back to the parent so that edu is left as the kernel expects */
	edu_attach(e.parent);
	destroy(e.nested);
	destroy(e.vdev);
	destroy(e.viommu);
	close(e.fd);
}

int main(int argc, char **argv)
{
	__u32 nested;
	int c;

	while ((c = getopt(argc, argv, "n:o:r:")) != -1) {
		if (c == 'n')
			reps = strtoul(optarg, NULL, 0);
		else if (c == 'o')
			only = optarg;
		else if (c == 'r')
			rounds = strtoul(optarg, NULL, 0);
	}
	if (!reps)
		reps = 1;
	if (only || !rounds)
		rounds = 1;
	if (rounds > MAX_ROUNDS)
		rounds = MAX_ROUNDS;
	if (!only)
		printf("TAP version 13\n1..%d\n", NCASES);
	fflush(stdout);
	fd = open("/dev/iommu", O_RDWR);
	if (fd < 0)
		return fail("open /dev/iommu"), 1;
	if (ioas_alloc(&ioas) || mock_dev(0, &stdev, &idev) ||
	    mock_dev(MOCK_FLAGS_DEVICE_PASID, &stdev2, &idev2) ||
	    mock_dev(0, &stdev3, &idev3))
		return fail("setup: mock devices"), 1;
	if (hwpt_alloc(ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, IOMMU_HWPT_DATA_NONE,
		       NULL, 0, &parent) || replace(parent))
		return fail("setup: nest parent"), 1;
	if (replace_dev(stdev3, parent))
		return fail("setup: nest parent (third device)"), 1;
	if (viommu_alloc(&viommu) || vdevice_alloc(viommu, idev, VIRT_ID, &vdev))
		return fail("setup: vIOMMU"), 1;
	if (nested_alloc(&nested) || replace(nested))
		return fail("setup: nested HWPT"), 1;

	if (only)
		kmsg("profile start");
	if (want("floor"))
		ROUNDS(bench_floor());
	if (want("viommu_invalidate_1"))
		ROUNDS(bench_invalidate(1));
	if (want("viommu_invalidate_32"))
		ROUNDS(bench_invalidate(32));
	if (want("viommu_invalidate_256"))
		ROUNDS(bench_invalidate(256));
	if (want("ste_change"))
		ROUNDS(bench_ste_change(&nested));
	if (want("vevent"))
		ROUNDS(bench_veventq());
	if (want("map_unmap_4k"))
		ROUNDS(bench_map("map_unmap_4k", ioas, MOCK_IOVA, 4096));
	if (want("map_unmap_2m"))
		ROUNDS(bench_map("map_unmap_2m", ioas, MOCK_IOVA, 2UL << 20));
	if (want("pasid_replace"))
		ROUNDS(bench_pasid());
	if (want("viommu_vdevice"))
		ROUNDS(bench_viommu_vdevice());
	if (!only)
		bench_mem();
	if (!only || !strncmp(only, "vsmmu_", 6))
		bench_vsmmu();
	if (only)
		kmsg("profile end");
	return failed;
}
