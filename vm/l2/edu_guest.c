// SPDX-License-Identifier: GPL-2.0
/*
 * edu_guest: the arm64-qemu machine's L2 test driver (harness, not the
 * series).  It drives QEMU's edu device the way a guest driver does:
 * through the DMA API of its own DMA domain on the vSMMU that QEMU 11.1's
 * accelerated arm-smmuv3 gives the guest, i.e. stage 1 in L2's page tables,
 * stage 2 in L1's nest parent, walked by L0's SMMU.
 *
 * It runs once, at probe, and prints its results as TAP lines prefixed
 * "edu_guest: " (L2's init turns them into the suite's TAP), details as
 * "edu_guest: # " lines, and "edu_guest: done N" at the end:
 *   dma_domain         edu is in a strict DMA domain of L2's SMMU
 *   dma_both_ways      RAM -> device -> RAM moves exactly the bytes
 *   unmapped_iova      DMA to an IOVA L2 never mapped does not land (its
 *                      address is printed: L2's init finds the event)
 *   remap_new          DMA into a newly mapped page lands
 *   remap_old_iova     after its unmap (and the invalidation L2's driver
 *                      sends), DMA to its old IOVA lands neither there
 *                      nor in the page the device read last
 *   remap_reused_iova  a page mapped next at that IOVA gets the DMA
 *   msi                every completion and raised interrupt arrives as
 *                      MSI, counted, each with its status
 * A case that cannot run (no domain, no memory, no MSI) is reported
 * failed, so that the plan is always the same.
 *
 * edu (hw/misc/edu.c): BAR0 0x24 interrupt status, 0x60 raise, 0x64 ack,
 * 0x80 DMA source, 0x88 destination, 0x90 count, 0x98 command (bit 0 run,
 * bit 1 device to RAM, bit 2 interrupt when done, status 0x100); the
 * device's buffer is 4096 bytes at device address 0x40000.
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/iommu.h>
#include <linux/iopoll.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/wait.h>

#define EDU_ID		0x00
#define EDU_INT_STATUS	0x24
#define EDU_INT_RAISE	0x60
#define EDU_INT_ACK	0x64
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_RUN	BIT(0)
#define EDU_CMD_TO_RAM	BIT(1)
#define EDU_CMD_IRQ	BIT(2)
#define EDU_DMA_DONE	0x100
#define EDU_BUF		0x40000
#define LEN		2048

struct edu {
	struct pci_dev *pdev;
	void __iomem *bar;
	atomic_t irqs;		/* interrupts received */
	unsigned int expect;	/* interrupts asked for */
	u32 last;		/* status of the last one */
	wait_queue_head_t wq;
	int tap;
	bool irq_lost;
};

/* The cases, in order; a case that cannot run is reported failed. */
static const char *const cases[] = {
	"dma_domain", "dma_both_ways", "unmapped_iova", "remap_new",
	"remap_old_iova", "remap_reused_iova", "msi",
};

static void tap(struct edu *e, bool ok)
{
	pr_info("edu_guest: %sok %d - %s\n", ok ? "" : "not ", e->tap + 1,
		cases[e->tap]);
	e->tap++;
}

/* Every case not reported yet failed: @why says what stopped them */
static void tap_rest(struct edu *e, const char *why)
{
	pr_info("edu_guest: # %s\n", why);
	while (e->tap < ARRAY_SIZE(cases))
		tap(e, false);
}

static irqreturn_t edu_irq(int irq, void *data)
{
	struct edu *e = data;
	u32 st = readl(e->bar + EDU_INT_STATUS);

	if (!st)
		return IRQ_NONE;
	writel(st, e->bar + EDU_INT_ACK);
	WRITE_ONCE(e->last, st);
	/* the status before the count: a waiter that sees one sees both */
	smp_mb__before_atomic();
	atomic_inc(&e->irqs);
	wake_up(&e->wq);
	return IRQ_HANDLED;
}

/* Wait for the interrupt asked for last; false if it did not come. */
static bool edu_wait_irq(struct edu *e)
{
	if (wait_event_timeout(e->wq,
			       atomic_read_acquire(&e->irqs) >= e->expect,
			       10 * HZ))
		return true;
	e->irq_lost = true;
	return false;
}

/* One DMA with a completion interrupt; 0 when the device finished it. */
static int edu_dma(struct edu *e, u64 src, u64 dst, u32 cmd)
{
	u32 v;
	int ret;

	writeq(src, e->bar + EDU_DMA_SRC);
	writeq(dst, e->bar + EDU_DMA_DST);
	writeq(LEN, e->bar + EDU_DMA_CNT);
	e->expect++;
	writeq(cmd | EDU_CMD_RUN | EDU_CMD_IRQ, e->bar + EDU_DMA_CMD);
	ret = readl_poll_timeout(e->bar + EDU_DMA_CMD, v, !(v & EDU_CMD_RUN),
				 1000, 10 * USEC_PER_SEC);
	if (ret)
		return ret;
	if (!edu_wait_irq(e))
		return -ETIMEDOUT;
	return READ_ONCE(e->last) == EDU_DMA_DONE ? 0 : -EIO;
}

static int to_device(struct edu *e, dma_addr_t iova)
{
	return edu_dma(e, iova, EDU_BUF, 0);
}

static int to_ram(struct edu *e, dma_addr_t iova)
{
	return edu_dma(e, EDU_BUF, iova, EDU_CMD_TO_RAM);
}

static void fill(u8 *p, u8 seed)
{
	int i;

	for (i = 0; i < LEN; i++)
		p[i] = seed + i * 7;
}

/* The page holds @seed's pattern in its first LEN bytes, @rest after */
static bool holds(const u8 *p, u8 seed, u8 rest)
{
	int i;

	for (i = 0; i < PAGE_SIZE; i++)
		if (p[i] != (i < LEN ? (u8)(seed + i * 7) : rest))
			return false;
	return true;
}

static bool all(const u8 *p, u8 v)
{
	return !memchr_inv(p, v, PAGE_SIZE);
}

struct edu_map {
	struct page *pg;
	dma_addr_t iova;
	enum dma_data_direction dir;
	bool mapped;
};

static bool edu_map(struct device *dev, struct edu_map *m,
		    enum dma_data_direction dir)
{
	m->dir = dir;
	m->iova = dma_map_page(dev, m->pg, 0, PAGE_SIZE, dir);
	m->mapped = !dma_mapping_error(dev, m->iova);
	return m->mapped;
}

static void edu_unmap(struct device *dev, struct edu_map *m)
{
	if (m->mapped)
		dma_unmap_page(dev, m->iova, PAGE_SIZE, m->dir);
	m->mapped = false;
}

static void edu_tests(struct edu *e)
{
	struct device *dev = &e->pdev->dev;
	struct iommu_domain *dom = iommu_get_domain_for_dev(dev);
	struct edu_map m[5] = {};
	struct edu_map *ma = &m[0], *mb = &m[1], *mc = &m[2], *md = &m[3];
	u8 *a, *b, *c, *d, *x;
	phys_addr_t px;
	dma_addr_t old;
	bool ok;
	int i, r1, r2, r3;

	/*
	 * A strict DMA domain of L2's own SMMU: without a flush queue, an
	 * unmap is invalidated before it returns, which the remap cases need.
	 */
	ok = dom && dom->type == IOMMU_DOMAIN_DMA;
	pr_info("edu_guest: # domain type %#x\n", dom ? dom->type : 0);
	tap(e, ok);
	if (!ok) {
		tap_rest(e, "no strict DMA domain");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(m); i++) {
		m[i].pg = alloc_page(GFP_KERNEL);
		if (!m[i].pg) {
			tap_rest(e, "out of memory");
			goto out;
		}
	}
	a = page_address(ma->pg);
	b = page_address(mb->pg);
	c = page_address(mc->pg);
	d = page_address(md->pg);
	x = page_address(m[4].pg);

	/* RAM -> device -> RAM: exactly LEN bytes, nothing after them */
	memset(a, 0xa5, PAGE_SIZE);
	fill(a, 0x11);
	memset(b, 0x5a, PAGE_SIZE);
	if (!edu_map(dev, ma, DMA_TO_DEVICE) ||
	    !edu_map(dev, mb, DMA_FROM_DEVICE)) {
		tap_rest(e, "dma_map_page failed");
		goto out;
	}
	r1 = to_device(e, ma->iova);
	r2 = to_ram(e, mb->iova);
	pr_info("edu_guest: # %d bytes from iova %pad to the device and back to iova %pad (rc %d %d): %*ph ... %*ph, then 0x%02x\n",
		LEN, &ma->iova, &mb->iova, r1, r2, 8, b, 8, b + LEN - 8, b[LEN]);
	edu_unmap(dev, ma);
	edu_unmap(dev, mb);
	tap(e, !r1 && !r2 && holds(b, 0x11, 0x5a));

	/*
	 * An IOVA L2 never mapped: X's own physical address, so that a DMA
	 * that bypassed stage 1 would land in X.  First of the faulting DMAs:
	 * L2's driver logs at most 10 events per 5 s, and L2's init looks for
	 * this one's.
	 */
	memset(x, 0x66, PAGE_SIZE);
	px = page_to_phys(m[4].pg);
	ok = !iommu_iova_to_phys(dom, px);
	r1 = to_ram(e, px);
	pr_info("edu_guest: # DMA to iova %pa, never mapped (rc %d)\n", &px, r1);
	pr_info("edu_guest: unmapped_iova 0x%llx sid 0x%x\n", (u64)px,
		pci_dev_id(e->pdev));
	tap(e, ok && !r1 && all(x, 0x66));

	/* Map C, DMA into it */
	memset(c, 0x33, PAGE_SIZE);
	memset(d, 0x44, PAGE_SIZE);
	memset(a, 0xa5, PAGE_SIZE);
	fill(a, 0x22);
	if (!edu_map(dev, ma, DMA_TO_DEVICE) ||
	    !edu_map(dev, mc, DMA_FROM_DEVICE)) {
		tap_rest(e, "dma_map_page failed");
		goto out;
	}
	r1 = to_device(e, ma->iova);
	r2 = to_ram(e, mc->iova);
	pr_info("edu_guest: # DMA into C at iova %pad (rc %d %d)\n", &mc->iova,
		r1, r2);
	tap(e, !r1 && !r2 && holds(c, 0x22, 0x33));

	/*
	 * New data into the device while C is still mapped; then unmap A and
	 * C (C last: its IOVA is the one freed last), each invalidated before
	 * the unmap returns (L2's TLBI and CMD_SYNC, which QEMU forwards as
	 * HWPT_INVALIDATE).  A DMA to C's old IOVA must not land anywhere.
	 */
	fill(a, 0x55);
	dma_sync_single_for_device(dev, ma->iova, PAGE_SIZE, DMA_TO_DEVICE);
	r1 = to_device(e, ma->iova);
	old = mc->iova;
	edu_unmap(dev, ma);
	edu_unmap(dev, mc);
	r2 = to_ram(e, old);
	pr_info("edu_guest: # after unmap, DMA to the old iova %pad (rc %d %d)\n",
		&old, r1, r2);
	tap(e, !r1 && !r2 && !iommu_iova_to_phys(dom, old) &&
	    holds(c, 0x22, 0x33) && holds(a, 0x55, 0xa5));

	/* D gets the IOVA freed last, C's: DMA follows the new mapping */
	if (!edu_map(dev, md, DMA_FROM_DEVICE)) {
		tap_rest(e, "dma_map_page failed");
		goto out;
	}
	r3 = to_ram(e, md->iova);
	pr_info("edu_guest: # D mapped at iova %pad, C's old %pad (rc %d)\n",
		&md->iova, &old, r3);
	ok = md->iova == old && !r3 && holds(d, 0x55, 0x44) &&
	     holds(c, 0x22, 0x33);
	edu_unmap(dev, md);
	tap(e, ok);

	/* Interrupts the driver raises itself, each with its own status */
	ok = true;
	for (i = 0; i < 5 && ok; i++) {
		e->expect++;
		writel(0x1000 + i, e->bar + EDU_INT_RAISE);
		ok = edu_wait_irq(e) && READ_ONCE(e->last) == 0x1000 + i;
	}
	pr_info("edu_guest: # %d interrupts received, %u asked for (DMA completions and raised)\n",
		atomic_read(&e->irqs), e->expect);
	tap(e, ok && !e->irq_lost && atomic_read(&e->irqs) == e->expect);
out:
	for (i = 0; i < ARRAY_SIZE(m); i++) {
		edu_unmap(dev, &m[i]);
		if (m[i].pg)
			__free_page(m[i].pg);
	}
}

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu *e;
	int ret;

	e = devm_kzalloc(&pdev->dev, sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->pdev = pdev;
	init_waitqueue_head(&e->wq);
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	e->bar = pcim_iomap_region(pdev, 0, "edu_guest");
	if (IS_ERR(e->bar))
		return PTR_ERR(e->bar);
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (ret >= 0)
		ret = devm_request_irq(&pdev->dev, pci_irq_vector(pdev, 0),
				       edu_irq, 0, "edu_guest", e);
	if (ret < 0) {
		tap_rest(e, "no MSI");
		pr_info("edu_guest: done %d\n", e->tap);
		return ret;
	}
	pr_info("edu_guest: # %s id %#x msi irq %d\n", pci_name(pdev),
		readl(e->bar + EDU_ID), pci_irq_vector(pdev, 0));
	edu_tests(e);
	pr_info("edu_guest: done %d\n", e->tap);
	return 0;
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name = "edu_guest",
	.id_table = edu_ids,
	.probe = edu_probe,
};
module_pci_driver(edu_driver);
MODULE_DESCRIPTION("edu through the DMA API of a guest's vSMMU (test)");
MODULE_LICENSE("GPL");
