/**
 * The write gates of replication, as processCommand applies them:
 *
 * - `NOREPLICAS`: a master with `min-replicas-to-write` N refuses writes while fewer than N
 *   replicas acknowledged within `min-replicas-max-lag` seconds;
 * - `READONLY`: a replica with `replica-read-only yes` refuses writes except from its master;
 * - `MASTERDOWN`: a replica whose link is down, with `replica-serve-stale-data no`, refuses
 *   everything but the commands flagged `stale` (INFO, REPLICAOF, ...).
 *
 * The gate is installed only while one of these can apply: it runs before every command.
 *
 * @module
 */

import { CF, type Client } from "../core/client.ts";
import { type Command, F } from "../core/command.ts";
import { ErrorReply } from "../core/resp/reply.ts";
import type { Server } from "../core/server.ts";
import type { MasterSide } from "./master.ts";
import type { ReplicaSide } from "./replica.ts";

const NOREPLICAS = new ErrorReply("NOREPLICAS Not enough good replicas to write.");
const READONLY = new ErrorReply("READONLY You can't write against a read only replica.");
const MASTERDOWN = new ErrorReply(
  "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
);

/** A write, or an EXEC whose queue holds one. */
function isWrite(client: Client, cmd: Command): boolean {
  if ((cmd.bits & F.write) !== 0) return true;
  return cmd.name === "exec" &&
    client.tx?.queue.some((c) => !Array.isArray(c) && (c.bits & F.write) !== 0) === true;
}

/** Installs and removes the replication gate as the role and config change. */
export class ReplicationGates {
  private installed = false;

  /**
   * @param server the server
   * @param master its replicas (for the count of good ones)
   * @param replica its link to a master
   */
  constructor(
    private readonly server: Server,
    private readonly master: MasterSide,
    private readonly replica: ReplicaSide,
  ) {
    server.config.onChange((name) => {
      if (name === "min-replicas-to-write" || name === "min-replicas-max-lag") this.update();
    });
    this.update();
  }

  /** Re-checks whether the gate is needed (call after a role change). */
  update(): void {
    const config = this.server.config;
    const need = this.server.masterHost !== undefined ||
      (config.num("min-replicas-to-write") > 0 && config.num("min-replicas-max-lag") > 0);
    this.server.noReplicasError = config.num("min-replicas-to-write") > 0 &&
        config.num("min-replicas-max-lag") > 0 && this.server.masterHost === undefined
      ? () =>
        this.master.goodReplicas(config.num("min-replicas-max-lag")) <
            config.num("min-replicas-to-write")
          ? NOREPLICAS
          : undefined
      : undefined;
    if (need === this.installed) return;
    this.installed = need;
    if (need) this.server.addGate(this.gate, 40);
    else this.server.removeGate(this.gate);
  }

  private readonly gate = (client: Client, cmd: Command): ErrorReply | undefined => {
    if ((client.flags & CF.master) !== 0) return undefined;
    const server = this.server;
    const config = server.config;
    if (server.masterHost === undefined) {
      const min = config.num("min-replicas-to-write");
      const lag = config.num("min-replicas-max-lag");
      if (min > 0 && lag > 0 && isWrite(client, cmd) && this.master.goodReplicas(lag) < min) {
        return NOREPLICAS;
      }
      return undefined;
    }
    if (config.bool("replica-read-only") && isWrite(client, cmd)) return READONLY;
    if (
      this.replica.state !== "connected" && !config.bool("replica-serve-stale-data") &&
      (cmd.bits & F.stale) === 0
    ) {
      return MASTERDOWN;
    }
    return undefined;
  };
}
