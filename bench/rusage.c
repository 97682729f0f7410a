/* rusage: `rusage OUT CMD...` runs CMD and appends "wall user sys maxrss_kb"
 * to OUT: what GNU time's -f "%e %U %S %M" reports, at microsecond
 * resolution. GNU time rounds CPU to 10 ms, which turns every small load
 * (1k addresses, the realistic site) into 0.00.
 *
 * Why C and not a script: Linux carries ru_maxrss across fork and exec, so
 * the measured child inherits its launcher's peak; this launcher stays
 * around 1 MB, like GNU time itself. CMD's stdout goes to /dev/null (the
 * 14 MB of text nft or compile might print is not what we measure); its
 * stderr passes through. Exits with CMD's status, 128+N when killed by N.
 * bench/run.sh compiles it with `cc -O2`. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* In the child: stdout to /dev/null, then become CMD. */
static void run_child(char** cmd) {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, STDOUT_FILENO);
    execvp(cmd[0], cmd);
    perror(cmd[0]);
    _exit(127);
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fputs("usage: rusage OUT CMD...\n", stderr);
        return 2;
    }
    double start = now();
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 126; }
    if (pid == 0) run_child(argv + 2);
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) { perror("wait4"); return 126; }
    double wall = now() - start;
    FILE* out = fopen(argv[1], "a");
    if (!out) { perror(argv[1]); return 126; }
    fprintf(out, "%.6f %.6f %.6f %ld\n", wall, seconds(ru.ru_utime), seconds(ru.ru_stime), ru.ru_maxrss);
    fclose(out);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
