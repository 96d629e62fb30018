"""A System V client/server: requests of type 1, each reply typed with the client's number."""

from ipcviz.scenario import Scenario

scenario = Scenario("sysv-server", "System V client/server", params={"n": 5}, quick={"n": 5})
q = scenario.sysv_queue("q")
CLIENTS = 3


@scenario.process("server")
def server(ctx):
    for _ in range(CLIENTS * ctx.params["n"]):
        data, _ = q.receive(1)
        client, body = data.split(b":", 1)
        q.send(body.upper(), mtype=2 + int(client))


@scenario.process("client", count=CLIENTS)
def client(ctx):
    got = 0
    for i in range(ctx.params["n"]):
        q.send(f"{ctx.index}:hello {i}".encode(), mtype=1)
        reply, mtype = q.receive(2 + ctx.index)
        got += reply == f"HELLO {i}".encode() and mtype == 2 + ctx.index
    ctx.report("got", got)


@scenario.check("every client got its own replies")
def replies(run):
    n = run.params["n"]
    return all(run.report(f"client{i + 1}", "got") == n for i in range(CLIENTS))
