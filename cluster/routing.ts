/**
 * The cluster check of the call path (Redis's getNodeByQuery and clusterRedirectClient): before
 * a command with keys runs, its keys (found as COMMAND GETKEYS finds them, so plugins' commands
 * route by their key specs too) must hash to one slot that this node serves. Otherwise the
 * client is told where to go:
 *
 * - `-CROSSSLOT` keys of different slots; `-TRYAGAIN` several keys of a slot being moved, some
 *   missing here
 * - `-MOVED <slot> <endpoint>:<port>` another node serves the slot
 * - `-ASK <slot> <endpoint>:<port>` we migrate the slot and a key is already gone
 * - `-CLUSTERDOWN` the cluster is down, or the slot has no owner
 *
 * An importing slot serves a client that sent ASKING (for one command, or the whole MULTI); a
 * replica serves reads of its master's slots to a READONLY client. EXEC checks every queued
 * command again, as one request. Commands from our master are never redirected.
 *
 * @module
 */

import { type Command, F, flagBits } from "../core/command.ts";
import { CF, type Client } from "../core/client.ts";
import { ErrorReply, type Reply } from "../core/resp/reply.ts";
import { commandKeySpecs } from "../commands/command_keys.ts";
import type { ClusterNode } from "./node.ts";
import { keyHashSlot } from "./slots.ts";
import type { ClusterState } from "./state.ts";

/** What the check reads besides the state. */
export interface RoutingSettings {
  /** cluster-allow-reads-when-down */
  allowReadsWhenDown(): boolean;
  /** cluster-allow-pubsubshard-when-down */
  allowPubsubshardWhenDown(): boolean;
  /** cluster-preferred-endpoint-type */
  endpointType(): string;
}

/**
 * A command's flags for this call, as Redis's getCommandFlags: a script's declared flags (a
 * shebang, a function's flags) stand for EVAL's and FCALL's own, so a writing script is a write.
 */
function callBits(client: Client, cmd: Command, argv: string[]): number {
  const flags = cmd.spec.callFlags?.(client, argv);
  return flags === undefined ? cmd.bits : flagBits(flags);
}

const SHARD_PUBSUB = new Set(["ssubscribe", "sunsubscribe", "spublish"]);

/** Commands with no key (no key spec, no key finder): never checked, except EXEC. */
const keyless = new WeakMap<Command, boolean>();

function hasNoKeys(cmd: Command): boolean {
  let none = keyless.get(cmd);
  if (none === undefined) {
    none = !SHARD_PUBSUB.has(cmd.name) && cmd.spec.getKeys === undefined &&
      commandKeySpecs(cmd).length === 0 &&
      (cmd.spec.keys === undefined || cmd.spec.keys.first === 0);
    keyless.set(cmd, none);
  }
  return none;
}

function keyPositions(cmd: Command, argv: string[]): number[] {
  // Shard channels count as keys (Redis's legacy key range of these commands names them).
  if (cmd.parent === undefined && SHARD_PUBSUB.has(cmd.name)) {
    const last = cmd.name === "spublish" ? 1 : argv.length - 1;
    const out: number[] = [];
    for (let i = 1; i <= last && i < argv.length; i++) out.push(i);
    return out;
  }
  try {
    return cmd.keyPositions(argv);
  } catch (e) {
    // Arguments the key finder refuses (EVAL s -1) have no keys; the command answers itself.
    if (e instanceof ErrorReply) return [];
    throw e;
  }
}

/**
 * The endpoint a redirection names (Redis's getPreferredEndpoint).
 *
 * @param node the node
 * @param type cluster-preferred-endpoint-type
 * @returns the ip, the hostname ("?" when it has none), or "" for unknown-endpoint
 */
export function preferredEndpoint(node: ClusterNode, type: string): string {
  if (type === "ip") return node.ip;
  if (type === "hostname") return node.hostname !== "" ? node.hostname : "?";
  return "";
}

/** The check, as a gate of the call path. */
export class Routing {
  /**
   * @param state the cluster state
   * @param settings the directives it reads
   */
  constructor(private readonly state: ClusterState, private readonly settings: RoutingSettings) {}

  /** The slot of the last request check() passed or refused (-1: no key). */
  private slot = -1;
  /**
   * For the scripts a command runs: the client whose command last passed the gate, its slot (-1:
   * none yet) and whether ASKING came before. One record, overwritten: a command's scripts run
   * right after its gate, in the same call, so no other client's command comes between.
   */
  private readonly running: { client: Client | undefined; slot: number; asking: boolean } = {
    client: undefined,
    slot: -1,
    asking: false,
  };

  /** The gate: undefined to run the command here, or the redirection/error reply. */
  readonly gate = (client: Client, cmd: Command, argv: string[]): Reply | undefined => {
    const asking = (client.flags & CF.asking) !== 0;
    // ASKING holds for one command, or for a whole transaction.
    if (
      asking && cmd.name !== "asking" && ((client.flags & CF.multi) === 0 || cmd.name === "exec")
    ) {
      client.flags &= ~CF.asking;
    }
    if ((client.flags & CF.master) !== 0) return undefined;
    const exec = cmd.name === "exec" && cmd.parent === undefined;
    if (!exec && hasNoKeys(cmd)) return undefined;
    const err = this.check(client, cmd, argv, asking);
    if (err !== undefined && exec) client.server.transactions.discard(client);
    if (err === undefined) {
      const run = this.running;
      run.client = client;
      run.slot = this.slot;
      run.asking = asking;
    }
    return err;
  };

  /**
   * The check of a command a script runs (Redis's scriptVerifyClusterState): its keys must be
   * served here, and (unless the script allows cross-slot keys) in the slot of the script's keys
   * or of the first key it touched.
   *
   * @param caller the client running the script
   * @param cmd the command the script calls
   * @param argv its arguments
   * @param allowCrossSlot the script may touch several slots
   * @returns the script error, or undefined
   */
  readonly scriptCheck = (
    caller: Client,
    cmd: Command,
    argv: string[],
    allowCrossSlot: boolean,
  ): string | undefined => {
    if ((caller.flags & CF.master) !== 0 || hasNoKeys(cmd)) return undefined;
    const run = this.running;
    if (run.client !== caller) {
      run.client = caller;
      run.slot = -1;
      run.asking = false;
    }
    const err = this.check(caller, cmd, argv, run.asking);
    if (err !== undefined) {
      if (err.message.startsWith("CLUSTERDOWN The cluster is down and only")) {
        return "ERR Script attempted to execute a write command while the cluster is down and readonly";
      }
      if (err.message === "CLUSTERDOWN The cluster is down") {
        return "ERR Script attempted to execute a command while the cluster is down";
      }
      return "ERR Script attempted to access a non local key in a cluster node";
    }
    if (this.slot !== -1 && !allowCrossSlot) {
      if (run.slot === -1) run.slot = this.slot;
      else if (run.slot !== this.slot) {
        return "ERR Script attempted to access keys that do not hash to the same slot";
      }
    }
    return undefined;
  };

  /**
   * Redis's getNodeByQuery: undefined when this node serves the request.
   *
   * @param client the caller
   * @param cmd the command (EXEC: every queued command is checked)
   * @param argv its arguments
   * @param asking the client sent ASKING
   * @returns the error or redirection
   */
  check(client: Client, cmd: Command, argv: string[], asking: boolean): ErrorReply | undefined {
    const st = this.state;
    const me = st.myself;
    let calls: Array<Command | string[]>;
    if (cmd.name === "exec" && cmd.parent === undefined) {
      if ((client.flags & CF.multi) === 0) return undefined;
      calls = client.tx!.queue;
    } else {
      calls = [cmd, argv];
    }
    // As Redis 7.4: a transaction with a sharded PUBLISH/SUBSCRIBE queued counts as sharded pub/sub
    // (a replica serves it for its master's slots).
    let shardPubsub = SHARD_PUBSUB.has(cmd.name);
    const db = client.server.dbs[0]!;
    const now = client.server.time;
    let first: string | undefined;
    let slot = 0;
    let owner: ClusterNode | undefined;
    let migrating = false;
    let importing = false;
    let multipleKeys = false;
    let missing = 0;
    let existing = 0;
    let write = (callBits(client, cmd, argv) & F.write) !== 0;
    this.slot = -1;
    for (let i = 0; i < calls.length; i += 2) {
      const c = calls[i] as Command;
      const a = calls[i + 1] as string[];
      if (c !== cmd && (callBits(client, c, a) & F.write) !== 0) write = true;
      if (c !== cmd && (c.name === "spublish" || c.name === "ssubscribe")) shardPubsub = true;
      for (const pos of keyPositions(c, a)) {
        const key = a[pos]!;
        const keySlot = keyHashSlot(key);
        if (first === undefined) {
          first = key;
          slot = keySlot;
          owner = st.slots[slot];
          if (owner === undefined) return new ErrorReply("CLUSTERDOWN Hash slot not served");
          if (owner === me && st.migratingTo[slot] !== undefined) migrating = true;
          else if (st.importingFrom[slot] !== undefined) importing = true;
        } else if (key !== first) {
          if (keySlot !== slot) {
            return new ErrorReply("CROSSSLOT Keys in request don't hash to the same slot");
          }
          multipleKeys = true;
        }
        if ((migrating || importing) && !shardPubsub) {
          const at = db.expires.size === 0 ? undefined : db.expires.get(key);
          if (db.dict.has(key) && (at === undefined || at > now)) existing++;
          else missing++;
        }
      }
    }
    if (owner === undefined) return undefined;
    this.slot = slot;
    if (st.state !== "ok") {
      if (shardPubsub) {
        if (!this.settings.allowPubsubshardWhenDown()) {
          return new ErrorReply("CLUSTERDOWN The cluster is down");
        }
      } else if (!this.settings.allowReadsWhenDown()) {
        return new ErrorReply("CLUSTERDOWN The cluster is down");
      } else if (write) {
        return new ErrorReply("CLUSTERDOWN The cluster is down and only accepts read commands");
      }
    }
    // MIGRATE moves keys of an open slot from here, whoever serves it.
    if ((migrating || importing) && cmd.name === "migrate") return undefined;
    if (migrating && missing !== 0) {
      if (existing !== 0) {
        return new ErrorReply("TRYAGAIN Multiple keys request during rehashing of slot");
      }
      return this.redirect("ASK", slot, st.migratingTo[slot]!);
    }
    if (importing && (asking || cmd.spec.flags?.includes("asking") === true)) {
      if (multipleKeys && missing !== 0) {
        return new ErrorReply("TRYAGAIN Multiple keys request during rehashing of slot");
      }
      return undefined;
    }
    if (
      ((client.flags & CF.readonlyCluster) !== 0 || shardPubsub) && !write && me.isReplica &&
      me.replicaOf === owner
    ) return undefined;
    return owner === me ? undefined : this.redirect("MOVED", slot, owner);
  }

  private redirect(kind: "MOVED" | "ASK", slot: number, node: ClusterNode): ErrorReply {
    return new ErrorReply(
      `${kind} ${slot} ${preferredEndpoint(node, this.settings.endpointType())}:${node.port}`,
    );
  }
}
