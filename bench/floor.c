/* floor: the cheapest way we know to run one process per input line with two
 * slots, used by bench/run.py as the lower bound ppool is measured against.
 *
 *   floor COMMAND [ARG...] < items
 *
 * For each line of stdin (newline stripped) it runs `COMMAND ARG... LINE` via
 * posix_spawnp, keeping at most SLOTS children alive and reaping them with
 * waitpid. Children inherit stdin, stdout and stderr as they are: no pipes,
 * no output ordering, no per-task bookkeeping. Exit status is 0 if every child
 * exited 0, 1 otherwise (2 on usage or spawn errors).
 *
 * bench/run.py gives it COMMAND as an absolute path, so that posix_spawnp
 * searches no PATH directory per task: ppool resolves a command once per
 * worker, as a shell's hash table does.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>

#define SLOTS 2

extern char **environ;

/* Waits for any one child; returns 0 if it exited 0, 1 otherwise. */
static int reap_one(void) {
    int status;
    if (waitpid(-1, &status, 0) < 0) {
        perror("floor: waitpid");
        exit(2);
    }
    return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: floor COMMAND [ARG...] < items\n");
        return 2;
    }
    /* argv for the child: COMMAND ARG... LINE NULL */
    int nargs = argc - 1;
    char **child_argv = calloc((size_t)nargs + 2, sizeof *child_argv);
    if (!child_argv) {
        perror("floor: calloc");
        return 2;
    }
    memcpy(child_argv, argv + 1, (size_t)nargs * sizeof *child_argv);

    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int running = 0, failed = 0;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        if (len > 0 && line[len - 1] == '\n') line[len - 1] = '\0';
        if (running == SLOTS) {
            failed |= reap_one();
            running--;
        }
        child_argv[nargs] = line;
        pid_t pid;
        int err = posix_spawnp(&pid, child_argv[0], NULL, NULL, child_argv, environ);
        if (err != 0) {
            fprintf(stderr, "floor: posix_spawnp %s: %s\n", child_argv[0], strerror(err));
            return 2;
        }
        running++;
    }
    while (running > 0) {
        failed |= reap_one();
        running--;
    }
    free(line);
    free(child_argv);
    return failed;
}
