/* pipe parent -> child: the lecture's first example (T4, T7, T8).
 *
 * pipe() gives two descriptors; fork() copies them into the child. The parent keeps the
 * write end, the child the read end; each closes the end it does not use. The child reads
 * until end of file (read() == 0), which comes once no writer is left.
 *
 * usage: pipe_parent_child [MESSAGES]   (default 5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int messages = argc > 1 ? atoi(argv[1]) : 5;
    int fd[2];
    if (pipe(fd) < 0) {
        perror("pipe");
        return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) { /* child: reads */
        close(fd[1]);
        char buf[4096];
        long total = 0;
        ssize_t n;
        while ((n = read(fd[0], buf, sizeof buf)) > 0)
            total += n;
        close(fd[0]);
        printf("child: read %ld bytes, then end of file\n", total);
        return 0;
    }
    close(fd[0]); /* parent: writes */
    for (int i = 1; i <= messages; i++) {
        char line[64];
        int len = snprintf(line, sizeof line, "message %d\n", i);
        if (write(fd[1], line, (size_t)len) != len) {
            perror("write");
            return 1;
        }
    }
    close(fd[1]); /* the last writer lets go: the child sees end of file */
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
