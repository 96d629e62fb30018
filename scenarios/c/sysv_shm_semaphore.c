/* producer-consumer over System V shared memory, guarded by System V semaphores
 * (T26, T27, T31, T32, T33).
 *
 * One segment (shmget, shmat) of 8 longs: a ring of 4 slots (cells 0-3), then how many
 * items went in (cell 4) and out (cell 5) and the sum taken out (cell 6). No system call
 * moves the data: both processes store into the same memory. Three semaphores guard it:
 * empty = 4 (free slots), full = 0 (filled slots), mutex = 1 (one process in the ring at
 * a time). The producer does P(empty) P(mutex) store V(mutex) V(full) for each item; the
 * consumer P(full) P(mutex) take V(mutex) V(empty).
 *
 * The consumer starts first and finds full at 0: it sleeps in semop. The producer starts
 * producing only once the kernel shows the consumer asleep there (/proc/PID/wchan: a
 * condition, not a time), so that wait happens on every run.
 *
 * usage: sysv_shm_semaphore [ITEMS]   (default 8)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { SLOTS = 4, IN = 4, OUT = 5, SUM = 6, CELLS = 8 };
enum { EMPTY = 0, FULL = 1, MUTEX = 2 };

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static int op(int set, unsigned short which, short delta)
{
    struct sembuf b = {.sem_num = which, .sem_op = delta, .sem_flg = 0};
    return semop(set, &b, 1);
}

static int consume(int set, long *ring, int items)
{
    for (int i = 0; i < items; i++) {
        if (op(set, FULL, -1) < 0 || op(set, MUTEX, -1) < 0)
            return 1;
        long item = ring[ring[OUT] % SLOTS];
        ring[OUT]++;
        ring[SUM] += item;
        if (op(set, MUTEX, 1) < 0 || op(set, EMPTY, 1) < 0)
            return 1;
        printf("consumer: took %ld\n", item);
    }
    fflush(stdout);
    return 0;
}

/* until the kernel shows ``pid`` asleep in semop (its wchan), at most ~100 s */
static void until_asleep_in_semop(pid_t pid)
{
    char path[64], wchan[128];
    struct timespec pause = {0, 1000000};
    snprintf(path, sizeof path, "/proc/%d/wchan", (int)pid);
    for (int tries = 0; tries < 100000; tries++) {
        FILE *f = fopen(path, "r");
        if (!f)
            return;
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
    int items = argc > 1 ? atoi(argv[1]) : 8;
    int shm = shmget(IPC_PRIVATE, CELLS * sizeof(long), IPC_CREAT | 0600);
    int set = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
    if (shm < 0 || set < 0) {
        perror("shmget/semget");
        return 1;
    }
    long *ring = shmat(shm, NULL, 0); /* the segment, in this process's memory */
    union semun v[3] = {{.val = SLOTS}, {.val = 0}, {.val = 1}};
    int failed = ring == (void *)-1;
    for (int i = 0; i < 3 && !failed; i++)
        failed = semctl(set, i, SETVAL, v[i]) < 0;
    pid_t pid = failed ? -1 : fork();
    if (pid == 0) /* the consumer: inherits the attachment */
        return consume(set, ring, items);
    if (pid > 0) {
        until_asleep_in_semop(pid); /* the consumer waits for full: nothing made yet */
        for (int i = 1; i <= items && !failed; i++) {
            failed = op(set, EMPTY, -1) < 0 || op(set, MUTEX, -1) < 0;
            if (failed)
                break;
            ring[ring[IN] % SLOTS] = 100 + i;
            ring[IN]++;
            failed = op(set, MUTEX, 1) < 0 || op(set, FULL, 1) < 0;
        }
        int status;
        waitpid(pid, &status, 0);
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        printf("producer: %ld in, %ld out, sum %ld\n", ring[IN], ring[OUT], ring[SUM]);
    }
    if (ring != (void *)-1)
        shmdt(ring);
    shmctl(shm, IPC_RMID, NULL); /* the program's own objects: it removes them */
    semctl(set, 0, IPC_RMID);
    return failed || pid < 0;
}
