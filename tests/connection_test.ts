import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";

test("PING, ECHO and SELECT reply with Redis's exact bytes", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    c.send("PING\r\n");
    assert.equal(await c.expect("+PONG\r\n"), "+PONG\r\n");
    c.command("PING", "hi");
    assert.equal(await c.expect("$2\r\nhi\r\n"), "$2\r\nhi\r\n");
    c.command("ECHO", "a\r\nb");
    assert.equal(await c.expect("$4\r\na\r\nb\r\n"), "$4\r\na\r\nb\r\n");
    c.command("SELECT", "16");
    assert.equal(
      await c.expect("-ERR DB index is out of range\r\n"),
      "-ERR DB index is out of range\r\n",
    );
    c.command("SELECT", "x");
    const notInt = "-ERR value is not an integer or out of range\r\n";
    assert.equal(await c.expect(notInt), notInt);
    c.command("SELECT", "3");
    c.command("SET", "k", "v3");
    c.command("SELECT", "0");
    c.command("GET", "k");
    assert.equal(await c.expect("+OK\r\n+OK\r\n+OK\r\n$-1\r\n"), "+OK\r\n+OK\r\n+OK\r\n$-1\r\n");
    c.command("PING", "a", "b");
    const arity = "-ERR wrong number of arguments for 'ping' command\r\n";
    assert.equal(await c.expect(arity), arity);
  } finally {
    c.close();
    await close();
  }
});

test("HELLO 3 switches to RESP3 maps, doubles and nulls; HELLO 4 is NOPROTO", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    c.command("HELLO", "4");
    const noproto = "-NOPROTO unsupported protocol version\r\n";
    assert.equal(await c.expect(noproto), noproto);
    c.command("HELLO", "3");
    const head = await c.read(1);
    assert.equal(head, "%");
    await new Promise((r) => setTimeout(r, 50));
    const rest = c.pending;
    assert.match(
      rest,
      /^7\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n\$7\r\nversion\r\n\$5\r\n7\.4\.1\r\n\$5\r\nproto\r\n:3\r\n/,
    );
    await c.read(rest.length);
    c.command("GET", "missing");
    assert.equal(await c.expect("_\r\n"), "_\r\n");
    c.command("CONFIG", "GET", "port");
    const portLine = `%1\r\n$4\r\nport\r\n$${String(port).length}\r\n${port}\r\n`;
    assert.equal(await c.expect(portLine), portLine);
  } finally {
    c.close();
    await close();
  }
});

test("requirepass: NOAUTH before AUTH, WRONGPASS on a bad password, then commands work", async () => {
  const { port, close } = await startServer({ config: { requirepass: "s3cret" } });
  const c = await RawConn.connect(port);
  try {
    c.command("GET", "k");
    const noauth = "-NOAUTH Authentication required.\r\n";
    assert.equal(await c.expect(noauth), noauth);
    c.command("AUTH", "nope");
    const wrong = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
    assert.equal(await c.expect(wrong), wrong);
    c.command("AUTH", "default", "s3cret");
    c.command("GET", "k");
    assert.equal(await c.expect("+OK\r\n$-1\r\n"), "+OK\r\n$-1\r\n");
    c.command("RESET");
    c.command("GET", "k");
    assert.equal(await c.expect("+RESET\r\n" + noauth), "+RESET\r\n" + noauth);
  } finally {
    c.close();
    await close();
  }
});

test("AUTH without a configured password gives Redis's hint", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    c.command("AUTH", "x");
    const msg =
      "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n";
    assert.equal(await c.expect(msg), msg);
  } finally {
    c.close();
    await close();
  }
});

test("QUIT replies OK and closes; unknown commands quote their arguments", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    c.command("FOO", "a", "b");
    const unknown = "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n";
    assert.equal(await c.expect(unknown), unknown);
    c.command("CONFIG", "NOPE");
    const sub = "-ERR unknown subcommand 'NOPE'. Try CONFIG HELP.\r\n";
    assert.equal(await c.expect(sub), sub);
    c.command("QUIT");
    assert.equal(await c.expect("+OK\r\n"), "+OK\r\n");
    assert.equal(await c.waitClosed(), true);
  } finally {
    c.close();
    await close();
  }
});

test("CLIENT REPLY OFF and SKIP suppress replies; ON resumes", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    c.command("CLIENT", "REPLY", "SKIP");
    c.command("SET", "a", "1");
    c.command("GET", "a");
    assert.equal(await c.expect("$1\r\n1\r\n"), "$1\r\n1\r\n");
    c.command("CLIENT", "REPLY", "OFF");
    c.command("SET", "a", "2");
    c.command("GET", "a");
    c.command("CLIENT", "REPLY", "ON");
    c.command("GET", "a");
    assert.equal(await c.expect("+OK\r\n$1\r\n2\r\n"), "+OK\r\n$1\r\n2\r\n");
  } finally {
    c.close();
    await close();
  }
});

test("an inline line with a NUL before its newline waits, as Redis's strchr does", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  const other = await RawConn.connect(port);
  try {
    c.send("ECHO a\0b\r\n");
    other.send("PING\r\n");
    assert.equal(await other.expect("+PONG\r\n"), "+PONG\r\n");
    assert.equal(c.pending, "");
    assert.equal(c.closed, false);
  } finally {
    c.close();
    other.close();
    await close();
  }
});
