"""C programs the tests compile and watch. Each reports on stdout, in hex, exactly what its
system calls moved (``W``/``R`` for pipes, ``S``/``R`` for queues), so a test compares what
ipcviz shows with what the program itself saw — not with what the test expected."""

PIPE = r"""
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void hex(const char *tag, int pid, const unsigned char *b, ssize_t n)
{
    printf("%s %d ", tag, pid);
    for (ssize_t i = 0; i < n; i++)
        printf("%02x", b[i]);
    printf("\n");
    fflush(stdout);
}

int main(void)
{
    int fd[2];
    if (pipe(fd) < 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[1]);
        unsigned char buf[7];
        ssize_t n;
        while ((n = read(fd[0], buf, sizeof buf)) > 0)
            hex("R", getpid(), buf, n);
        hex("R", getpid(), buf, 0);
        return 0;
    }
    close(fd[0]);
    /* a terminal escape, markup and NUL bytes: data, never shown as anything else */
    const char *parts[] = {"hello ", "\x1b[2J[b]boom[/b]", "\x00\x01\xff", "\n"};
    const size_t lens[] = {6, 15, 3, 1};
    for (int i = 0; i < 4; i++) {
        ssize_t n = write(fd[1], parts[i], lens[i]);
        hex("W", getpid(), (const unsigned char *)parts[i], n);
    }
    close(fd[1]);
    waitpid(pid, NULL, 0);
    return 0;
}
"""

#: Blocks the child in read() until the parent sees it asleep there (/proc), then writes:
#: the read must have begun before the write, whatever the machine's speed.
BLOCKED = r"""
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int fd[2];
    if (pipe(fd) < 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[1]);
        char b[16];
        ssize_t n = read(fd[0], b, sizeof b);
        return n == 2 ? 0 : 1;
    }
    close(fd[0]);
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/%d/wchan", (int)pid);
    for (;;) { /* until the child sleeps in the pipe's read */
        FILE *f = fopen(path, "r");
        if (!f)
            return 1;
        size_t n = fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
        stat[n] = 0;
        if (strstr(stat, "pipe_read"))
            break;
    }
    if (write(fd[1], "go", 2) != 2)
        return 1;
    close(fd[1]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
"""

MSGQ = r"""
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>

struct msg { long mtype; char text[32]; };

static void hex(const char *tag, long want, long type, const char *b, ssize_t n)
{
    printf("%s %ld %ld ", tag, want, type);
    for (ssize_t i = 0; i < n; i++)
        printf("%02x", (unsigned char)b[i]);
    printf("\n");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int keep = argc > 1 && strcmp(argv[1], "--keep") == 0;
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (q < 0)
        return 1;
    printf("Q %d\n", q);
    const char *texts[] = {"c1", "a1", "b1\x1b[31m", "a2", "c2"};
    const long types[] = {3, 1, 2, 1, 3};
    for (int i = 0; i < 5; i++) {
        struct msg m = {.mtype = types[i]};
        size_t len = strlen(texts[i]);
        memcpy(m.text, texts[i], len);
        if (msgsnd(q, &m, len, 0) == 0)
            hex("S", 0, types[i], texts[i], (ssize_t)len);
    }
    pid_t pid = fork();
    if (pid == 0) {
        const long wants[] = {2, -2, 0, -3, 0};
        for (int i = 0; i < 5; i++) {
            struct msg m;
            ssize_t n = msgrcv(q, &m, sizeof m.text, wants[i], 0);
            if (n < 0)
                return 1;
            hex("R", wants[i], m.mtype, m.text, n);
        }
        return 0;
    }
    int status;
    waitpid(pid, &status, 0);
    if (!keep)
        msgctl(q, IPC_RMID, NULL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
"""

#: A System V semaphore: the child takes 3 units one by one (waiting when there are none),
#: the parent gives 1, 1, then 2 at once; the program reads the final value (GETVAL).
SEM = r"""
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

union semun { int val; struct semid_ds *buf; unsigned short *array; };

static int op(int s, int n)
{
    struct sembuf b = {0, (short)n, 0};
    return semop(s, &b, 1);
}

int main(void)
{
    int s = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    if (s < 0)
        return 1;
    union semun u = {.val = 0};
    semctl(s, 0, SETVAL, u);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 3; i++)
            if (op(s, -1) == 0)
                printf("P %d\n", (int)getpid());
        return 0;
    }
    op(s, 1);
    printf("V %d 1\n", (int)getpid());
    op(s, 1);
    printf("V %d 1\n", (int)getpid());
    op(s, 2);
    printf("V %d 2\n", (int)getpid());
    fflush(stdout);
    waitpid(pid, NULL, 0);
    printf("VAL %d\n", semctl(s, 0, GETVAL));
    semctl(s, 0, IPC_RMID);
    return 0;
}
"""

#: Never ends by itself: the child reads a pipe whose write end its parent keeps, the
#: parent waits for the child.
FOREVER = r"""
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int fd[2];
    if (pipe(fd) < 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        char b;
        return (int)read(fd[0], &b, 1);
    }
    waitpid(pid, NULL, 0);
    return 0;
}
"""

#: Two threads write to one pipe: each thread is a program order of its own (``thread``).
THREADS = r"""
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int fd[2];

static void *writer(void *tag)
{
    for (int i = 0; i < 3; i++) {
        char m[8];
        int n = snprintf(m, sizeof m, "%c%d\n", *(char *)tag, i);
        if (write(fd[1], m, (size_t)n) != n)
            return NULL;
    }
    return NULL;
}

int main(void)
{
    if (pipe(fd) < 0)
        return 1;
    pthread_t a, b;
    pthread_create(&a, NULL, writer, "a");
    pthread_create(&b, NULL, writer, "b");
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    close(fd[1]);
    char buf[64];
    ssize_t n;
    while ((n = read(fd[0], buf, sizeof buf)) > 0)
        fwrite(buf, 1, (size_t)n, stdout);
    return 0;
}
"""

#: A FIFO it makes (argv[1]) between a writer and a reader that opens it by its path;
#: removed at the end unless argv[2] is --keep.
FIFO = r"""
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2 || mkfifo(argv[1], 0600) < 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(argv[1], O_RDONLY);
        char b[64];
        ssize_t n;
        printf("R ");
        while ((n = read(fd, b, sizeof b)) > 0)
            for (ssize_t i = 0; i < n; i++)
                printf("%02x", (unsigned char)b[i]);
        printf("\n");
        close(fd);
        return 0;
    }
    int fd = open(argv[1], O_WRONLY);
    if (write(fd, "over ", 5) != 5 || write(fd, "the fifo", 8) != 8)
        return 1;
    close(fd);
    waitpid(pid, NULL, 0);
    if (argc < 3 || strcmp(argv[2], "--keep") != 0)
        unlink(argv[1]);
    return 0;
}
"""

#: A FIFO's write end inherited by a forked child: the parent's close is not the last one,
#: so the reader's end of file comes only after the child's close.
FIFO_FORK = r"""
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2 || mkfifo(argv[1], 0600) < 0)
        return 1;
    pid_t reader = fork();
    if (reader == 0) {
        int fd = open(argv[1], O_RDONLY);
        char b[64];
        ssize_t n, total = 0;
        while ((n = read(fd, b, sizeof b)) > 0)
            total += n;
        printf("R %zd\n", total);
        return 0;
    }
    int fd = open(argv[1], O_WRONLY);
    if (write(fd, "parent ", 7) != 7)
        return 1;
    pid_t child = fork();
    if (child == 0) {  /* holds the write end it inherited */
        if (write(fd, "child", 5) != 5)
            return 1;
        close(fd);
        return 0;
    }
    close(fd);  /* not the last close: the child still holds the write end */
    waitpid(child, NULL, 0);
    waitpid(reader, NULL, 0);
    unlink(argv[1]);
    return 0;
}
"""

#: A semaphore of its own, given a value twice (semctl SETVAL), then used with SEM_UNDO.
SETVAL = r"""
#include <sys/ipc.h>
#include <sys/sem.h>

union semun { int val; };

int main(void)
{
    int id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    union semun u = { .val = 1 };
    struct sembuf p = { 0, -1, 0 }, v = { 0, 1, 0 }, pu = { 0, -1, SEM_UNDO };
    if (id < 0 || semctl(id, 0, SETVAL, u) < 0 || semop(id, &p, 1) < 0 || semop(id, &v, 1) < 0)
        return 1;
    u.val = 3;
    if (semctl(id, 0, SETVAL, u) < 0 || semop(id, &pu, 1) < 0 || semop(id, &p, 1) < 0)
        return 1;
    return semctl(id, 0, IPC_RMID) < 0;
}
"""

#: A FIFO server: it makes the FIFO and waits in open() for a client, who may be anyone
#: (any process may open the path): waiting for one is not a deadlock.
FIFO_SERVER = r"""
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2 || mkfifo(argv[1], 0600) < 0)
        return 1;
    int fd = open(argv[1], O_RDONLY);
    char b[64];
    ssize_t n, total = 0;
    while ((n = read(fd, b + total, sizeof b - total)) > 0)
        total += n;
    printf("R %.*s\n", (int)total, b);
    unlink(argv[1]);
    return 0;
}
"""

#: writev / pwritev2 gather several buffers into one write; readv scatters one read over
#: two buffers. Each call is reported with the bytes it moved, in hex.
IOV = r"""
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static void hex(const char *tag, const unsigned char *b, ssize_t n)
{
    printf("%s ", tag);
    for (ssize_t i = 0; i < n; i++)
        printf("%02x", b[i]);
    printf("\n");
    fflush(stdout);
}

int main(void)
{
    int fd[2];
    if (pipe(fd) < 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[1]);
        unsigned char a[3], b[100], all[103];
        struct iovec v[2] = {{a, sizeof a}, {b, sizeof b}};
        ssize_t n;
        do {
            n = readv(fd[0], v, 2);
            for (ssize_t i = 0; i < n; i++)
                all[i] = i < 3 ? a[i] : b[i - 3];
            hex("R", all, n < 0 ? 0 : n);
        } while (n > 0);
        return 0;
    }
    close(fd[0]);
    struct iovec w[3] = {{"ab", 2}, {"", 0}, {"\x1b[1mcd", 6}};
    unsigned char flat[8] = "ab\x1b[1mcd";
    ssize_t n = writev(fd[1], w, 3);
    hex("W", flat, n);
    n = pwritev2(fd[1], w, 3, -1, 0);
    hex("W", flat, n);
    close(fd[1]);
    waitpid(pid, NULL, 0);
    return 0;
}
"""

#: A System V segment of 8 longs. No system call shows a store: ipcviz reads the cells
#: through a read-only attachment of its own. The parent writes cells 0-3, then waits until
#: that second attachment is there (a bounded poll of shm_nattch: a condition, not a time),
#: so the child's stores below come after ipcviz holds the segment; the child writes cells
#: 4-7 and changes cell 0; the parent prints every cell (``C I HEX``) and removes the
#: segment (``--keep``: leaves it). Removed while ipcviz still holds it, the segment lives
#: until ipcviz's last reading: the cells as the program left them.
SHM = r"""
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int keep = argc > 1 && strcmp(argv[1], "--keep") == 0;
    int id = shmget(IPC_PRIVATE, 8 * sizeof(long), IPC_CREAT | 0600);
    if (id < 0)
        return 1;
    printf("S %d\n", id);
    fflush(stdout);
    long *cell = shmat(id, NULL, 0);
    if (cell == (void *)-1)
        return 1;
    for (int i = 0; i < 4; i++)
        cell[i] = (i + 1) * 1000 + i;
    struct shmid_ds ds;
    struct timespec pause = {0, 1000000};
    for (int tries = 0;; tries++) { /* until a second attachment (the watcher's) is there */
        if (shmctl(id, IPC_STAT, &ds) < 0 || tries > 100000)
            return 3;
        if (ds.shm_nattch >= 2)
            break;
        nanosleep(&pause, NULL);
    }
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 4; i < 8; i++)
            cell[i] = -(long)i * 0x10001;
        cell[0] = 0x7fffffff01020304L;
        shmdt(cell);
        return 0;
    }
    int status;
    waitpid(pid, &status, 0);
    for (int i = 0; i < 8; i++)
        printf("C %d %016lx\n", i, (unsigned long)cell[i]);
    fflush(stdout);
    shmdt(cell);
    if (!keep)
        shmctl(id, IPC_RMID, NULL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
"""

#: POSIX shared memory and semaphores (``./shm NAME keep|unlink``): a segment of 8 cells
#: (shm_open, ftruncate, mmap), a named semaphore (sem_open, value 0) and an unnamed one in
#: the segment at byte 32 (sem_init pshared). The child sleeps in sem_wait on the unnamed
#: one until the parent sees it asleep there (/proc: a contended wait, a futex call strace
#: shows), then stores its cells and posts the named one 3 times (no system call: nobody
#: waits). The program reports, at its end, what it stored (``C index value``) and the
#: semaphores' values (``V name value``); with ``keep`` it leaves both names behind.
POSIX_SHM = r"""
#include <fcntl.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct seg { int64_t cell[4]; sem_t ready; };

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    char shm[64], sem[64];
    snprintf(shm, sizeof shm, "/%s", argv[1]);
    snprintf(sem, sizeof sem, "/%s.s", argv[1]);
    int fd = shm_open(shm, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0 || ftruncate(fd, 64) < 0)
        return 1;
    struct seg *s = mmap(NULL, 64, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (s == MAP_FAILED || sem_init(&s->ready, 1, 0) < 0)
        return 1;
    sem_t *named = sem_open(sem, O_CREAT | O_EXCL, 0600, 0);
    if (named == SEM_FAILED)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        sem_wait(&s->ready);
        s->cell[1] = -7;
        s->cell[3] = 1000000007;
        for (int i = 0; i < 3; i++)
            sem_post(named);
        return 0;
    }
    char path[64], wchan[256];
    snprintf(path, sizeof path, "/proc/%d/wchan", (int)pid);
    for (;;) { /* until the child sleeps in the semaphore's futex */
        FILE *f = fopen(path, "r");
        if (!f)
            return 1;
        size_t n = fread(wchan, 1, sizeof wchan - 1, f);
        fclose(f);
        wchan[n] = 0;
        if (strstr(wchan, "futex"))
            break;
    }
    s->cell[0] = 42;
    sem_post(&s->ready);
    waitpid(pid, NULL, 0);
    sem_wait(named);
    int v = 0, u = 0;
    sem_getvalue(named, &v);
    sem_getvalue(&s->ready, &u);
    for (int i = 0; i < 4; i++)
        printf("C %d %lld\n", i, (long long)s->cell[i]);
    printf("V named %d\nV unnamed %d\n", v, u);
    fflush(stdout);
    if (strcmp(argv[2], "keep") != 0) {
        sem_close(named);
        sem_unlink(sem);
        munmap(s, 64);
        shm_unlink(shm);
    }
    return 0;
}
"""

#: Parent and child each read first from the pipe the other would write: both wait forever
#: (a deadlock by design, no timing). A read that ends (EOF: the other one was killed)
#: ends the process.
PIPE_DEADLOCK = r"""
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    int to_child[2], to_parent[2];
    char c;
    if (pipe(to_child) || pipe(to_parent)) return 1;
    pid_t pid = fork();
    if (pid == 0) {
        close(to_child[1]);
        close(to_parent[0]);
        if (read(to_child[0], &c, 1) == 1) write(to_parent[1], "c", 1);
        return 0;
    }
    close(to_child[0]);
    close(to_parent[1]);
    if (read(to_parent[0], &c, 1) == 1) write(to_child[1], "p", 1);
    close(to_child[1]);
    waitpid(pid, NULL, 0);
    printf("parent done\n");
    return 0;
}
"""


#: Prints 200000 bytes (a line, then zeros) with no system call strace traces: static (no
#: loader opening libc), through vmsplice into its stdout (a pipe). Everything it prints
#: comes before strace's second line, so before its first line names the program.
SPLICER = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/uio.h>
static char buf[200000];
int main(void) {
    static const char first[] = "FIRST-LINE\n";
    for (unsigned i = 0; i < sizeof first - 1; i++) buf[i] = first[i];
    for (unsigned long done = 0; done < sizeof buf;) {
        struct iovec v = {buf + done, sizeof buf - done};
        long n = vmsplice(1, &v, 1, 0);
        if (n <= 0) return 1;
        done += (unsigned long)n;
    }
    return 0;
}
"""

#: Parent and child each print, on their own schedule: each line names its writer's pid,
#: and the child prints what it read only after reading it. ipcviz must list every line
#: under the process that wrote it, after the operation it reports, each line once.
OUTPUT = r"""
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int fd[2];
    if (pipe(fd) < 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        char b[8];
        ssize_t n = read(fd[0], b, sizeof b);
        printf("%d read %.*s\n", getpid(), (int)n, b);
        fflush(stdout);
        fprintf(stderr, "%d done\n", getpid());
        return 0;
    }
    printf("%d writes hi\n", getpid());
    fflush(stdout);
    if (write(fd[1], "hi", 2) != 2)
        return 1;
    waitpid(pid, NULL, 0);
    fprintf(stderr, "%d done\n", getpid());
    return 0;
}
"""

#: Makes one object of every kind a program can leave (a System V set and queue, a POSIX
#: queue and segment, a FIFO at argv[1]), says each, then waits in a read that never
#: returns: ended only by ipcviz, it never removes them itself.
MAKER = r"""
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char mq[64], shm[64];
    snprintf(mq, sizeof mq, "/ipcviz-test-left-mq-%d", (int)getpid());
    snprintf(shm, sizeof shm, "/ipcviz-test-left-shm-%d", (int)getpid());
    int sem = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    int msg = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    mqd_t q = mq_open(mq, O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
    int seg = shm_open(shm, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (argc < 2 || sem < 0 || msg < 0 || q == (mqd_t)-1 || seg < 0 || mkfifo(argv[1], 0600) < 0)
        return 1;
    printf("SEM %d\nMSG %d\nMQ %s\nSHM %s\n", sem, msg, mq, shm);
    fflush(stdout);
    int fd[2];
    if (pipe(fd) < 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        char b;
        return (int)read(fd[0], &b, 1);
    }
    waitpid(pid, NULL, 0);
    return 0;
}
"""

#: Opens a System V queue it did not make (key argv[2]) once the file argv[1] exists,
#: sends one message on it, then waits in a read that never returns.
OPENER = r"""
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 1;
    while (access(argv[1], F_OK) != 0)
        usleep(1000);
    int q = msgget((key_t)atoi(argv[2]), IPC_CREAT | 0600);
    struct { long type; char text[4]; } m = {1, "hi"};
    if (q < 0 || msgsnd(q, &m, 3, 0) < 0)
        return 1;
    int fd[2];
    char b;
    if (pipe(fd) < 0)
        return 1;
    return (int)read(fd[0], &b, 1);
}
"""

#: The parent waits on a semaphore at 0; its child waits until the kernel counts that
#: wait (GETNCNT), then exits: its SIGCHLD reaches the parent inside semop. Without a
#: tracer nothing wakes the parent (SIGCHLD is ignored) until the alarm ends it.
SIGCHLD_SEMOP = r"""
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int set = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    if (set < 0)
        return 1;
    if (fork() == 0) {
        while (semctl(set, 0, GETNCNT) < 1)
            usleep(1000);
        _exit(0);
    }
    alarm(10);
    struct sembuf op = {0, -1, 0};
    int r = semop(set, &op, 1);
    printf("semop %d %s\n", r, r < 0 ? strerror(errno) : "ok");
    fflush(stdout);
    semctl(set, 0, IPC_RMID);
    wait(NULL);
    return 0;
}
"""

#: Two POSIX segments made one after the other with O_EXCL, the first closed before the
#: second is made: the second gets the first's descriptor number. Then it waits forever.
FD_AGAIN = r"""
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 1;
    int a = shm_open(argv[1], O_CREAT | O_EXCL | O_RDWR, 0600);
    if (a < 0 || close(a) < 0)
        return 1;
    int b = shm_open(argv[2], O_CREAT | O_EXCL | O_RDWR, 0600);  /* a's number again */
    printf("FDS %d %d\n", a, b);
    fflush(stdout);
    int fd[2];
    char c;
    if (b < 0 || pipe(fd) < 0)
        return 1;
    return (int)read(fd[0], &c, 1);
}
"""

#: ``./shm_plain NAME``: opens the segment ``/NAME`` with O_CREAT but without O_EXCL (the
#: usual way: "make it if it is not there"), sizes and maps it, stores one cell, says
#: ``C 0 VALUE`` and ends without shm_unlink: the segment stays in /dev/shm.
SHM_PLAIN = r"""
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    char shm[64];
    snprintf(shm, sizeof shm, "/%s", argv[1]);
    int fd = shm_open(shm, O_CREAT | O_RDWR, 0600);
    if (fd < 0 || ftruncate(fd, 64) < 0)
        return 1;
    int64_t *cell = mmap(NULL, 64, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (cell == MAP_FAILED)
        return 1;
    cell[0] = 77;
    printf("C 0 %lld\n", (long long)cell[0]);
    return 0;
}
"""

#: Non-blocking queue calls the kernel refuses: a POSIX queue of 2 messages (O_NONBLOCK)
#: sent to 3 times and received from 3 times, a System V queue of 8 bytes (IPC_NOWAIT) the
#: same with 4-byte messages. Says ``P|V send|recv I ok|ERRNO`` for each call.
QUEUE_AGAIN = r"""
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

struct msg { long type; char text[8]; };

static void say(const char *q, const char *op, int i, int ok)
{
    printf("%s %s %d %s\n", q, op, i, ok ? "ok" : errno == EAGAIN ? "EAGAIN"
           : errno == ENOMSG ? "ENOMSG" : "other");
}

int main(void)
{
    char name[64];
    snprintf(name, sizeof name, "/ipcviz-again-%d", (int)getpid());
    struct mq_attr attr = {.mq_maxmsg = 2, .mq_msgsize = 16};
    mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_NONBLOCK, 0600, &attr);
    if (q == (mqd_t)-1)
        return 1;
    char buf[16];
    for (int i = 0; i < 3; i++)
        say("P", "send", i, mq_send(q, "m", 1, 0) == 0);
    for (int i = 0; i < 3; i++)
        say("P", "recv", i, mq_receive(q, buf, sizeof buf, NULL) >= 0);
    mq_close(q);
    mq_unlink(name);
    int s = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    struct msqid_ds ds;
    if (s < 0 || msgctl(s, IPC_STAT, &ds) < 0)
        return 1;
    ds.msg_qbytes = 8;  /* two 4-byte messages fill it */
    if (msgctl(s, IPC_SET, &ds) < 0)
        return 1;
    struct msg m = {1, "abcd"}, got;
    for (int i = 0; i < 3; i++)
        say("V", "send", i, msgsnd(s, &m, 4, IPC_NOWAIT) == 0);
    for (int i = 0; i < 3; i++)
        say("V", "recv", i, msgrcv(s, &got, 8, 0, IPC_NOWAIT) >= 0);
    msgctl(s, IPC_RMID, NULL);
    return 0;
}
"""

#: One write of 200000 'x' into a pipe (past strace's 65536-byte ``-s``: most of its bytes
#: are not in the trace), read by a child 4096 bytes at a time. Says ``W N`` and ``R N``.
BIG_WRITE = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int fd[2];
    if (pipe(fd) < 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[1]);
        char b[4096];
        ssize_t n, total = 0;
        while ((n = read(fd[0], b, sizeof b)) > 0)
            total += n;
        printf("R %zd\n", total);
        return 0;
    }
    close(fd[0]);
    char *buf = malloc(200000);
    if (!buf)
        return 1;
    memset(buf, 'x', 200000);
    ssize_t n = write(fd[1], buf, 200000);
    printf("W %zd\n", n);
    fflush(stdout);
    close(fd[1]);
    waitpid(pid, NULL, 0);
    return 0;
}
"""

#: A write of 200000 ``x`` bytes to a pipe (strace records 65536 of them), then one of 16
#: zero bytes. The child reads until it has 150000 bytes or more, waits for a byte on a
#: second pipe (sent after both writes, so the zeros are still in the pipe then) and reads
#: the rest. Says ``W 200000 16`` and ``R 200016``.
BIG_THEN_ZEROS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int fd[2], go[2];
    if (pipe(fd) < 0 || pipe(go) < 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[1]);
        close(go[1]);
        char b[4096], c;
        ssize_t n, total = 0;
        while (total < 150000 && (n = read(fd[0], b, sizeof b)) > 0)
            total += n;
        if (read(go[0], &c, 1) != 1)
            return 1;
        while ((n = read(fd[0], b, sizeof b)) > 0)
            total += n;
        printf("R %zd\n", total);
        return 0;
    }
    close(fd[0]);
    close(go[0]);
    char *buf = malloc(200000);
    char zeros[16] = {0};
    if (!buf)
        return 1;
    memset(buf, 'x', 200000);
    ssize_t n = write(fd[1], buf, 200000);
    ssize_t m = write(fd[1], zeros, sizeof zeros);
    printf("W %zd %zd\n", n, m);
    fflush(stdout);
    if (write(go[1], "g", 1) != 1)
        return 1;
    close(fd[1]);
    close(go[1]);
    waitpid(pid, NULL, 0);
    return 0;
}
"""

#: ``./mq_plain NAME``: opens the POSIX queue ``/NAME`` with O_CREAT but without O_EXCL
#: (the usual "make it if it is not there"), sends one message, says ``S 1`` and ends
#: without mq_unlink: the queue stays.
MQ_PLAIN = r"""
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    char name[64];
    snprintf(name, sizeof name, "/%s", argv[1]);
    struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 16};
    mqd_t q = mq_open(name, O_CREAT | O_WRONLY, 0600, &attr);
    if (q == (mqd_t)-1 || mq_send(q, "left", 4, 0) < 0)
        return 1;
    printf("S 1\n");
    return 0;
}
"""

#: ``./mq_nonblock /NAME``: opens the POSIX queue with O_CREAT alone and O_NONBLOCK (2
#: messages of 16 bytes if it makes it), sends one message, says ``S ok`` or ``S EAGAIN``.
MQ_NONBLOCK_SEND = r"""
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    struct mq_attr attr = {.mq_maxmsg = 2, .mq_msgsize = 16};
    mqd_t q = mq_open(argv[1], O_CREAT | O_RDWR | O_NONBLOCK, 0600, &attr);
    if (q == (mqd_t)-1)
        return 1;
    int ok = mq_send(q, "m", 1, 0) == 0;
    printf("S %s\n", ok ? "ok" : errno == EAGAIN ? "EAGAIN" : "other");
    return 0;
}
"""

#: ``./mq_shared /NAME r|s|R``: opens the POSIX queue with O_CREAT alone and O_NONBLOCK (2
#: messages of 16 bytes if it makes it) and forks: both hold it. The child receives one
#: message (``r``: says ``R ok`` or ``R EAGAIN``) or sends one (``s``: ``S ok`` or ``S
#: EAGAIN``); the parent waits for it. ``R``: no fork, it receives one itself.
MQ_SHARED = r"""
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    struct mq_attr attr = {.mq_maxmsg = 2, .mq_msgsize = 16};
    mqd_t q = mq_open(argv[1], O_CREAT | O_RDWR | O_NONBLOCK, 0600, &attr);
    if (q == (mqd_t)-1)
        return 1;
    pid_t child = argv[2][0] == 'R' ? 0 : fork();
    if (child == 0) {
        char buf[16];
        int ok;
        if (argv[2][0] != 's')
            ok = mq_receive(q, buf, sizeof buf, NULL) >= 0;
        else
            ok = mq_send(q, "m", 1, 0) == 0;
        printf("%c %s\n", argv[2][0] == 's' ? 'S' : 'R',
               ok ? "ok" : errno == EAGAIN ? "EAGAIN" : "other");
        return 0;
    }
    return waitpid(child, NULL, 0) == child ? 0 : 1;
}
"""

#: A producer and a consumer spinning on non-blocking queues until 200 messages went each
#: way: a POSIX queue of 2 (O_NONBLOCK), then a System V one of 8 bytes (IPC_NOWAIT), each
#: refused call counted. Says ``child again N`` and ``parent again N``. (How many calls
#: are refused depends on the machine; that each is shown does not.)
QUEUE_SPIN = r"""
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>
struct msg { long type; char text[8]; };
int main(void) {
    char name[64];
    snprintf(name, sizeof name, "/ipcviz-spin-%d", (int)getpid());
    struct mq_attr attr = {.mq_maxmsg = 2, .mq_msgsize = 16};
    mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_NONBLOCK, 0600, &attr);
    int s = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    struct msqid_ds ds; msgctl(s, IPC_STAT, &ds); ds.msg_qbytes = 8; msgctl(s, IPC_SET, &ds);
    int N = 200, again = 0;
    pid_t pid = fork();
    if (pid == 0) {
        char buf[16]; struct msg got;
        for (int got_n = 0; got_n < N; ) {
            if (mq_receive(q, buf, sizeof buf, NULL) >= 0) got_n++; else again++;
        }
        for (int got_n = 0; got_n < N; ) {
            if (msgrcv(s, &got, 8, 0, IPC_NOWAIT) >= 0) got_n++; else again++;
        }
        printf("child again %d\n", again);
        return 0;
    }
    char t[8];
    for (int i = 0; i < N; ) {
        snprintf(t, sizeof t, "%d", i % 10);
        if (mq_send(q, t, strlen(t), i % 3) == 0) i++; else again++;
    }
    struct msg m = {1, "abcd"};
    for (int i = 0; i < N; ) {
        m.type = 1 + i % 3;
        if (msgsnd(s, &m, 4, IPC_NOWAIT) == 0) i++; else again++;
    }
    waitpid(pid, NULL, 0);
    printf("parent again %d\n", again);
    mq_close(q); mq_unlink(name); msgctl(s, IPC_RMID, NULL);
    return 0;
}
"""

#: One semop on two semaphores at once, both ways, ``argv[1]`` rounds: the child sleeps in
#: a wait on semaphores 0 and 1 until the parent, having seen it asleep there (/proc), posts
#: both in one call (in the other order: 1 then 0); the child then posts 2 and 3 in one
#: call, which the parent waits for in one call. A round's posts wake a waiter whatever the
#: machine's speed. Prints ``ROUNDS n``.
SEMOP_PAIRS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

union semun { int val; struct semid_ds *buf; unsigned short *array; };

static int set;

static void pair(int first, int second, int op)
{
    struct sembuf b[2] = {{first, op, 0}, {second, op, 0}};
    if (semop(set, b, 2) < 0) {
        perror("semop");
        exit(1);
    }
}

/* until the kernel shows ``pid`` asleep in a semaphore operation (its wchan) */
static void until_asleep_in_semop(pid_t pid)
{
    char path[64], wchan[128];
    struct timespec pause = {0, 200000};
    snprintf(path, sizeof path, "/proc/%d/wchan", (int)pid);
    for (;;) {
        FILE *f = fopen(path, "r");
        if (!f)
            exit(1);
        size_t n = fread(wchan, 1, sizeof wchan - 1, f);
        fclose(f);
        wchan[n] = 0;
        if (strstr(wchan, "semtimedop"))
            return;
        nanosleep(&pause, NULL);
    }
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 10;
    set = semget(IPC_PRIVATE, 4, IPC_CREAT | 0600);
    if (set < 0)
        return 1;
    union semun zero = {.val = 0};
    for (int i = 0; i < 4; i++)
        semctl(set, i, SETVAL, zero);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < rounds; i++) {
            pair(0, 1, -1); /* asleep until the parent posts both */
            pair(2, 3, +1);
        }
        _exit(0);
    }
    for (int i = 0; i < rounds; i++) {
        until_asleep_in_semop(pid);
        pair(1, 0, +1); /* wakes the child: both at once */
        pair(2, 3, -1);
    }
    int status;
    waitpid(pid, &status, 0);
    semctl(set, 0, IPC_RMID);
    printf("ROUNDS %d\n", rounds);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
"""
