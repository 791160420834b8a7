/**
 * Output buffer limits of client connections, as Redis enforces them
 * (`checkClientOutputBufferLimits`): `client-output-buffer-limit <class> <hard> <soft> <seconds>`
 * closes a client whose unsent replies reach `hard` bytes at once, or stay at `soft` bytes or more
 * for longer than `seconds`. The classes are `normal` (the master link counts as normal, and so
 * do MONITOR clients) and `pubsub`; replicas are fed through their own channel, which applies the
 * `replica` class (replication/channel.ts).
 *
 * A client that has not authenticated while a password is required gets no more than Redis's
 * 16 KB reply buffer of unsent output, whatever the limits say (Redis's fix for CVE-2025-21605):
 * a flood of commands whose NOAUTH errors are never read is cut off at once.
 *
 * @module
 */

import { CF, type Client } from "./client.ts";
import { clientInfoLine } from "./client_info.ts";
import { parseObufLimits } from "./config_defs.ts";
import type { Server } from "./server.ts";

/**
 * Unsent output an unauthenticated client may have: Redis's static reply buffer (16 KB). Past it
 * Redis allocates a reply block of at least 16 KB, which is over its 1 KB cap for such clients.
 */
export const UNAUTH_OUTPUT_LIMIT = 16 * 1024;

/** One class's limits, in bytes and milliseconds (0 disables). */
interface ClassLimits {
  hard: number;
  soft: number;
  softMs: number;
}

const NONE: ClassLimits = { hard: 0, soft: 0, softMs: 0 };

/** The least bytes one element of an array reply takes in RESP (`$0\r\n\r\n`). */
export const MIN_ELEMENT_BYTES = 6;

/** The output buffer limits of a server's client classes, kept in step with its config. */
export class OutputLimits {
  private normal: ClassLimits = NONE;
  private pubsub: ClassLimits = NONE;

  /** @param server the server whose clients are limited */
  constructor(private readonly server: Server) {
    this.read(server.config.str("client-output-buffer-limit"));
    server.config.onChange((name, value) => {
      if (name === "client-output-buffer-limit") this.read(String(value));
    });
  }

  private read(text: string): void {
    for (const l of parseObufLimits(text)) {
      const limits = { hard: l.hard, soft: l.soft, softMs: l.seconds * 1000 };
      if (l.cls === "normal") this.normal = limits;
      else if (l.cls === "pubsub") this.pubsub = limits;
    }
  }

  /**
   * Closes `client` if `pending` bytes of unsent output put it over its class's limits.
   *
   * @param client a client with a socket
   * @param pending its unsent output in bytes
   * @returns true when the client was closed
   */
  check(client: Client, pending: number): boolean {
    const flags = client.flags;
    if (flags & (CF.replica | CF.closed)) return false;
    if (flags & CF.unauthenticated && pending > UNAUTH_OUTPUT_LIMIT) {
      return this.overflow(client);
    }
    const l = flags & CF.pubsub ? this.pubsub : this.normal;
    if (l.hard !== 0 && pending >= l.hard) return this.overflow(client);
    if (l.soft === 0 || pending < l.soft) {
      client.obufSoftSince = 0;
      return false;
    }
    const now = this.server.clock.now();
    if (client.obufSoftSince === 0) {
      client.obufSoftSince = now;
      return false;
    }
    // Redis needs the soft limit held for more than the seconds given.
    if (now - client.obufSoftSince <= l.softMs) return false;
    return this.overflow(client);
  }

  /**
   * Whether a reply of at least `bytes` may be built for `client`. One that by itself reaches the
   * client's hard limit closes the client instead: Redis closes it while building such a reply
   * (`HRANDFIELD key -999999999`), so the reply is never whole either way.
   *
   * @param client the client the reply is for
   * @param bytes the least the reply will take
   * @returns false when the client was closed
   */
  replyFits(client: Client, bytes: number): boolean {
    const flags = client.flags;
    if (client.transport === null || flags & (CF.replica | CF.closed)) return true;
    const hard = flags & CF.unauthenticated
      ? UNAUTH_OUTPUT_LIMIT
      : (flags & CF.pubsub ? this.pubsub : this.normal).hard;
    if (hard === 0 || bytes < hard) return true;
    this.overflow(client);
    return false;
  }

  private overflow(client: Client): boolean {
    this.server.log(
      "warning",
      `Client ${
        clientInfoLine(client)
      } scheduled to be closed ASAP for overcoming of output buffer limits.`,
    );
    this.server.stats.outputBufferLimitDisconnections++;
    client.close();
    return true;
  }
}
