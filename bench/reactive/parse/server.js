// Parse Server 9 with an in-process LiveQuery server on PostgreSQL (bench/reactive baseline).
// Usage: node server.js <port> <postgres database URI>
import http from "node:http";
import express from "express";
import { ParseServer } from "parse-server";

const [port, databaseURI] = process.argv.slice(2);
const serverURL = `http://127.0.0.1:${port}/parse`;
const server = new ParseServer({
  databaseURI,
  appId: "bench",
  masterKey: "bench-master",
  javascriptKey: "bench-js",
  serverURL,
  allowClientClassCreation: true,
  liveQuery: { classNames: ["Message"] },
  logLevel: "error",
  silent: true,
});
await server.start();
const app = express();
app.use("/parse", server.app);
const httpServer = http.createServer(app);
httpServer.listen(Number(port), "127.0.0.1", async () => {
  await ParseServer.createLiveQueryServer(httpServer);
  console.log("ready");
});
