# ruff: noqa: E501 - strace's lines are long; cutting them would change what they test
"""Captured ``strace -f -ttt -T -yy -xx`` output (strace 6.1), shortened, for the pure tests.

``x()`` spells text the way ``-xx`` prints it, so the lines below stay readable.
"""

from __future__ import annotations


def x(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return "".join(f"\\x{b:02x}" for b in data)


P = x("pipe:[2235536]")
LIBC = x("/usr/lib/x86_64-linux-gnu/libc.so.6")
M1, M2, M3 = (x(f"message {i}\n") for i in (1, 2, 3))
ALL = M1 + M2 + M3
ELF = x(b"\x7fELF")
SAID = x("child: read 30 bytes\n")

#: The lecture's pipe parent -> child (scenarios/c/pipe_parent_child.c 3), as strace saw it.
PIPE = f"""\
3306  1795984768.122175 execve("{x("./pipe")}", ["{x("./pipe")}", "{x("3")}"], 0x7ffd2b0407c0 /* 35 vars */) = 0 <0.000202>
3306  1795984768.122989 read(3<{LIBC}>, "{ELF}"..., 832) = 832 <0.000009>
3306  1795984768.123226 close(3<{LIBC}>) = 0 <0.000008>
3306  1795984768.123601 pipe2([3<{P}>, 4<{P}>], 0) = 0 <0.000015>
3306  1795984768.123669 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f11b7dcca10) = 3307 <0.000100>
3306  1795984768.123832 close(3<{P}>) = 0 <0.000013>
3306  1795984768.123929 write(4<{P}>, "{M1}", 10 <unfinished ...>
3307  1795984768.123952 close(4<{P}> <unfinished ...>
3306  1795984768.123988 <... write resumed>) = 10 <0.000038>
3306  1795984768.124008 write(4<{P}>, "{M2}", 10 <unfinished ...>
3307  1795984768.124030 <... close resumed>) = 0 <0.000053>
3306  1795984768.124041 <... write resumed>) = 10 <0.000018>
3306  1795984768.124079 write(4<{P}>, "{M3}", 10 <unfinished ...>
3307  1795984768.124111 read(3<{P}>,  <unfinished ...>
3306  1795984768.124225 <... write resumed>) = 10 <0.000121>
3307  1795984768.124247 <... read resumed>"{ALL}", 4096) = 30 <0.000115>
3306  1795984768.124271 close(4<{P}> <unfinished ...>
3307  1795984768.124294 read(3<{P}>,  <unfinished ...>
3306  1795984768.124314 <... close resumed>) = 0 <0.000029>
3307  1795984768.124323 <... read resumed>"", 4096) = 0 <0.000017>
3307  1795984768.124350 close(3<{P}>) = 0 <0.000015>
3307  1795984768.124571 write(1<{x("/dev/pts/0")}>, "{SAID}", 23) = 23 <0.000016>
3307  1795984768.124638 exit_group(0)   = ?
3307  1795984768.124741 +++ exited with 0 +++
3306  1795984768.124790 --- SIGCHLD {{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=3307, si_uid=0, si_status=0, si_utime=0, si_stime=0}} ---
3306  1795984768.124841 exit_group(0)   = ?
3306  1795984768.124980 +++ exited with 0 +++
"""

_PAD = x(b"\x75\x47\x0d\x7f\x00\x00")


def _rcv(pid: int, t: str, text: str, mtype: int, want: int) -> str:
    return (
        f'{pid}  1795984768.{t} msgrcv(2686997, {{mtype={mtype}, mtext="{x(text)}{_PAD}"}}, '
        f"64, {want}, 0) = {len(text)} <0.000016>"
    )


#: The System V typed queue example (scenarios/c/sysv_mq_typed.c --keep).
MSGQ = "\n".join(
    [
        f'3312  1795984768.130909 execve("{x("./mq")}", ["{x("./mq")}"], 0x7ffc /* 35 vars */) = 0 <0.000268>',
        "3312  1795984768.133072 msgget(IPC_PRIVATE, IPC_CREAT|0600) = 2686997 <0.000017>",
        *(
            f'3312  1795984768.1331{i}0 msgsnd(2686997, {{mtype={t}, mtext="{x(s)}"}}, 2, 0) = 0 <0.000018>'
            for i, (s, t) in enumerate([("c1", 3), ("a1", 1), ("b1", 2), ("a2", 1), ("c2", 3)])
        ),
        "3312  1795984768.133404 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f0d4752fa10) = 3313 <0.000130>",
        "3312  1795984768.133608 msgrcv(2686997,  <unfinished ...>",
        "3313  1795984768.133702 msgctl(2686997, IPC_STAT, {msg_perm={uid=0, gid=0, mode=0600, key=0, cuid=0, cgid=0}, msg_qnum=5, msg_qbytes=16384, msg_lspid=3312, msg_lrpid=0}) = 0 <0.000014>",
        _rcv(3313, "133975", "b1", 2, 2),
        _rcv(3313, "134037", "a1", 1, -2),
        _rcv(3313, "134094", "c1", 3, 0),
        _rcv(3313, "134150", "a2", 1, -3),
        _rcv(3313, "134207", "c2", 3, 0),
        f'3313  1795984768.134263 msgsnd(2686997, {{mtype=9, mtext="{x("thanks")}"}}, 6, 0 <unfinished ...>',
        f'3312  1795984768.134310 <... msgrcv resumed>{{mtype=9, mtext="{x("thanks")}{_PAD}"}}, 64, 9, 0) = 6 <0.000687>',
        "3313  1795984768.134336 <... msgsnd resumed>) = 0 <0.000053>",
        "3313  1795984768.134556 exit_group(0)   = ?",
        "3313  1795984768.134743 +++ exited with 0 +++",
        "3312  1795984768.134848 wait4(3313, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 3313 <0.000031>",
        "3312  1795984768.134928 msgctl(2686997, IPC_RMID, NULL) = 0 <0.000015>",
        "3312  1795984768.135078 exit_group(0)   = ?",
        "3312  1795984768.135243 +++ exited with 0 +++",
    ]
)

#: semget / semctl(SETVAL) / semop (glibc calls semtimedop) with a blocked P, and a call
#: of two operations (strace 6.1, shortened).
SEM = """\
8144  1795985949.432800 execve("\\x2e\\x2f\\x73", ["\\x2e\\x2f\\x73"], 0x1 /* 1 vars */) = 0 <0.000001>
8144  1795985949.432805 semget(IPC_PRIVATE, 1, IPC_CREAT|0600) = 1900570 <0.000017>
8144  1795985949.432902 semctl(1900570, 0, SETVAL, 0x1) = 0 <0.000010>
8144  1795985949.432936 semtimedop(1900570, [{sem_num=0, sem_op=-1, sem_flg=0}], 1, NULL) = 0 <0.000012>
8144  1795985949.432988 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7fea64fd4a10) = 8145 <0.000106>
8145  1795985949.433218 semtimedop(1900570, [{sem_num=0, sem_op=-1, sem_flg=0}], 1, NULL <unfinished ...>
8144  1795985949.434259 semtimedop(1900570, [{sem_num=0, sem_op=1, sem_flg=0}], 1, NULL) = 0 <0.000016>
8145  1795985949.434303 <... semtimedop resumed>) = 0 <0.001066>
8145  1795985949.434494 semtimedop(1900570, [{sem_num=0, sem_op=1, sem_flg=0}], 1, NULL) = 0 <0.000010>
8145  1795985949.434662 +++ exited with 0 +++
8144  1795985949.434717 semtimedop(1900570, [{sem_num=0, sem_op=-1, sem_flg=SEM_UNDO|IPC_NOWAIT}, {sem_num=0, sem_op=2, sem_flg=0}], 2, NULL) = 0 <0.000012>
8144  1795985949.434720 semtimedop(1900570, [{sem_num=0, sem_op=-9, sem_flg=IPC_NOWAIT}], 1, NULL) = -1 EAGAIN (Resource temporarily unavailable) <0.000002>
8144  1795985949.434756 semctl(1900570, 0, IPC_RMID, NULL) = 0 <0.000011>
8144  1795985949.434881 +++ exited with 0 +++
"""

Q = x("/s2t")
#: A POSIX queue made with default attributes, received from with a NULL msg_prio (strace
#: cannot show the priority), unlinked while open and used on by a child: gone only when
#: the last descriptor goes (the child's, at its exit).
POSIX_MQ = f"""\
26693 1795996295.808852 mq_open("{x("s2t")}", O_RDWR|O_CREAT|O_EXCL, 0600, NULL) = 3<{Q}> <0.000229>
26693 1795996295.809195 mq_timedsend(3<{Q}>, "{x("lo")}", 2, 1, NULL) = 0 <0.000023>
26693 1795996295.809273 mq_timedsend(3<{Q}>, "{x("hi")}", 2, 9, NULL) = 0 <0.000016>
26693 1795996295.809339 mq_timedreceive(3<{Q}>, "{x("hi")}", 8192, NULL, NULL) = 2 <0.000018>
26693 1795996295.809411 mq_unlink("{x("s2t")}") = 0 <0.000018>
26693 1795996295.809479 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f4fa8675a10) = 26694 <0.000179>
26693 1795996295.809734 close(3<{Q}>(deleted)) = 0 <0.000051>
26694 1795996295.809841 mq_timedreceive(3<{Q}>(deleted),  <unfinished ...>
26693 1795996295.809900 mq_notify(3<{Q}>, {{sigev_signo=SIGUSR1, sigev_notify=SIGEV_SIGNAL}}) = -1 EBADF (Bad file descriptor) <0.000010>
26694 1795996295.809990 <... mq_timedreceive resumed>"{x("lo")}", 8192, [1], NULL) = 2 <0.000020>
26694 1795996295.810000 mq_timedsend(3<{Q}>(deleted), "{x("full")}", 4, 0, {{tv_sec=0, tv_nsec=0}}) = -1 ETIMEDOUT (Connection timed out) <0.000020>
26694 1795996295.810133 +++ exited with 0 +++
26693 1795996295.810363 +++ exited with 0 +++
"""

_CWD = x("/tmp/t")
_SEG, _TMP, _SEM = x("/dev/shm/seg"), x("/dev/shm/sem.kxhywb"), x("/dev/shm/sem.seg.s")
_SEM_T = x(b"\x02" + bytes(7) + b"\x80" + bytes(23))  # value 2, shared
#: POSIX shared memory and semaphores (tests/anyprog/programs.py POSIX_SHM, strace 6.1,
#: shortened): shm_open, sem_open(O_CREAT, value 2: a temporary file written, mapped and
#: linked), the child's contended sem_wait on the unnamed semaphore at byte 32 (a futex in
#: the segment), the parent's wake; then the names unlinked and the mappings dropped.
POSIX_SHM = f"""\
25622 1796007537.809619 openat(AT_FDCWD<{_CWD}>, "{_SEG}", O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0600) = 3<{_SEG}> <0.000039>
25622 1796007537.809733 ftruncate(3<{_SEG}>, 64) = 0 <0.000018>
25622 1796007537.809796 mmap(NULL, 64, PROT_READ|PROT_WRITE, MAP_SHARED, 3<{_SEG}>, 0) = 0x7efe981fb000 <0.000025>
25622 1796007537.809867 close(3<{_SEG}>) = 0 <0.000014>
25622 1796007537.810013 openat(AT_FDCWD<{_CWD}>, "{_TMP}", O_RDWR|O_CREAT|O_EXCL, 0600) = 3<{_TMP}> <0.000032>
25622 1796007537.810106 write(3<{_TMP}>, "{_SEM_T}", 32) = 32 <0.000022>
25622 1796007537.810176 mmap(NULL, 32, PROT_READ|PROT_WRITE, MAP_SHARED, 3<{_TMP}>, 0) = 0x7efe981fa000 <0.000023>
25622 1796007537.810240 link("{_TMP}", "{_SEM}") = 0 <0.000023>
25622 1796007537.810508 unlink("{_TMP}") = 0 <0.000021>
25622 1796007537.810577 close(3<{_TMP}>(deleted)) = 0 <0.000015>
25622 1796007537.810655 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7efe9800ea10) = 25623 <0.000196>
25623 1796007537.811094 futex(0x7efe981fb020, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, 0, NULL, FUTEX_BITSET_MATCH_ANY <unfinished ...>
25622 1796007537.811332 futex(0x7efe981fb020, FUTEX_WAKE, 1) = 1 <0.000017>
25623 1796007537.811369 <... futex resumed>) = 0 <0.000260>
25623 1796007537.811584 +++ exited with 0 +++
25622 1796007537.811803 munmap(0x7efe981fa000, 32) = 0 <0.000024>
25622 1796007537.811860 unlink("{_SEM}") = 0 <0.000316>
25622 1796007537.812233 munmap(0x7efe981fb000, 64) = 0 <0.000025>
25622 1796007537.812296 unlink("{_SEG}") = 0 <0.000035>
25622 1796007537.812566 +++ exited with 0 +++
"""
