/* two locks taken in opposite order: a deadlock (T32, T33, T34).
 *
 * One System V set of two semaphores, lock 0 and lock 1, each at 1: two locks. Child A
 * takes lock 0 then wants lock 1; child B takes lock 1 then wants lock 0. Neither asks
 * for its second lock before both hold their first: they meet at a handshake (each writes
 * a byte to the other's pipe, then reads the other's), so the deadlock happens on every
 * run, never by luck of timing. Then each sleeps in semop on the lock the other holds:
 * nobody can move.
 *
 * The locks are taken with SEM_UNDO: when one of the two is killed (ipcviz kills one of
 * the cycle when it has shown the deadlock; on the screen, k on a process does), the
 * kernel gives its lock back, the other gets both and finishes. The parent waits for
 * both, says how each ended, and removes the set (IPC_RMID): nothing is left behind.
 *
 * usage: two_locks
 */
#include <signal.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static int lock(int set, unsigned short which)
{
    struct sembuf op = {.sem_num = which, .sem_op = -1, .sem_flg = SEM_UNDO};
    return semop(set, &op, 1);
}

static int unlock(int set, unsigned short which)
{
    struct sembuf op = {.sem_num = which, .sem_op = 1, .sem_flg = SEM_UNDO};
    return semop(set, &op, 1);
}

/* take ``first``, meet the other at the handshake, then take ``second`` */
static int take_both(int set, int first, int second, int tell, int hear)
{
    char byte = 'x';
    if (lock(set, first) < 0)
        return 1;
    /* I hold my first lock; wait until the other holds its own */
    if (write(tell, &byte, 1) != 1 || read(hear, &byte, 1) != 1)
        return 1;
    if (lock(set, second) < 0) /* held by the other: sleeps here */
        return 1;
    printf("%s: got both locks\n", first == 0 ? "A" : "B");
    fflush(stdout);
    unlock(set, second);
    unlock(set, first);
    return 0;
}

int main(void)
{
    int set = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    if (set < 0) {
        perror("semget");
        return 1;
    }
    union semun one = {.val = 1};
    int a2b[2], b2a[2];
    if (semctl(set, 0, SETVAL, one) < 0 || semctl(set, 1, SETVAL, one) < 0 || pipe(a2b) < 0 ||
        pipe(b2a) < 0) {
        perror("setup");
        semctl(set, 0, IPC_RMID);
        return 1;
    }
    pid_t a = fork();
    if (a == 0)
        return take_both(set, 0, 1, a2b[1], b2a[0]);
    pid_t b = a < 0 ? -1 : fork();
    if (b == 0)
        return take_both(set, 1, 0, b2a[1], a2b[0]);
    close(a2b[0]);
    close(a2b[1]);
    close(b2a[0]);
    close(b2a[1]);
    int killed = 0, failed = a < 0 || b < 0;
    pid_t kids[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        int status;
        if (kids[i] < 0 || waitpid(kids[i], &status, 0) < 0)
            continue;
        if (WIFSIGNALED(status)) {
            printf("%s: killed by signal %d (its lock given back: SEM_UNDO)\n",
                   i == 0 ? "A" : "B", WTERMSIG(status));
            killed++;
        } else if (WEXITSTATUS(status) != 0) {
            failed = 1;
        }
    }
    fflush(stdout);
    semctl(set, 0, IPC_RMID); /* the program's own set: it removes it */
    return failed || killed > 1 ? 1 : 0;
}
