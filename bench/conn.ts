/**
 * A connection for the benchmarks' own few commands (INFO, SAVE, REPLICAOF...): one command at a
 * time, each reply read whole.
 *
 * @module
 */

import * as net from "node:net";

/** One connection to 127.0.0.1 sending inline commands. */
export class Conn {
  private buf = "";
  private wake: (() => void) | undefined;
  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      this.buf += d;
      this.wake?.();
    });
  }

  /**
   * Connects.
   *
   * @param port the server's port
   * @returns the connection
   * @example
   * ```ts ignore
   * const c = await Conn.open(6379);
   * console.log(await c.send("PING")); // "PONG"
   * c.close();
   * ```
   */
  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: "127.0.0.1" }, () => resolve(new Conn(s)));
      s.once("error", reject);
    });
  }

  /** Sends `text` and resolves with one whole reply (a status/error/integer or a bulk). */
  async call(text: string): Promise<string> {
    this.buf = "";
    this.socket.write(text);
    for (;;) {
      const eol = this.buf.indexOf("\r\n");
      if (eol >= 0) {
        if (this.buf[0] !== "$") return this.buf;
        const len = Number(this.buf.slice(1, eol));
        if (len < 0 || this.buf.length >= eol + 4 + len) return this.buf;
      }
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  /**
   * Sends one inline command and resolves with the text of its reply: a status line without
   * its `+`, an integer, or a bulk's body. An error reply rejects.
   */
  async send(line: string): Promise<string> {
    const reply = await this.call(`${line}\r\n`);
    const eol = reply.indexOf("\r\n");
    if (reply[0] === "-") throw new Error(`${line}: ${reply.slice(1, eol)}`);
    if (reply[0] !== "$") return reply.slice(1, eol);
    return reply.slice(eol + 2, eol + 2 + Number(reply.slice(1, eol)));
  }

  /** Closes the connection. */
  close(): void {
    this.socket.destroy();
  }
}
