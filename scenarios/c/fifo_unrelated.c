/* a FIFO between two unrelated programs (T13, T15, T16).
 *
 * A pipe has no name: only processes that inherit its descriptors can use it. A FIFO has
 * one. The launcher makes a FIFO in a private directory (mkfifo) and starts two programs
 * that share nothing with it or with each other but that name: a writer and a reader,
 * each a fresh program (fork + execv, as a shell starts two commands). Each opens the FIFO
 * by its path; an open waits until the other end is opened too. The writer sends three
 * lines and closes; the reader reads until end of file. The launcher waits for both, then
 * removes the name (unlink) and its directory: nothing is left behind.
 *
 * usage: fifo_unrelated                 (the launcher)
 *        fifo_unrelated writer PATH     (started by the launcher)
 *        fifo_unrelated reader PATH
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int writer(const char *path)
{
    int fd = open(path, O_WRONLY); /* waits for a reader */
    if (fd < 0) {
        perror("writer: open");
        return 1;
    }
    const char *lines[] = {"hello through a name\n", "second line\n", "bye\n"};
    for (int i = 0; i < 3; i++) {
        size_t len = strlen(lines[i]);
        if (write(fd, lines[i], len) != (ssize_t)len) {
            perror("writer: write");
            return 1;
        }
    }
    close(fd); /* the last writer lets go: the reader sees end of file */
    return 0;
}

static int reader(const char *path)
{
    int fd = open(path, O_RDONLY); /* waits for a writer */
    if (fd < 0) {
        perror("reader: open");
        return 1;
    }
    char buf[256];
    long total = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        total += n;
    close(fd);
    printf("reader: %ld bytes, then end of file\n", total);
    return n == 0 ? 0 : 1;
}

static pid_t start(const char *self, const char *role, const char *path)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl(self, self, role, path, (char *)NULL);
        perror("execl");
        _exit(127);
    }
    return pid;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "writer") == 0)
        return writer(argv[2]);
    if (argc == 3 && strcmp(argv[1], "reader") == 0)
        return reader(argv[2]);
    const char *tmp = getenv("TMPDIR");
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/fifo-XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) { /* a private directory (0700): no one else's name */
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/channel", dir);
    if (mkfifo(path, 0600) < 0) {
        perror("mkfifo");
        rmdir(dir);
        return 1;
    }
    pid_t w = start(argv[0], "writer", path);
    pid_t r = start(argv[0], "reader", path);
    int failed = w < 0 || r < 0;
    pid_t kids[2] = {w, r};
    for (int i = 0; i < 2; i++) {
        int status;
        if (kids[i] > 0 && waitpid(kids[i], &status, 0) == kids[i])
            failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    unlink(path); /* the name goes: a FIFO outlives its programs until then */
    rmdir(dir);
    return failed;
}
