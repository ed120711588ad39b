// Parse SDK workload for bench/reactive, printing one JSON line.
// node bench.js create <port> <seconds> <clients>   -> {"rate": saves/s}
// node bench.js live <port> <subscribers> <rounds>  -> latency samples per round (ms)
import Parse from "parse/node";

const [mode, port, a, b] = process.argv.slice(2);
Parse.initialize("bench", "bench-js");
Parse.serverURL = `http://127.0.0.1:${port}/parse`;
const body = "x".repeat(64);

async function create(seconds, clients) {
  const deadline = performance.now() + seconds * 1000;
  let count = 0;
  const loop = async (i) => {
    while (performance.now() < deadline) {
      await new Parse.Object("Message").save({ room: `w${i}`, seq: count, body });
      count++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: clients }, (_, i) => loop(i)));
  return { rate: count / ((performance.now() - start) / 1000) };
}

async function live(n, rounds) {
  await new Parse.Object("Message").save({ room: "setup", seq: -1, body });
  const arrivals = Array.from({ length: n }, () => new Map());
  const clients = [];
  for (let i = 0; i < n; i++) {
    const client = new Parse.LiveQueryClient({
      applicationId: "bench",
      serverURL: `ws://127.0.0.1:${port}/parse`,
      javascriptKey: "bench-js",
    });
    client.open();
    const query = new Parse.Query("Message").equalTo("room", `lq${n}`);
    const sub = await client.subscribe(query);
    await new Promise((resolve) => sub.on("open", resolve));
    sub.on("create", (obj) => arrivals[i].set(obj.get("seq"), performance.now()));
    clients.push(client);
  }
  const samples = [];
  for (let seq = 1; seq <= rounds; seq++) {
    const t0 = performance.now();
    await new Parse.Object("Message").save({ room: `lq${n}`, seq, body });
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline && !arrivals.every((m) => m.has(seq))) {
      await new Promise((r) => setTimeout(r, 1));
    }
    samples.push(arrivals.filter((m) => m.has(seq)).map((m) => m.get(seq) - t0));
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const c of clients) c.close();
  return { samples };
}

const result = mode === "create" ? await create(Number(a), Number(b)) : await live(Number(a), Number(b));
// Exit only once the (large) line is flushed: a piped stdout is written asynchronously.
process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(0));
