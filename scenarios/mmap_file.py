"""mmap-file: two processes map the same regular file with MAP_SHARED and talk through it."""

import base64

from ipcviz.bytefmt import readable
from ipcviz.scenario import Scenario

scenario = Scenario(
    "mmap-file",
    "Memory map: a file mapped with MAP_SHARED",
    teaches=["T26", "T27", "T28"],
    description=(
        "The lecture's memory map with a file behind it: the engine creates a regular file "
        "and maps it (open + mmap with MAP_SHARED) before forking, so the writer inherits "
        "the mapping; the reader opens and maps the file itself and gets the same pages at "
        "another address. The writer stores values with plain memory writes; a semaphore "
        "tells the reader when to look. At the end a check reads the file with a plain "
        "read() and finds the stored values: mapping and file share the page cache."
    ),
    params={"values": 6},
    quick={"values": 4},
    limits={"values": (1, 8)},  # one value per cell of the file
    timeout=60,
    title_ko="메모리 맵: MAP_SHARED로 매핑한 파일",
    description_ko=(
        "강의에 나오는 메모리 맵을 파일과 함께 해 봅니다. 엔진이 보통 파일을 하나 만들고 fork하기 "
        "전에 매핑하므로(open + MAP_SHARED로 mmap), 쓰는 쪽은 그 매핑을 물려받습니다. 읽는 쪽은 "
        "직접 파일을 열고 매핑해서, 같은 페이지를 다른 주소에서 얻습니다. 쓰는 쪽은 평범한 메모리 "
        "쓰기로 값을 저장하고, 세마포어가 읽는 쪽에게 볼 때를 알려 줍니다. 끝에 검사가 평범한 "
        "read()로 파일을 읽어 저장된 값을 찾습니다. 매핑과 파일이 같은 페이지 캐시를 공유하기 "
        "때문입니다."
    ),
)
scenario.step(
    "map",
    "The file was opened and mapped with mmap(MAP_SHARED) before fork: the writer inherited "
    "the mapping. Its pages are the file's pages in the kernel's page cache.",
    "파일을 열고 fork 전에 mmap(MAP_SHARED)으로 매핑했습니다. 작성자는 그 매핑을 물려받았습니다. "
    "매핑의 페이지는 커널 페이지 캐시에 있는 파일의 페이지 그 자체입니다.",
    teaches=["T27"],
)
scenario.step(
    "again",
    "The reader opened the file by its path and mapped it itself: the same pages, at another "
    "address of its own address space (see 'mapped at').",
    "읽는 쪽은 경로로 파일을 열어 직접 매핑했습니다. 같은 페이지지만 자기 주소 공간의 다른 "
    "주소에 있습니다('mapped at' 참고).",
    teaches=["T28"],
    probe=True,
)
scenario.step(
    "store",
    "Each value is a plain store into the mapping, no write() call. At the end a check reads "
    "the file with a plain read() and finds them there: mapping and file share the page cache.",
    "값 하나하나가 write() 호출 없이 매핑에 하는 평범한 메모리 쓰기입니다. 마지막에 검사가 "
    "파일을 평범한 read()로 읽어 그 값들을 찾습니다. 매핑과 파일은 같은 페이지 캐시를 씁니다.",
    teaches=["T26"],
)
table = scenario.mapped_file("table", cells={"table": 8})
ready = scenario.semaphore("ready", value=0)
mapped = scenario.semaphore("mapped", value=0)


@scenario.process("writer")
def writer(ctx):
    ctx.step("map")
    mapped.wait()  # until the reader has its own mapping
    ctx.step("store")
    for i in range(ctx.params["values"]):
        table[i] = (i + 1) * 100  # a plain memory store into the file's pages
        ready.post()
    ctx.report("stored", ctx.params["values"])


@scenario.process("reader")
def reader(ctx):
    ctx.report("address", hex(table.remap()))
    ctx.step("again")
    mapped.post()
    seen = []
    for i in range(ctx.params["values"]):
        ready.wait()
        seen.append(table[i])
    ctx.report("seen", seen)


@scenario.check(
    "the reader saw every value the writer stored, through its own mapping",
    ko="읽는 쪽은 쓰는 쪽이 저장한 값을 모두 자기 매핑으로 보았다",
)
def all_seen(run):
    seen = run.report("reader", "seen", [])
    want = [(i + 1) * 100 for i in range(run.report("writer", "stored", 0))]
    return seen == want and bool(want), f"seen {readable(seen)}", f"본 값: {readable(seen, 'ko')}"


@scenario.check(
    "a plain read() of the file returns what the workers stored in memory",
    ko="파일을 평범한 read()로 읽으면 작업자들이 메모리에 저장한 값이 나온다",
)
def file_has_it(run):
    obj = run.state.objects["table"]
    data = base64.b64decode(obj.kernel.get("data") or "")
    ok = bool(data) and data == bytes(obj.data[: len(data)]) and any(data)
    return (
        ok,
        f"{len(data)} B read from the file, {'equal' if ok else 'not equal'} to the cells",
        f"파일에서 {len(data)} B 읽음, 칸의 값과 {'같음' if ok else '다름'}",
    )
