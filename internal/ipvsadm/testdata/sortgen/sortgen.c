/*
 * sortgen writes ../sortorder.txt: random service and destination lists
 * in the layout of libipvs's entries, sorted by glibc's qsort with
 * comparators that do what ipvsadm 1.31's ipvs_cmp_services and
 * ipvs_cmp_dests do (unsigned differences returned as int). The Go tests
 * check that package ipvsadm sorts every list into the same order.
 *
 *	cc -O2 -o /tmp/sortgen sortgen.c && /tmp/sortgen > ../sortorder.txt
 *
 * Entries are padded past 32 bytes, like the real ones, so that glibc takes
 * the same (indirect merge sort) path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

struct svc {
	uint32_t fwmark;
	uint16_t af, protocol;
	uint32_t w[4];
	uint16_t port;
	int idx;
	char pad[160];
};

struct dst {
	uint16_t af;
	uint32_t w[4];
	uint16_t port;
	int idx;
	char pad[160];
};

static int cmp_svc(const void *a, const void *b)
{
	const struct svc *s1 = a, *s2 = b;
	int r, i;

	r = s1->fwmark - s2->fwmark;
	if (r != 0)
		return r;
	r = s1->af - s2->af;
	if (r != 0)
		return r;
	r = s1->protocol - s2->protocol;
	if (r != 0)
		return r;
	r = 0;
	if (s1->af == 10)
		for (i = 0; !r && i < 4; i++)
			r = s1->w[i] - s2->w[i];
	else
		r = s1->w[0] - s2->w[0];
	if (r != 0)
		return r;
	return s1->port - s2->port;
}

static int cmp_dst(const void *a, const void *b)
{
	const struct dst *d1 = a, *d2 = b;
	int r = 0, i;

	if (d1->af == 10)
		for (i = 0; !r && i < 4; i++)
			r = d1->w[i] - d2->w[i];
	else
		r = d1->w[0] - d2->w[0];
	if (r != 0)
		return r;
	return d1->port - d2->port;
}

static const uint32_t v4[] = {
	0x01000001, 0x0a000001, 0x0a000002, 0x7f000001, 0x80000001,
	0xac100001, 0xc0a80001, 0xc8000001, 0xffffffff, 0x00000001,
};
static const uint32_t marks[] = {
	1, 2, 3, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff,
};
static const uint16_t protos[] = {6, 17, 132};
static const uint16_t ports[] = {0, 80, 443, 65535};

static uint32_t pick32(const uint32_t *a, int n) { return a[rand() % n]; }

static void gen_svc(struct svc *s)
{
	memset(s, 0, sizeof(*s));
	s->af = rand() % 2 ? 10 : 2;
	if (rand() % 3 == 0) {
		s->fwmark = pick32(marks, 8);
		return;
	}
	s->protocol = protos[rand() % 3];
	s->port = ports[rand() % 4];
	if (s->af == 2) {
		s->w[0] = pick32(v4, 10);
	} else {
		s->w[0] = rand() % 2 ? 0x20010db8 : 0xfd000000;
		s->w[1] = pick32(v4, 10);
		s->w[3] = pick32(v4, 10);
	}
}

static void gen_dst(struct dst *d)
{
	memset(d, 0, sizeof(*d));
	d->af = rand() % 4 == 0 ? 10 : 2;
	d->port = ports[rand() % 4];
	if (d->af == 2) {
		d->w[0] = pick32(v4, 10);
	} else {
		d->w[0] = rand() % 2 ? 0x20010db8 : 0xfd000000;
		d->w[3] = pick32(v4, 10);
	}
}

static int same_svc(const struct svc *a, const struct svc *b)
{
	return a->fwmark == b->fwmark && a->af == b->af && a->protocol == b->protocol &&
	       !memcmp(a->w, b->w, sizeof(a->w)) && a->port == b->port;
}

static int same_dst(const struct dst *a, const struct dst *b)
{
	return !memcmp(a->w, b->w, sizeof(a->w)) && a->port == b->port && a->af == b->af;
}

int main(void)
{
	struct svc s[40];
	struct dst d[40];
	int c, i, j, n;

	srand(1);
	for (c = 0; c < 300; c++) {
		n = 1 + rand() % 40;
		for (i = 0; i < n; i++) {
		again_s:
			gen_svc(&s[i]);
			for (j = 0; j < i; j++)
				if (same_svc(&s[i], &s[j]))
					goto again_s;
			s[i].idx = i;
			printf("svc %u %u %u %08x %08x %08x %08x %u\n", s[i].fwmark, s[i].af,
			       s[i].protocol, s[i].w[0], s[i].w[1], s[i].w[2], s[i].w[3], s[i].port);
		}
		qsort(s, n, sizeof(s[0]), cmp_svc);
		printf("sorted");
		for (i = 0; i < n; i++)
			printf(" %d", s[i].idx);
		printf("\n");
	}
	for (c = 0; c < 300; c++) {
		n = 1 + rand() % 40;
		for (i = 0; i < n; i++) {
		again_d:
			gen_dst(&d[i]);
			for (j = 0; j < i; j++)
				if (same_dst(&d[i], &d[j]))
					goto again_d;
			d[i].idx = i;
			printf("dst %u %08x %08x %08x %08x %u\n", d[i].af,
			       d[i].w[0], d[i].w[1], d[i].w[2], d[i].w[3], d[i].port);
		}
		qsort(d, n, sizeof(d[0]), cmp_dst);
		printf("sorted");
		for (i = 0; i < n; i++)
			printf(" %d", d[i].idx);
		printf("\n");
	}
	return 0;
}
