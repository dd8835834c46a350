/* SPDX-License-Identifier: ISC */
/*
 * cpu_ref: the CPU load of make bench's scenario 4 floor, with nothing of
 * sealmd in it.  THREADS threads each burn BURST_US of their own CPU time,
 * then sleep SLEEP_US, for SECONDS: as many busy threads, about as busy,
 * as sealmd's event loop, writer and worker under the POSTs, but holding
 * no lock, queue or socket a GET needs.  Prints one JSON line: threads,
 * seconds, and the CPU seconds used.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#define CPU_REF_THREADS	16

static long	cpu_ref_burst_us, cpu_ref_sleep_us;
static double	cpu_ref_end;

static double
cpu_ref_now(clockid_t clock)
{
	struct timespec	ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
cpu_ref_main(void *arg)
{
	struct timespec		 nap;
	volatile unsigned long	 spin = 0;
	double			 t0;
	int			 i;

	(void)arg;
	nap.tv_sec = cpu_ref_sleep_us / 1000000;
	nap.tv_nsec = (cpu_ref_sleep_us % 1000000) * 1000;
	while (cpu_ref_now(CLOCK_MONOTONIC) < cpu_ref_end) {
		t0 = cpu_ref_now(CLOCK_THREAD_CPUTIME_ID);
		while (cpu_ref_now(CLOCK_THREAD_CPUTIME_ID) - t0 <
		    (double)cpu_ref_burst_us / 1e6)
			for (i = 0; i < 256; i++)
				spin++;
		if (cpu_ref_sleep_us > 0)
			nanosleep(&nap, NULL);
	}
	return NULL;
}

int
main(int argc, char *argv[])
{
	pthread_t	th[CPU_REF_THREADS];
	struct rusage	ru;
	double		seconds;
	int		n, i;

	if (argc != 5) {
		fprintf(stderr, "usage: cpu_ref THREADS BURST_US SLEEP_US "
		    "SECONDS\n");
		return 2;
	}
	n = atoi(argv[1]);
	cpu_ref_burst_us = atol(argv[2]);
	cpu_ref_sleep_us = atol(argv[3]);
	seconds = atof(argv[4]);
	if (n < 1 || n > CPU_REF_THREADS || cpu_ref_burst_us < 1 ||
	    cpu_ref_burst_us > 1000000 || cpu_ref_sleep_us < 0 ||
	    cpu_ref_sleep_us > 1000000 || seconds <= 0 || seconds > 3600) {
		fprintf(stderr, "cpu_ref: argument out of range\n");
		return 2;
	}
	cpu_ref_end = cpu_ref_now(CLOCK_MONOTONIC) + seconds;
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, cpu_ref_main, NULL) != 0) {
			fprintf(stderr, "cpu_ref: pthread_create failed\n");
			return 1;
		}
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"threads\": %d, \"seconds\": %.3f, \"cpu_s\": %.3f}\n", n,
	    seconds, (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	return 0;
}
