"""pipe-unrelated: a process that did not inherit a pipe's descriptors has no way to name it."""

import errno
import os

from ipcviz.scenario import Scenario

scenario = Scenario(
    "pipe-unrelated",
    "An anonymous pipe has no name: an outsider cannot join",
    teaches=["T9"],
    description=(
        "The owner and its kin share pipe p: they got its descriptors by fork(). The stranger "
        "never held them. It learns the owner's pid and descriptor number from a notice board "
        "in shared memory and tries: the number means nothing in its own descriptor table, and "
        "there is no file name to open. (Linux does have a back door: /proc/PID/fd/N, open "
        "only to a process allowed to debug the owner — that is how ipcviz watches pipes; it "
        "is not a name anyone can use.)"
    ),
    params={"pause": 0.8},
    quick={"pause": 0.0},
    limits={"pause": (0, 60)},
    timeout=30,
    title_ko="익명 파이프에는 이름이 없다: 외부 프로세스는 끼어들 수 없다",
    description_ko=(
        "owner와 그 친족(kin)은 파이프 p를 함께 씁니다. fork()로 디스크립터를 물려받았기 "
        "때문입니다. stranger는 그 디스크립터를 가진 적이 없습니다. 공유 메모리의 게시판에서 "
        "owner의 pid와 디스크립터 번호를 알아내 시도해 보지만, 그 번호는 자기 디스크립터 "
        "테이블에서는 아무 의미가 없고, 열 수 있는 파일 이름도 없습니다. (리눅스에는 뒷문이 하나 "
        "있습니다. /proc/PID/fd/N인데, owner를 디버깅할 권한이 있는 프로세스만 열 수 있습니다. "
        "ipcviz가 파이프를 지켜보는 방법이 바로 이것이고, 아무나 쓸 수 있는 이름은 아닙니다.)"
    ),
)
scenario.step(
    "kin",
    "owner and kin inherited the pipe's two descriptors through fork(): they can talk.",
    "owner와 kin은 fork()로 파이프의 디스크립터 두 개를 물려받았습니다. 그래서 대화할 수 있습니다.",
    teaches=["T9"],
)
scenario.step(
    "board",
    "The owner posts its pid and the descriptor number of its write end on a notice board "
    "(a shared-memory segment).",
    "owner가 자기 pid와 쓰기 끝의 디스크립터 번호를 게시판(공유 메모리)에 붙여 둡니다.",
    teaches=["T9"],
)
scenario.step(
    "try-fd",
    "The stranger tries that number in its own descriptor table: a descriptor number is "
    "private to each process, so it finds nothing (EBADF) or some other file.",
    "stranger가 그 번호를 자기 디스크립터 표에서 써 봅니다. 디스크립터 번호는 프로세스마다 "
    "따로라서, 아무것도 없거나(EBADF) 전혀 다른 파일이 나옵니다.",
    teaches=["T9"],
)
scenario.step(
    "no-name",
    "And there is no name to open: the pipe exists only as pipe:[inode] inside the kernel, "
    "with no entry in any directory. Without a common parent there is no way in — that is "
    "what a named pipe (FIFO) fixes.",
    "열어 볼 이름도 없습니다. 파이프는 커널 안에 pipe:[inode]로만 존재하고 어느 디렉터리에도 "
    "없습니다. 공통 부모가 없으면 들어갈 방법이 없죠. 이름 있는 파이프(FIFO)가 바로 이 문제를 "
    "해결합니다.",
    teaches=["T9"],
)
scenario.step(
    "backdoor",
    "A footnote for Linux: /proc/PID/fd/N can reopen another process's pipe, but only for a "
    "process allowed to debug it (same user with ptrace rights, or root). It is a debugger's "
    "door, not a name; ipcviz itself peeks at pipes this way.",
    "리눅스에 대한 각주: /proc/PID/fd/N으로 다른 프로세스의 파이프를 다시 열 수는 있지만, 그 "
    "프로세스를 디버깅할 권한(ptrace 권한이 있는 같은 사용자나 root)이 있을 때만입니다. 이름이 "
    "아니라 디버거용 뒷문이고, ipcviz도 이 방법으로 파이프를 들여다봅니다.",
    teaches=["T9"],
)
pipe = scenario.pipe("p", writer="owner", reader="kin")
board = scenario.shared_memory(
    "board", cells={"owner_pid": 1, "write_fd": 1, "done": 1, "spare": 1}
)


@scenario.process("owner")
def owner(ctx):
    ctx.step("kin")
    pipe.write(b"hello kin, this is owner")
    ctx.step("board")
    board[1] = pipe.write_fd
    board[0] = os.getpid()
    while board[2] == 0:  # keep the pipe open until the stranger has tried
        ctx.sleep(0.01)
    pipe.close_write()


@scenario.process("kin")
def kin(ctx):
    ctx.report("got", pipe.read_exactly(24).decode())
    while pipe.read(4096):
        pass


@scenario.process("stranger")
def stranger(ctx):
    while board[0] == 0:
        ctx.sleep(0.01)
    owner_pid, fd = board[0], board[1]
    ctx.sleep(ctx.params["pause"])
    ctx.step("try-fd")
    target = pipe.kernel_name  # "pipe:[inode]", what the kernel calls the owner's pipe
    try:
        st = os.fstat(fd)  # the same number, in the stranger's own descriptor table
        mine = os.readlink(f"/proc/self/fd/{fd}")
        result = f"fd {fd} here is {mine}"
        reached = f"pipe:[{st.st_ino}]" == target
    except OSError as exc:
        result = f"fd {fd}: {errno.errorcode.get(exc.errno, exc.errno)}"
        reached = False
    ctx.report("own_fd_result", result)
    ctx.report("own_fd_reached_pipe", reached)
    ctx.step("no-name")
    found = []
    for root in ("/tmp", "/dev", "/run", "/dev/shm"):
        try:
            found += [n for n in os.listdir(root) if target in n]
        except OSError:
            pass
    ctx.report("names_found", found)
    ctx.step("backdoor")
    try:  # the debugger's door: allowed here only because we may ptrace the owner
        link = os.readlink(f"/proc/{owner_pid}/fd/{fd}")
        backdoor = f"/proc/{owner_pid}/fd/{fd} -> {link} (visible: we have ptrace rights)"
    except OSError as exc:
        backdoor = f"/proc/{owner_pid}/fd/{fd}: {exc.strerror}"
    ctx.report("backdoor", backdoor)
    board[2] = 1


@scenario.check(
    "kin, which inherited the pipe, received the owner's message",
    ko="파이프를 물려받은 kin은 owner의 메시지를 받았다",
)
def kin_got_it(run):
    got = run.report("kin", "got")
    return got == "hello kin, this is owner", f"kin got {got!r}", f"kin이 받은 것: {got!r}"


@scenario.check(
    "the stranger could not reach the pipe by descriptor number or by name (T9)",
    ko="stranger는 디스크립터 번호로도 이름으로도 파이프에 닿지 못했다 (T9)",
)
def stranger_locked_out(run):
    reached = run.report("stranger", "own_fd_reached_pipe")
    names = run.report("stranger", "names_found")
    detail = f"{run.report('stranger', 'own_fd_result')}; names found: {names}"
    return (
        reached is False and names == [],
        detail,
        f"{run.report('stranger', 'own_fd_result')}; 찾은 이름: {names}",
    )
