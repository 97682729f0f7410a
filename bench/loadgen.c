// loadgen.c: the load generator of bench/packet_path.sh. Every mode runs for
// a bounded time and prints one figure (per second) on stdout.
//   loadgen tcp-server PORT SECONDS        accept and close, until SECONDS pass
//   loadgen tcp-client ADDR PORT SECONDS   connect + reset, as fast as it can:
//                                          prints new connections per second
//   loadgen udp-server PORT SECONDS        counts datagrams for SECONDS after
//                                          the first: prints packets per second
//   loadgen udp-answer PORT SECONDS        the same, answering the first datagram
//                                          once (conntrack then sees a reply: the
//                                          flow is established, a flowtable can
//                                          take it)
//   loadgen udp-client ADDR PORT SECONDS   one new socket (so a new source port,
//                                          a new conntrack entry and a pass
//                                          through the rules) per datagram
//   loadgen tcp-sink PORT SECONDS          reads one connection: prints Mbit/s
//   loadgen tcp-stream ADDR PORT SECONDS   writes as fast as it can on one connection
//   loadgen udp-flood ADDR PORT SECONDS    datagrams of one flow, as fast as it can
// The TCP client closes with SO_LINGER 0 (an RST): no TIME_WAIT, so the
// source ports never run out within a measurement.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct sockaddr_in addr_of(const char* ip, const char* port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)atoi(port));
    if (ip && inet_pton(AF_INET, ip, &a.sin_addr) != 1) { fprintf(stderr, "bad address %s\n", ip); exit(2); }
    return a;
}

static int bound(int type, const char* port) {
    struct sockaddr_in a = addr_of(NULL, port);
    int one = 1, s = socket(AF_INET, type, 0);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (s < 0 || bind(s, (struct sockaddr*)&a, sizeof a) < 0) { perror("bind"); exit(1); }
    return s;
}

static int tcp_server(const char* port, double secs) {
    int s = bound(SOCK_STREAM, port);
    listen(s, 4096);
    double end = now() + secs;
    struct pollfd p = {s, POLLIN, 0};
    while (now() < end) {
        if (poll(&p, 1, 100) <= 0) continue;
        int c = accept(s, NULL, NULL);
        if (c >= 0) close(c);
    }
    return 0;
}

static int tcp_client(const char* ip, const char* port, double secs) {
    struct sockaddr_in a = addr_of(ip, port);
    struct linger lg = {1, 0};
    long n = 0, failed = 0;
    // The clock starts at the first connection: a server still starting
    // (refused) is waited for, up to 15 s on a loaded machine, and not
    // counted. Later failures are counted and reported, not fatal.
    double start = now(), end = start + secs, give_up = start + 15;
    while (n == 0 || now() < end) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        int ok = connect(s, (struct sockaddr*)&a, sizeof a) == 0;
        int err = errno;
        close(s);
        if (ok && n++ == 0) { start = now(); end = start + secs; }
        if (ok) continue;
        if (n > 0) { failed++; continue; }
        if (now() > give_up) { fprintf(stderr, "connect: %s\n", strerror(err)); return 1; }
        usleep(10000);
    }
    if (failed) fprintf(stderr, "loadgen: %ld connections failed after the first\n", failed);
    printf("%.0f\n", n / (now() - start));
    return 0;
}

static int udp_server(const char* port, double secs, int answer) {
    int s = bound(SOCK_DGRAM, port);
    char buf[2048];
    struct pollfd p = {s, POLLIN, 0};
    if (poll(&p, 1, 10000) <= 0) { fprintf(stderr, "no datagram within 10 s\n"); return 1; }
    long n = 0;
    double start = now(), end = start + secs;
    if (answer) {
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        if (recvfrom(s, buf, sizeof buf, 0, (struct sockaddr*)&from, &len) > 0) n++;
        sendto(s, buf, 8, 0, (struct sockaddr*)&from, len);
    }
    struct timeval tv = {0, 100000};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (now() < end) {
        if (recv(s, buf, sizeof buf, 0) > 0) n++;
    }
    printf("%.0f\n", n / (now() - start));
    return 0;
}

static int udp_client(const char* ip, const char* port, double secs) {
    struct sockaddr_in a = addr_of(ip, port);
    char buf[64] = "loadgen";
    double end = now() + secs;
    while (now() < end) {
        for (int i = 0; i < 64; i++) {
            int s = socket(AF_INET, SOCK_DGRAM, 0);
            sendto(s, buf, sizeof buf, 0, (struct sockaddr*)&a, sizeof a);
            close(s);
        }
    }
    return 0;
}

static int tcp_sink(const char* port, double secs) {
    int s = bound(SOCK_STREAM, port);
    listen(s, 16);
    struct pollfd p = {s, POLLIN, 0};
    if (poll(&p, 1, 10000) <= 0) { fprintf(stderr, "no connection within 10 s\n"); return 1; }
    int c = accept(s, NULL, NULL);
    static char buf[1 << 17];
    struct timeval tv = {0, 200000};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    double bytes = 0, start = now(), end = start + secs;
    while (now() < end) {
        ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n == 0) break;
        if (n > 0) bytes += n;
    }
    printf("%.0f\n", bytes * 8 / 1e6 / (now() - start));
    return 0;
}

static int tcp_stream(const char* ip, const char* port, double secs) {
    struct sockaddr_in a = addr_of(ip, port);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr*)&a, sizeof a) < 0) { perror("connect"); return 1; }
    static char buf[1 << 17];
    double end = now() + secs;
    while (now() < end) {
        if (send(s, buf, sizeof buf, MSG_NOSIGNAL) < 0) break;
    }
    close(s);
    return 0;
}

static int udp_flood(const char* ip, const char* port, double secs) {
    struct sockaddr_in a = addr_of(ip, port);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    char buf[64] = "loadgen";
    double end = now() + secs;
    while (now() < end) {
        for (int i = 0; i < 256; i++) sendto(s, buf, sizeof buf, 0, (struct sockaddr*)&a, sizeof a);
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 4 && !strcmp(argv[1], "tcp-server")) return tcp_server(argv[2], atof(argv[3]));
    if (argc == 5 && !strcmp(argv[1], "tcp-client")) return tcp_client(argv[2], argv[3], atof(argv[4]));
    if (argc == 4 && !strcmp(argv[1], "udp-server")) return udp_server(argv[2], atof(argv[3]), 0);
    if (argc == 4 && !strcmp(argv[1], "udp-answer")) return udp_server(argv[2], atof(argv[3]), 1);
    if (argc == 5 && !strcmp(argv[1], "udp-client")) return udp_client(argv[2], argv[3], atof(argv[4]));
    if (argc == 4 && !strcmp(argv[1], "tcp-sink")) return tcp_sink(argv[2], atof(argv[3]));
    if (argc == 5 && !strcmp(argv[1], "tcp-stream")) return tcp_stream(argv[2], argv[3], atof(argv[4]));
    if (argc == 5 && !strcmp(argv[1], "udp-flood")) return udp_flood(argv[2], argv[3], atof(argv[4]));
    fprintf(stderr, "usage: loadgen tcp-server|udp-server|udp-answer|tcp-sink PORT SECONDS | "
                    "tcp-client|udp-client|tcp-stream|udp-flood ADDR PORT SECONDS\n");
    return 2;
}
