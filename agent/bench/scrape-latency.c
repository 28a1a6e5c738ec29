/*
 * Each scrape's own latency: one keep-alive HTTP/1.1 connection, one GET at a time (the next is sent when the
 * previous response is complete), timed with CLOCK_MONOTONIC from the request's write to the response's last
 * byte. Prints "p50 p99 p99.9 max count" in milliseconds.
 *
 * Why not wrk alone: wrk 4.1 corrects its latencies for coordinated omission. After the run it adds, for every
 * request that took at least twice the mean interval, requests that were never sent: one per mean interval of
 * its length (stats_correct in wrk's stats.c). At 1 connection and ~7000 scrapes/s that is one synthetic
 * sample per ~0.14 ms of every stall. The result estimates what a client sending at that constant rate would
 * have seen; it is not what the scrapes measured. run-all.sh prints both.
 *
 *   cc -O2 -o scrape-latency agent/bench/scrape-latency.c && ./scrape-latency PORT SECONDS [PATH]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES 4000000
#define MAX_RESPONSE (16 << 20)

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    long long x = *(const long long *) a, y = *(const long long *) b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s PORT SECONDS [PATH]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    double seconds = atof(argv[2]);
    const char *path = argc > 3 ? argv[3] : "/metrics";
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(0x7f000001)};
    if (s < 0 || connect(s, (struct sockaddr *) &addr, sizeof addr) != 0) {
        perror("scrape-latency: connect");
        return 1;
    }
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char request[512];
    int request_len = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", path, port);
    char *buf = malloc(MAX_RESPONSE);
    long long *samples = malloc(sizeof(long long) * MAX_SAMPLES);
    if (!buf || !samples) {
        fprintf(stderr, "scrape-latency: out of memory\n");
        return 1;
    }
    long long end = now_ns() + (long long) (seconds * 1e9);
    long n = 0;
    while (n < MAX_SAMPLES && now_ns() < end) {
        long long t0 = now_ns();
        if (write(s, request, request_len) != request_len) {
            perror("scrape-latency: write");
            return 1;
        }
        long got = 0, header = -1, length = -1;
        for (;;) {
            ssize_t r = read(s, buf + got, MAX_RESPONSE - got);
            if (r <= 0) {
                fprintf(stderr, "scrape-latency: connection closed after %ld responses\n", n);
                return 1;
            }
            got += r;
            if (header < 0) {
                char *blank = memmem(buf, got, "\r\n\r\n", 4);
                if (blank) {
                    header = blank - buf + 4;
                    if (strncmp(buf, "HTTP/1.1 200", 12) != 0) {
                        fprintf(stderr, "scrape-latency: not a 200: %.40s\n", buf);
                        return 1;
                    }
                    char *cl = memmem(buf, header, "\r\ncontent-length:", 17);
                    if (!cl) {
                        cl = memmem(buf, header, "\r\nContent-Length:", 17);
                    }
                    if (!cl) {
                        fprintf(stderr, "scrape-latency: the response has no Content-Length\n");
                        return 1;
                    }
                    length = atol(cl + 17);
                }
            }
            if (header >= 0 && got >= header + length) {
                break;
            }
        }
        samples[n++] = now_ns() - t0;
    }
    if (n == 0) {
        fprintf(stderr, "scrape-latency: no response\n");
        return 1;
    }
    qsort(samples, n, sizeof samples[0], by_value);
    printf("%.3f %.3f %.3f %.3f %ld\n", samples[n / 2] / 1e6, samples[(long) (n * 0.99)] / 1e6,
           samples[(long) (n * 0.999)] / 1e6, samples[n - 1] / 1e6, n);
    return 0;
}
