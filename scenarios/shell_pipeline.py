"""shell-pipeline: an ordinary shell pipeline, watched from the outside through /proc alone."""

from ipcviz.scenario import Scenario

scenario = Scenario(
    "shell-pipeline",
    "A shell pipeline, seen through /proc: seq | grep | wc",
    teaches=["T6", "T4", "T7", "T8", "T23"],
    description=(
        "`seq 1 200000 | grep 7 | wc -l`, run by an ordinary shell: nothing in it knows about "
        "ipcviz. The shell made two anonymous pipes and forked three programs. ipcviz finds the "
        "pipes through /proc/PID/fd (ends matched by inode) and shows their fill level and "
        "contents from kernel probes alone. The last stage starts late, so you can watch the "
        "pipes fill up to their 64 KiB capacity and the writers block."
    ),
    params={"n": 200000, "delay": 1.0},
    limits={"n": (200000, 200000), "delay": (1.0, 1.0)},  # in the argv, fixed
    timeout=60,
    title_ko="/proc으로 본 셸 파이프라인: seq | grep | wc",
    description_ko=(
        "평범한 셸이 실행하는 `seq 1 200000 | grep 7 | wc -l`입니다. 그 안의 어느 것도 ipcviz를 "
        "모릅니다. 셸은 익명 파이프 두 개를 만들고 프로그램 세 개를 fork했습니다. ipcviz는 "
        "/proc/PID/fd로 파이프를 찾고(끝은 inode로 짝짓습니다), 커널 프로브만으로 파이프가 얼마나 "
        "찼는지와 그 내용을 보여 줍니다. 마지막 단계가 늦게 시작하므로, 파이프가 64 KiB 용량까지 "
        "차고 쓰는 쪽이 블록되는 모습을 볼 수 있습니다."
    ),
)
scenario.step(
    "pipeline",
    "The shell makes two pipes: seq writes into the first, grep reads it and writes the second, "
    "wc reads the second. Each arrow is a one-way pipe found in /proc.",
    "셸이 파이프 두 개를 만듭니다. seq가 첫 번째에 쓰고, grep이 그것을 읽어 두 번째에 쓰며, "
    "wc가 두 번째를 읽습니다. 각 화살표는 /proc에서 찾은 단방향 파이프입니다.",
    teaches=["T4", "T7"],
)
#: A command's argv is fixed when the scenario is declared (a --quick run uses it as is).
#: Not traced: this scenario shows what the kernel probes alone can see.
scenario.command(
    "pipeline",
    [
        "sh",
        "-c",
        'seq 1 "$0" | grep 7 | { sleep "$1"; wc -l; }',
        str(scenario.params["n"]),
        str(scenario.params["delay"]),
    ],
    trace=False,  # the lesson: what /proc alone shows (``fifo-grep`` shows a traced one)
    step="pipeline",  # said as it starts: nothing in a shell pipeline can say it
)


@scenario.check("the pipeline finished normally", ko="파이프라인이 정상적으로 끝났다")
def finished(run):
    return run.exits.get("pipeline", {}).get("code") == 0


@scenario.check(
    "ipcviz found the pipeline's two pipes from /proc alone, and probed them",
    ko="ipcviz는 /proc만으로 파이프라인의 파이프 두 개를 찾아 프로브했다",
)
def found(run):
    auto = [o for o in run.state.objects.values() if o.info.get("discovered")]
    probed = [o for o in auto if o.kernel]
    return (
        len(auto) >= 2 and len(probed) >= 2,
        f"{len(auto)} pipes found, {len(probed)} probed",
        f"찾은 파이프 {len(auto)}개, 프로브한 파이프 {len(probed)}개",
    )
