/* len_floor: the floor of `ppool imap --task len`, used by bench/run.py. A
 * single process that reads lines from stdin and prints each one's length in
 * bytes, one per line, as fast as we know how: large reads, memchr to find
 * each newline, a hand-rolled integer formatter and one large output buffer
 * written with write(2). A last line without a newline counts as a line, as
 * in awk '{print length($0)}'.
 *
 *   len_floor < lines > lengths
 *
 * Exit status 0, or 2 on a read or write error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define IN_SIZE (1 << 20)
#define OUT_SIZE (1 << 20)
#define MAX_DIGITS 20 /* of a 64-bit length, plus the newline below */

static char in[IN_SIZE];
static char out[OUT_SIZE];
static size_t out_len;

static void fail(const char *what) {
    fprintf(stderr, "len_floor: %s: %s\n", what, strerror(errno));
    _exit(2);
}

static void flush_out(void) {
    size_t done = 0;
    while (done < out_len) {
        ssize_t n = write(1, out + done, out_len - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("write");
        }
        done += (size_t)n;
    }
    out_len = 0;
}

/* Appends `n` and a newline to the output buffer. */
static inline void put_length(unsigned long long n) {
    if (out_len > OUT_SIZE - MAX_DIGITS - 1) flush_out();
    char digits[MAX_DIGITS];
    char *p = digits + MAX_DIGITS;
    do {
        *--p = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    size_t k = (size_t)(digits + MAX_DIGITS - p);
    memcpy(out + out_len, p, k);
    out_len += k;
    out[out_len++] = '\n';
}

int main(void) {
    unsigned long long partial = 0; /* bytes of a line begun in an earlier read */
    for (;;) {
        ssize_t got = read(0, in, IN_SIZE);
        if (got < 0) {
            if (errno == EINTR) continue;
            fail("read");
        }
        if (got == 0) break;
        const char *p = in, *end = in + got;
        const char *nl;
        while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            put_length(partial + (unsigned long long)(nl - p));
            partial = 0;
            p = nl + 1;
        }
        partial += (unsigned long long)(end - p);
    }
    if (partial > 0) put_length(partial); /* a last line without its newline */
    flush_out();
    return 0;
}
