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
 * case (with its errno) and the exit code is 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

#define VIRT_ID		0x99
#define PASID		1

#define NCASES		13

static int fd;
static unsigned int reps = 1000;
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

static int fail(const char *what)
{
	printf("not ok %d - %s # errno %d\n", ++ncase, what, errno);
	failed = 1;
	return -1;
}

static void report(const char *name, long long ns, unsigned int calls,
		   unsigned int entries)
{
	printf("# OP %s ns_per_call %lld ns_per_entry %lld calls %u\n", name,
	       ns / calls, ns / ((long long)calls * entries), calls);
	printf("ok %d - %s\n", ++ncase, name);
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

static int viommu_alloc(__u32 *id)
{
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = IOMMU_VIOMMU_TYPE_SELFTEST,
		.dev_id = idev,
		.hwpt_id = parent,
	};

	if (ioctl(fd, IOMMU_VIOMMU_ALLOC, &cmd))
		return -1;
	*id = cmd.out_viommu_id;
	return 0;
}

static int vdevice_alloc(__u32 viommu_id, __u32 *id)
{
	struct iommu_vdevice_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.dev_id = idev,
		.virt_id = VIRT_ID,
	};

	if (ioctl(fd, IOMMU_VDEVICE_ALLOC, &cmd))
		return -1;
	*id = cmd.out_vdevice_id;
	return 0;
}

static int map(__u64 iova, void *va, __u64 len)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	return ioctl(fd, IOMMU_IOAS_MAP, &cmd);
}

static int unmap(__u64 iova, __u64 len)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
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
	long long t;

	e = calloc(n, sizeof(*e));
	if (!e)
		return;
	for (i = 0; i < n; i++) {
		e[i].vdev_id = VIRT_ID;
		e[i].cache_id = i % MOCK_DEV_CACHE_NUM;
	}
	cmd.data_uptr = (uintptr_t)e;
	snprintf(name, sizeof(name), "viommu_invalidate_%u", n);
	t = now_ns();
	for (i = 0; i < reps; i++) {
		cmd.entry_num = n;
		if (ioctl(fd, IOMMU_HWPT_INVALIDATE, &cmd) || cmd.entry_num != n) {
			fail(name);
			break;
		}
	}
	if (i == reps)
		report(name, now_ns() - t, reps, n);
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

/* IOAS_MAP + IOAS_UNMAP on the nest parent while a nested HWPT is attached */
static void bench_map(const char *name, size_t len)
{
	const __u64 iova = MOCK_APERTURE_START + (1ULL << 22);
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
		if (map(iova, va, len) || unmap(iova, len)) {
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
	__u32 a, b, saved = idev;
	unsigned int i;
	long long t;

	idev = idev2;
	if (hwpt_alloc(ioas, IOMMU_HWPT_ALLOC_PASID, IOMMU_HWPT_DATA_NONE,
		       NULL, 0, &a) ||
	    hwpt_alloc(ioas, IOMMU_HWPT_ALLOC_PASID, IOMMU_HWPT_DATA_NONE,
		       NULL, 0, &b)) {
		idev = saved;
		return (void)fail("pasid_replace");
	}
	idev = saved;
	if (replace_dev(stdev2, a))
		return (void)fail("pasid_replace");
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
	struct iommu_viommu_alloc va = {
		.size = sizeof(va),
		.type = IOMMU_VIOMMU_TYPE_SELFTEST,
		.dev_id = idev3,
		.hwpt_id = parent,
	};
	struct iommu_vdevice_alloc vd = {
		.size = sizeof(vd),
		.dev_id = idev3,
		.virt_id = VIRT_ID + 1,
	};
	unsigned int i;
	long long t;

	t = now_ns();
	for (i = 0; i < reps; i++) {
		if (ioctl(fd, IOMMU_VIOMMU_ALLOC, &va))
			return (void)fail("viommu_vdevice");
		vd.viommu_id = va.out_viommu_id;
		if (ioctl(fd, IOMMU_VDEVICE_ALLOC, &vd) ||
		    destroy(vd.out_vdevice_id) || destroy(va.out_viommu_id))
			return (void)fail("viommu_vdevice");
	}
	report("viommu_vdevice", now_ns() - t, reps, 1);
}

/* Kernel memory per object: Slab: over 1000 objects of one kind */
static void bench_mem(void)
{
	const unsigned int n = 1000;
	__u32 *ids = calloc(n, sizeof(*ids));
	long long before;
	unsigned int i;

	if (!ids)
		return (void)fail("mem");
	before = slab_bytes();
	for (i = 0; i < n; i++)
		if (nested_alloc(&ids[i]))
			break;
	printf("# MEM nested_hwpt bytes %lld\n", (slab_bytes() - before) / n);
	if (i < n)
		fail("mem_nested_hwpt");
	else
		printf("ok %d - mem_nested_hwpt\n", ++ncase);
	while (i--)
		destroy(ids[i]);
	before = slab_bytes();
	for (i = 0; i < n; i++)
		if (viommu_alloc(&ids[i]))
			break;
	printf("# MEM viommu bytes %lld\n", (slab_bytes() - before) / n);
	if (i < n)
		fail("mem_viommu");
	else
		printf("ok %d - mem_viommu\n", ++ncase);
	while (i--)
		destroy(ids[i]);
	free(ids);
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

int main(int argc, char **argv)
{
	__u32 nested;
	int c;

	while ((c = getopt(argc, argv, "n:")) != -1)
		if (c == 'n')
			reps = strtoul(optarg, NULL, 0);
	if (!reps)
		reps = 1;
	printf("TAP version 13\n1..%d\n", NCASES);
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
	if (viommu_alloc(&viommu) || vdevice_alloc(viommu, &vdev))
		return fail("setup: vIOMMU"), 1;
	if (nested_alloc(&nested) || replace(nested))
		return fail("setup: nested HWPT"), 1;

	bench_floor();
	bench_invalidate(1);
	bench_invalidate(32);
	bench_invalidate(256);
	bench_ste_change(&nested);
	bench_veventq();
	bench_map("map_unmap_4k", 4096);
	bench_map("map_unmap_2m", 2UL << 20);
	bench_pasid();
	bench_viommu_vdevice();
	bench_mem();
	return failed;
}
