"""address-spaces: a forked child changes "the same" variable independently; threads share it."""

import ctypes
import json
import os
import threading

from ipcviz.scenario import Scenario

scenario = Scenario(
    "address-spaces",
    "Processes do not share memory; threads do",
    teaches=["T3"],
    description=(
        "A parent and the child it forks both change a variable called x, at the very same "
        "virtual address. Each sees only its own change: fork() gave the child a copy of the "
        "address space. Then two threads of one process change x: each sees the other's "
        "change, because threads share one address space. Processes that want to talk need "
        "IPC."
    ),
    params={"pause": 0.8},
    quick={"pause": 0.0},
    limits={"pause": (0, 60)},
    timeout=30,
    title_ko="프로세스는 메모리를 공유하지 않고, 스레드는 공유한다",
    description_ko=(
        "부모와 fork()로 만든 자식이 둘 다 x라는 변수를, 똑같은 가상 주소에서 바꿉니다. 그런데 "
        "각자 자기가 바꾼 값만 봅니다. fork()가 자식에게 주소 공간의 복사본을 주었기 때문입니다. "
        "다음으로 한 프로세스의 스레드 두 개가 x를 바꿉니다. 이번에는 서로가 바꾼 값을 봅니다. "
        "스레드는 주소 공간 하나를 함께 쓰기 때문입니다. 그래서 프로세스끼리 데이터를 "
        "주고받으려면 IPC가 필요합니다."
    ),
)
scenario.step(
    "fork",
    "The parent sets x = 1 and forks a child. The child starts as a copy of the parent: "
    "x is 1 there too, at the same virtual address.",
    "부모가 x = 1로 두고 자식을 fork합니다. 자식은 부모의 복사본으로 시작하므로 x도 1이고, "
    "가상 주소까지 같습니다.",
    teaches=["T3"],
)
scenario.step(
    "change",
    "The child sets x = 2, the parent sets x = 100. Same name, same address — but two "
    "different pieces of physical memory.",
    "자식은 x = 2로, 부모는 x = 100으로 바꿉니다. 이름도 주소도 같지만 실제 물리 메모리는 "
    "서로 다른 곳입니다.",
    teaches=["T3"],
)
scenario.step(
    "separate",
    "Each process sees only its own value: processes do not share their address space. "
    "To exchange data they need IPC.",
    "각 프로세스는 자기 값만 봅니다. 프로세스는 주소 공간을 공유하지 않습니다. "
    "데이터를 주고받으려면 IPC가 필요합니다.",
    teaches=["T3"],
)
scenario.step(
    "threads",
    "Now two threads inside one process: thread A sets x = 7, thread B reads x and sees 7. "
    "Threads share their process's memory — that is multithreading.",
    "이번에는 한 프로세스 안의 스레드 두 개입니다. 스레드 A가 x = 7로 바꾸면 스레드 B가 읽은 x도 "
    "7입니다. 스레드는 프로세스의 메모리를 함께 씁니다. 이것이 멀티스레딩입니다.",
    teaches=["T3"],
)

x = ctypes.c_long(0)  # "the variable": a C long whose address we can print


def address() -> str:
    return hex(ctypes.addressof(x))


@scenario.process("parent")
def parent(ctx):
    ctx.step("fork")
    x.value = 1
    r, w = os.pipe()  # only to hand the child's observations back (not traced)
    go_r, go_w = os.pipe()  # the parent says "I have changed x" through this one
    pid = os.fork()
    if pid == 0:  # the child (traced as parent/1; this raw os.pipe() is not)
        try:
            os.close(r)
            os.close(go_w)
            before = x.value
            x.value = 2
            os.read(go_r, 1)  # wait until the parent has set its x = 100
            seen = {"before": before, "after": x.value, "address": address(), "pid": os.getpid()}
            os.write(w, json.dumps(seen).encode())
        finally:
            os._exit(0)
    os.close(w)
    os.close(go_r)
    ctx.step("change")
    x.value = 100
    os.write(go_w, b"!")
    os.close(go_w)
    ctx.sleep(ctx.params["pause"])
    data = b""
    while chunk := os.read(r, 4096):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    child = json.loads(data)
    ctx.step("separate")
    ctx.report("parent", {"x": x.value, "address": address(), "pid": os.getpid()})
    ctx.report("child", child)


@scenario.process("threads")
def threads(ctx):
    if ctx.params["pause"]:
        ctx.sleep(ctx.params["pause"] * 2)
    x.value = 0
    written = threading.Event()
    seen = {}

    def thread_a() -> None:
        x.value = 7
        seen["a_address"] = address()
        written.set()

    def thread_b() -> None:
        written.wait(5)
        seen["b_saw"] = x.value
        seen["b_address"] = address()

    ts = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in reversed(ts):
        t.start()
    for t in ts:
        t.join()
    ctx.step("threads")
    ctx.report("threads", seen)


@scenario.check(
    "parent and forked child kept separate values at the same address (T3)",
    ko="부모와 fork()한 자식은 같은 주소에 서로 다른 값을 가졌다 (T3)",
)
def separate(run):
    p, c = run.report("parent", "parent", {}), run.report("parent", "child", {})
    ok = (
        p.get("x") == 100
        and c.get("before") == 1
        and c.get("after") == 2
        and p.get("address") == c.get("address")
    )
    return (
        ok,
        (
            f"x at {p.get('address')}: parent sees {p.get('x')}, child (pid {c.get('pid')}) "
            f"saw {c.get('before')} then {c.get('after')}"
        ),
        (
            f"주소 {p.get('address')}의 x: 부모는 {p.get('x')}을(를) 보고, "
            f"자식(pid {c.get('pid')})은 "
            f"{c.get('before')} 다음 {c.get('after')}을(를) 보았음"
        ),
    )


@scenario.check(
    "two threads of one process share x: B saw A's write",
    ko="한 프로세스의 두 스레드는 x를 공유한다: B가 A가 쓴 값을 보았다",
)
def shared(run):
    t = run.report("threads", "threads", {})
    ok = t.get("b_saw") == 7 and t.get("a_address") == t.get("b_address")
    return (
        ok,
        f"thread B saw x = {t.get('b_saw')} at {t.get('b_address')}",
        f"스레드 B는 {t.get('b_address')}에서 x = {t.get('b_saw')}을(를) 보았음",
    )
