"""c/sysv-shm-semaphore: sysv_shm_semaphore.c under strace — producer-consumer over System V
shared memory, guarded by System V semaphores (empty, full, mutex).

Each step is said when strace shows its event (see ipcviz/sources/strace/cscenario.py);
the checks read the recorded events. No system call shows a store into the segment: its
cells are what ipcviz's own read-only attachment read (``probe.shm``), shown with the
age of the reading; a run that ends between two readings shows fewer of them. The steps
and checks rest on the calls alone.
"""

from ipcviz.sources.strace.cscenario import ProgramScenario, of, root

scenario = ProgramScenario(
    "c/sysv-shm-semaphore",
    "C: producer-consumer over System V shared memory, guarded by semaphores",
    example="c/sysv-shm-semaphore",
    teaches=["T26", "T27", "T31", "T32", "T33"],
    description=(
        "sysv_shm_semaphore.c: one System V segment (shmget, shmat) holds a ring of 4 slots; "
        "three System V semaphores guard it: empty = 4 (free slots), full = 0 (filled "
        "slots), mutex = 1 (one process in the ring at a time). The consumer starts first "
        "and sleeps on full; the producer starts once the kernel shows it asleep, then makes "
        "8 items: P(empty) P(mutex) store V(mutex) V(full); the consumer P(full) P(mutex) "
        "take V(mutex) V(empty). The data never passes through a system call: ipcviz reads "
        "the cells itself, read-only. Watched through strace: every call is real."
    ),
    title_ko="C: System V 공유 메모리로 하는 생산자-소비자, 세마포어로 보호",
    description_ko=(
        "sysv_shm_semaphore.c: System V 세그먼트 하나(shmget, shmat)에 칸 4개짜리 원형 버퍼가 "
        "있고, System V 세마포어 세 개가 이를 지킵니다. empty = 4(빈 칸), full = 0(찬 칸), mutex "
        "= 1(한 번에 한 프로세스만 버퍼에). 소비자가 먼저 시작해 full에서 잠듭니다. 커널이 "
        "소비자가 잠든 것을 보여 주면 생산자가 시작해 항목 8개를 만듭니다: P(empty) P(mutex) 저장 "
        "V(mutex) V(full). 소비자는 P(full) P(mutex) 꺼내기 V(mutex) V(empty). 데이터는 시스템 "
        "콜을 거치지 않으므로 ipcviz가 칸을 직접 읽습니다(읽기 전용). strace로 지켜보므로 모든 "
        "호출이 실제입니다."
    ),
)
ITEMS = 8


def _sem(events, num):
    """The name of semaphore ``num`` of the program's set (0 empty, 1 full, 2 mutex)."""
    for e in of(events, "obj.declare", type="sysv_sem"):
        if e["obj"].endswith(f"[{num}]"):
            return e["obj"]
    return None


def _count(events, kind, num, pid=None, other=False):
    """How many ``kind`` events on semaphore ``num`` by ``pid`` (or by anyone else)."""
    name, parent = _sem(events, num), root(events)
    who = pid if pid is not None else parent
    return sum(1 for e in of(events, kind, obj=name) if (e["pid"] != who) == other)


def _consumer_waited(events):
    """The consumer's first wait on full began before the producer's first post of it."""
    full = _sem(events, 1)
    posts = of(events, "sem.post", obj=full)
    if full is None or not posts:
        return False
    parent = root(events)
    begins = [e["t"] for e in of(events, "sem.wait.begin", obj=full) if e["pid"] != parent]
    waits = [e.get("since", e["t"]) for e in of(events, "sem.wait", obj=full)]
    began = begins[:1] or waits[:1]
    return bool(began) and began[0] < posts[0]["t"]


def _all_through(events):
    takes = _count(events, "sem.wait", 1, other=True)  # the consumer's P(full)
    gives = _count(events, "sem.post", 0, other=True)  # the consumer's V(empty)
    return takes == gives == ITEMS


def _mutex_alternates(events):
    """Take, post, take, post … on mutex, each post by the process that took it."""
    ops = [e for e in events if e.get("obj") == _sem(events, 2)]
    ops = [e for e in ops if e["kind"] in ("sem.wait", "sem.post")]
    holder = None
    for e in ops:
        if e["kind"] == "sem.wait":
            if holder is not None:
                return False
            holder = e["pid"]
        elif e["pid"] != holder:
            return False
        else:
            holder = None
    return bool(ops) and holder is None


scenario.step(
    "segment",
    "shmget made a segment of 8 cells; both processes attach it (shmat) and store into it "
    "directly. No system call shows a store: ipcviz reads the cells itself, read-only, "
    "and shows how old each reading is.",
    "shmget이 8칸짜리 세그먼트를 만들었습니다. 두 프로세스가 그것을 붙이고(shmat) 직접 "
    "저장합니다. 저장을 보여 주는 시스템 콜은 없으므로 ipcviz가 읽기 전용으로 직접 칸을 "
    "읽고, 각 읽기가 얼마나 오래되었는지 보여 줍니다.",
    teaches=["T26", "T27"],
    when=lambda ev: bool(of(ev, "obj.declare", type="sysv_shm")),
)
scenario.step(
    "semaphores",
    "semget made three semaphores, set by semctl: empty = 4 (free slots), full = 0 (filled "
    "slots), mutex = 1 (one process in the ring at a time).",
    "semget이 세마포어 세 개를 만들었고 semctl이 값을 정했습니다. empty = 4(빈 칸), "
    "full = 0(찬 칸), mutex = 1(한 번에 한 프로세스만 링에 들어감).",
    teaches=["T32"],
    when=lambda ev: all(_sem(ev, n) for n in range(3)),
)
scenario.step(
    "consumer-waits",
    "The consumer asked for a filled slot first: full was 0, so semop put it to sleep "
    "until the producer stored an item and posted full.",
    "소비자가 먼저 찬 칸을 요청했습니다. full이 0이어서 semop이 소비자를 재웠고, 생산자가 "
    "항목을 저장하고 full을 올릴 때까지 잤습니다.",
    teaches=["T31", "T33"],
    when=_consumer_waited,
)
scenario.step(
    "through",
    "All 8 items went through the ring of 4 slots: each store came after P(empty) and "
    "P(mutex), each take after P(full) and P(mutex). The semaphores, not luck, kept the "
    "two from writing over each other.",
    "8개 항목이 모두 4칸짜리 링을 지나갔습니다. 저장은 P(empty)와 P(mutex) 뒤에, 꺼내기는 "
    "P(full)과 P(mutex) 뒤에 있었습니다. 운이 아니라 세마포어가 두 프로세스가 서로 덮어쓰지 "
    "않게 했습니다.",
    teaches=["T31", "T32"],
    when=_all_through,
)
scenario.step(
    "removed",
    "The parent removed the segment and the semaphore set (IPC_RMID): nothing is left.",
    "부모가 세그먼트와 세마포어 집합을 지웠습니다(IPC_RMID). 남은 것이 없습니다.",
    when=lambda ev: len(of(ev, "obj.remove")) >= 4,
)


@scenario.trace_check(
    "the consumer slept on full (0) before anything was produced",
    ko="소비자는 아무것도 생산되기 전에 full(0)에서 잠들었다",
)
def waited(events):
    return (
        _consumer_waited(events),
        "its wait on full began before the first post of full",
        "full에서의 대기가 full의 첫 post보다 먼저 시작했음",
    )


@scenario.trace_check(
    "8 items: the producer took empty and posted full 8 times, "
    "the consumer took full and posted empty 8 times",
    ko=(
        "항목 8개: 생산자는 empty를 얻고 full을 올리기를 8번, 소비자는 full을 얻고 empty를 "
        "올리기를 8번 했다"
    ),
)
def counted(events):
    got = (
        _count(events, "sem.wait", 0),
        _count(events, "sem.post", 1),
        _count(events, "sem.wait", 1, other=True),
        _count(events, "sem.post", 0, other=True),
    )
    return (
        got == (ITEMS,) * 4,
        "P(empty) V(full) P(full) V(empty): " + " ".join(map(str, got)),
        "P(empty) V(full) P(full) V(empty): " + " ".join(map(str, got)),
    )


@scenario.trace_check(
    "mutex: taken by one process at a time, posted by the one that took it",
    ko="mutex: 한 번에 한 프로세스만 얻었고, 얻은 프로세스가 올렸다",
)
def mutex(events):
    return _mutex_alternates(events), "take, post, take, post …", "얻고, 올리고, 얻고, 올리고 …"


@scenario.trace_check(
    "the program removed its segment and semaphores itself: nothing left behind",
    ko="프로그램이 세그먼트와 세마포어를 직접 제거했다: 남은 것이 없다",
)
def removed(events):
    made = {e["obj"] for e in of(events, "obj.declare") if e["type"] in ("sysv_shm", "sysv_sem")}
    gone = {e["obj"] for e in of(events, "obj.remove")}
    return (
        bool(made) and made <= gone,
        f"{len(made & gone)} of {len(made)} removed",
        f"{len(made)}개 중 {len(made & gone)}개 제거됨",
    )
