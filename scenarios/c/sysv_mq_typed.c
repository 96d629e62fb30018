/* System V typed message queue: the lecture's msgget/msgsnd/msgrcv example (T18, T20-T22).
 *
 * The parent makes a private queue and sends five messages of types 3, 1, 2, 1, 3, then
 * forks. The child reads the kernel's msqid_ds (5 messages, the last sender = the parent),
 * receives by exact type (2), by "lowest type <= 2" (-2), any type (0), "lowest <= 3" (-3)
 * and any type again: b1 a1 c1 a2 c2. It answers with type 9 on the same queue, which the
 * parent waits for. The parent then removes the queue (IPC_RMID), unless run with --keep.
 *
 * usage: sysv_mq_typed [--keep]
 */
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

struct message {
    long mtype;
    char mtext[64];
};

static int send(int q, long type, const char *text)
{
    struct message m = {.mtype = type};
    size_t len = strlen(text);
    memcpy(m.mtext, text, len);
    return msgsnd(q, &m, len, 0);
}

static int receive(int q, long type, char *out)
{
    struct message m;
    ssize_t n = msgrcv(q, &m, sizeof m.mtext, type, 0);
    if (n < 0)
        return -1;
    memcpy(out, m.mtext, (size_t)n);
    out[n] = '\0';
    return (int)m.mtype;
}

int main(int argc, char **argv)
{
    int keep = argc > 1 && strcmp(argv[1], "--keep") == 0;
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (q < 0) {
        perror("msgget");
        return 1;
    }
    const char *texts[] = {"c1", "a1", "b1", "a2", "c2"};
    const long types[] = {3, 1, 2, 1, 3};
    for (int i = 0; i < 5; i++)
        if (send(q, types[i], texts[i]) < 0) {
            perror("msgsnd");
            return 1;
        }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        struct msqid_ds ds;
        if (msgctl(q, IPC_STAT, &ds) == 0)
            printf("child: msg_qnum %lu, msg_lspid %d\n", (unsigned long)ds.msg_qnum,
                   (int)ds.msg_lspid);
        const long wants[] = {2, -2, 0, -3, 0};
        char text[65];
        for (int i = 0; i < 5; i++) {
            int type = receive(q, wants[i], text);
            if (type < 0) {
                perror("msgrcv");
                return 1;
            }
            printf("child: msgrcv(%ld) -> %s (type %d)\n", wants[i], text, type);
        }
        return send(q, 9, "thanks") < 0;
    }
    char reply[65];
    int type = receive(q, 9, reply);
    printf("parent: reply %s (type %d)\n", reply, type);
    int status;
    waitpid(pid, &status, 0);
    if (!keep)
        msgctl(q, IPC_RMID, NULL);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 && type == 9 ? 0 : 1;
}
