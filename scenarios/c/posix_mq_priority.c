/* POSIX message queue: priorities, a notice, a full queue (T17, T23, T24, T25).
 *
 * The parent makes a queue of at most 4 messages (mq_open with O_CREAT | O_EXCL) and asks
 * to be told when a message arrives in the empty queue (mq_notify, SIGUSR1). It forks a
 * child that sends five messages with priorities 1, 5, 3, 5, 2: the first one raises the
 * parent's notice, the fifth finds the queue full and blocks. Once the child sleeps in that
 * send, the parent receives: the highest priority first, the oldest first within one
 * priority. Each receive makes room; the parent waits until the queue is full again, so
 * the blocked message (priority 2) is in before the next receive and the order is always
 * 5 5 3 2 1. The parent then closes and unlinks the queue, unless run with --keep.
 *
 * usage: posix_mq_priority [--keep]
 */
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MESSAGES 5

static const char *texts[MESSAGES] = {
    "low: log line", "URGENT: disk full", "mid: report", "URGENT: fan", "extra: sent late",
};
static const unsigned prios[MESSAGES] = {1, 5, 3, 5, 2};

static long queued(mqd_t q)
{
    struct mq_attr a;
    return mq_getattr(q, &a) == 0 ? a.mq_curmsgs : -1;
}

/* Whether process pid sleeps (state S): the child does only in its blocked send. */
static int asleep(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *end = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
    return end && end[1] == ' ' && end[2] == 'S';
}

int main(int argc, char **argv)
{
    int keep = argc > 1 && strcmp(argv[1], "--keep") == 0;
    char name[64];
    snprintf(name, sizeof name, "/ipcviz-c-mq.%d", (int)getpid());
    struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 64};
    mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
    if (q == (mqd_t)-1) {
        perror("mq_open");
        return 1;
    }
    printf("parent: queue %s, 4 messages of 64 bytes at most\n", name);
    fflush(stdout);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL); /* taken with sigwait, never by a handler */
    struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
    if (mq_notify(q, &ev) < 0) {
        perror("mq_notify");
        return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) { /* child: sends; the fifth send waits for room */
        for (int i = 0; i < MESSAGES; i++)
            if (mq_send(q, texts[i], strlen(texts[i]), prios[i]) < 0) {
                perror("mq_send");
                return 1;
            }
        mq_close(q);
        return 0;
    }
    int sig;
    sigwait(&usr1, &sig);
    printf("parent: notified (SIGUSR1): a message arrived in the empty queue\n");
    fflush(stdout);
    while (queued(q) < 4 || !asleep(pid)) /* full, and the child blocked in mq_send */
        ;
    printf("parent: the queue is full and the child waits in mq_send\n");
    fflush(stdout);
    for (int i = 0; i < MESSAGES; i++) {
        char text[65];
        unsigned prio;
        ssize_t n = mq_receive(q, text, 64, &prio);
        if (n < 0) {
            perror("mq_receive");
            return 1;
        }
        text[n] = '\0';
        printf("parent: received \"%s\" (priority %u)\n", text, prio);
        fflush(stdout);
        if (i == 0)
            while (queued(q) < 4) /* the blocked send goes in before the next receive */
                ;
    }
    int status;
    waitpid(pid, &status, 0);
    mq_close(q);
    if (!keep)
        mq_unlink(name);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
